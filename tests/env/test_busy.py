"""busy.py: the completion check against real pip and uv runs, and hand-made states.

The "during" tests start a real installer in a subprocess and poll the check every couple of
milliseconds until it exits. A "false done" is a moment where the on-disk check said None while
the installer still ran, after it had started writing (the check said busy once) and before the
env was complete; measured with real pip and uv, those are only gaps of <= 11 ms between
distributions.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

from testing.venvs import UV, make_venv, pip, run
from testing.wheelhouse import build_wheel, write_wheel
from venvsyncd.env.busy import (
    file_signature,
    install_in_progress,
    record_tops,
    site_signature,
    uv_lock_held,
)
from venvsyncd.env.installer import Installer, venv_lock
from venvsyncd.env.processes import installer_processes, installer_target
from venvsyncd.env.venvs import Venv, load_venv

slow = pytest.mark.slow
SLOW_MODULES = 250  # pip compiles these for about a second
FALSE_DONE_LIMIT = 0.2
HOUR = 3600.0


# --- helpers -------------------------------------------------------------------------------


def slow_wheel(dest: Path, name: str, version: str, modules: int = SLOW_MODULES) -> Path:
    """A wheel whose many modules keep pip's compile step busy for a while."""
    info = f"{name}-{version}.dist-info"
    body = "\n".join(f"def f{i}(x):\n    return [x * {i} for _ in range({i})]\n" for i in range(60))
    files = {f"{name}/m{i}.py": body.encode() for i in range(modules)}
    files[f"{name}/__init__.py"] = f"__version__ = {version!r}\n".encode()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    return write_wheel(dest / f"{name}-{version}-py3-none-any.whl", files, info)


def solo_wheel(dest: Path) -> Path:
    """A single-module distribution (`solo.py`): its `__pycache__` is top-level."""
    info = "solo-1.0.dist-info"
    files = {
        "solo.py": b"X = 1\n",
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: solo\nVersion: 1.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    return write_wheel(dest / "solo-1.0-py3-none-any.whl", files, info)


@pytest.fixture(scope="module")
def slow_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    dest = tmp_path_factory.mktemp("slow-wheels")
    return {v: slow_wheel(dest, "slowpkg", v) for v in ("1.0", "2.0")}


def bare_venv(root: Path) -> Venv:
    run([sys.executable, "-m", "venv", "--without-pip", root])
    return load_venv(root)


class Sample(NamedTuple):
    at: float
    running: bool  # the installer still ran after this sample's checks
    disk: str | None  # install_in_progress(processes=False): the lock and site-packages
    full: str | None  # install_in_progress with the process check
    pids: tuple[int, ...]
    complete: bool | None  # judged only when `disk` said None


def watch(
    proc: subprocess.Popen[bytes], venv: Venv, fresh_after: float, complete: Callable[[], bool]
) -> list[Sample]:
    samples = []
    deadline = time.monotonic() + 120
    while True:
        disk = install_in_progress(venv, fresh_after=fresh_after, processes=False)
        full = install_in_progress(venv, fresh_after=fresh_after)
        pids = tuple(installer_processes(venv))
        done = complete() if disk is None else None
        running = proc.poll() is None
        samples.append(Sample(time.monotonic(), running, disk, full, pids, done))
        if not running:
            return samples
        assert time.monotonic() < deadline, "installer did not finish"
        time.sleep(0.001)  # pacing only: leave a CPU to the installer


def longest_false_done(samples: Sequence[Sample], field: str) -> float:
    longest, start, started = 0.0, None, False
    for s in samples:
        said: str | None = getattr(s, field)
        started = started or (s.running and said is not None)
        bad = started and s.running and said is None and s.complete is False
        if bad and start is None:
            start = s.at
        elif not bad and start is not None:
            longest, start = max(longest, s.at - start), None
    return longest


def settled(venv: Venv, present: Iterable[str], absent: Iterable[str]) -> bool:
    """No stash, every `present` dist-info finished (INSTALLER, RECORD rewritten), no `absent`."""
    sp = venv.site_packages
    try:
        if any(p.name.startswith("~") for p in sp.iterdir()):
            return False
        for name in present:
            info = sp / name
            if any(p.suffix == ".tmp" for p in info.iterdir()):
                return False
            installer, record = (info / "INSTALLER").stat(), (info / "RECORD").stat()
            if record.st_mtime_ns < installer.st_mtime_ns:
                return False
    except FileNotFoundError:
        return False
    return not any((sp / name).exists() for name in absent)


def check_run(
    name: str, proc: subprocess.Popen[bytes], samples: list[Sample], venv: Venv, fresh_after: float
) -> None:
    """(a) busy seen while it ran, (b) None after it exited, (c) false-done streaks short."""
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    reasons = sorted({s.disk for s in samples if s.running and s.disk})
    assert reasons, f"{name}: never busy in {len(samples)} samples"
    assert install_in_progress(venv, fresh_after=fresh_after) is None
    disk, full = longest_false_done(samples, "disk"), longest_false_done(samples, "full")
    print(
        f"\n{name}: {len(samples)} samples, longest false done: disk check "
        f"{disk * 1e3:.1f} ms, with processes {full * 1e3:.1f} ms; reasons: {reasons[:4]}"
    )
    assert disk < FALSE_DONE_LIMIT
    assert full < FALSE_DONE_LIMIT
    assert any(proc.pid in s.pids for s in samples if s.running)


def popen(argv: Sequence[str | os.PathLike[str]], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [os.fspath(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs
    )


# --- finished venvs ---------------------------------------------------------------------------


@slow
def test_finished_venvs_are_not_busy(tmp_path: Path) -> None:
    start = time.time() - 1  # everything below is fresh: the strictest setting
    venv = make_venv(tmp_path / "v", "alpha==1.0", "beta")
    assert install_in_progress(venv, fresh_after=start) is None
    run([UV, "pip", "install", "--python", venv.python, "gamma", "delta", solo_wheel(tmp_path)])
    assert install_in_progress(venv, fresh_after=start) is None
    writes_pyc = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run([venv.python, "-c", "import solo, alpha"], env=writes_pyc)  # a __pycache__ no one claims
    assert (venv.site_packages / "__pycache__").is_dir()
    assert install_in_progress(venv, fresh_after=start) is None
    pip(venv, "install", "-U", "alpha==2.0")
    pip(venv, "uninstall", "-y", "beta")
    assert install_in_progress(venv, fresh_after=start) is None
    assert installer_processes(venv) == []


# --- during real installer runs ---------------------------------------------------------------


@slow
def test_busy_during_pip_install(tmp_path: Path, slow_wheels: dict[str, Path]) -> None:
    venv = make_venv(tmp_path / "v")
    fresh_after = time.time() - 1
    names = ["alpha", "beta", "delta", "eta", "Foo_Bar", "gamma"]
    proc = popen([venv.python, "-m", "pip", "install", slow_wheels["1.0"], *names])
    infos = [
        "slowpkg-1.0.dist-info",
        "alpha-2.0.dist-info",
        "beta-1.0.dist-info",
        "delta-1.0.dist-info",
        "eta-1.0.dist-info",
        "Foo_Bar-1.0.dist-info",
        "gamma-1.0.dist-info",
    ]
    samples = watch(proc, venv, fresh_after, lambda: settled(venv, infos, ()))
    check_run("pip install", proc, samples, venv, fresh_after)


@slow
def test_busy_during_pip_upgrade(tmp_path: Path, slow_wheels: dict[str, Path]) -> None:
    venv = make_venv(tmp_path / "v", os.fspath(slow_wheels["1.0"]), "alpha==1.0")
    fresh_after = time.time() - 1
    # relative argv[0]: installer_processes resolves it against the process's cwd
    upgrade = ["install", "-U", os.fspath(slow_wheels["2.0"]), "alpha==2.0"]
    proc = popen(["bin/python", "-m", "pip", *upgrade], cwd=venv.root)
    present = ["slowpkg-2.0.dist-info", "alpha-2.0.dist-info"]
    absent = ["slowpkg-1.0.dist-info", "alpha-1.0.dist-info"]
    samples = watch(proc, venv, fresh_after, lambda: settled(venv, present, absent))
    check_run("pip upgrade", proc, samples, venv, fresh_after)
    assert any(s.disk and s.disk.startswith("pip stash ~") for s in samples)


@slow
def test_busy_during_pip_uninstall(tmp_path: Path, slow_wheels: dict[str, Path]) -> None:
    venv = make_venv(tmp_path / "v", os.fspath(slow_wheels["1.0"]), "alpha==1.0")
    fresh_after = time.time() - 1
    # a bare `python` found on the activated PATH: resolved through /proc/PID/environ
    env = {
        **os.environ,
        "PATH": f"{venv.root / 'bin'}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv.root),
    }
    proc = popen(["python", "-m", "pip", "uninstall", "-y", "slowpkg", "alpha"], env=env)
    absent = ["slowpkg-1.0.dist-info", "alpha-1.0.dist-info", "slowpkg", "alpha"]
    samples = watch(proc, venv, fresh_after, lambda: settled(venv, (), absent))
    check_run("pip uninstall", proc, samples, venv, fresh_after)


@slow
def test_busy_during_uv_install(tmp_path: Path, slow_wheels: dict[str, Path]) -> None:
    venv = make_venv(tmp_path / "v")
    fresh_after = time.time() - 1
    wheel = os.fspath(slow_wheels["1.0"])
    proc = popen(
        [
            UV,
            "pip",
            "install",
            "--python",
            str(venv.python),
            "--compile-bytecode",
            wheel,
            "alpha",
            "beta",
        ]
    )
    infos = ["slowpkg-1.0.dist-info", "alpha-2.0.dist-info", "beta-1.0.dist-info"]
    samples = watch(proc, venv, fresh_after, lambda: settled(venv, infos, ()))
    check_run("uv install", proc, samples, venv, fresh_after)
    assert any(s.disk == f"uv holds {venv.root / '.lock'}" for s in samples if s.running)
    assert not uv_lock_held(venv)


def read_stderr_until(proc: subprocess.Popen[bytes], marker: bytes, seconds: float) -> bytes:
    assert proc.stderr is not None
    seen, deadline = b"", time.monotonic() + seconds
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0 and proc.poll() is None, f"no {marker!r} in {seen.decode()[-2000:]}"
        if select.select([proc.stderr], [], [], left)[0]:
            seen += os.read(proc.stderr.fileno(), 65536)
    return seen


@slow
def test_our_lock_makes_uv_wait(tmp_path: Path) -> None:
    venv = bare_venv(tmp_path / "v")
    with venv_lock(venv, Installer("pip")):
        assert uv_lock_held(venv)  # our own lock, through another open file, counts
        proc = popen([UV, "-v", "pip", "install", "--python", venv.python, "alpha"])
        read_stderr_until(proc, b"Waiting to acquire exclusive lock", 60)
        assert installer_processes(venv) == [proc.pid]
        deadline = time.monotonic() + 0.3  # it stays blocked while we hold the lock
        while time.monotonic() < deadline:
            assert proc.poll() is None
            assert not (venv.site_packages / "alpha-2.0.dist-info").exists()
            time.sleep(0.01)
    assert proc.wait(60) == 0
    assert (venv.site_packages / "alpha-2.0.dist-info" / "RECORD").is_file()
    assert not uv_lock_held(venv)


@slow
def test_installer_processes_finds_pip_for_its_venv_only(
    tmp_path: Path, slow_wheels: dict[str, Path]
) -> None:
    venv = make_venv(tmp_path / "v")
    other = bare_venv(tmp_path / "other")
    proc = popen([venv.root / "bin" / "pip", "install", slow_wheels["1.0"]])  # via its shebang
    later = time.time() + HOUR  # nothing on disk is fresh: only the process can say busy
    found, reason, deadline = False, None, time.monotonic() + 60
    while not found and proc.poll() is None and time.monotonic() < deadline:
        found = proc.pid in installer_processes(venv)
        reason = install_in_progress(venv, fresh_after=later)
        assert installer_processes(other) == []
        assert proc.pid not in installer_processes(venv, exclude=[proc.pid])
        assert install_in_progress(venv, fresh_after=later, exclude=[proc.pid]) is None
    still_running = proc.poll() is None
    assert proc.wait() == 0
    assert found and still_running
    assert reason == f"pip or uv process {proc.pid} runs on this venv"
    assert installer_processes(venv) == []


# --- hand-made states -------------------------------------------------------------------------


def fake_venv(tmp_path: Path) -> Venv:
    site = tmp_path / "v" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    return Venv(tmp_path / "v", False, (3, 11, 0), site, False, None)


def put(sp: Path, rel: str, text: str = "") -> None:
    path = sp / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if rel.endswith("/"):
        path.mkdir(exist_ok=True)
    else:
        path.write_text(text)


def dist(sp: Path, kind: str) -> None:
    """alpha 1.0 as pip leaves it ("finished"), or "no INSTALLER" / "no RECORD" yet.

    "quoted" is a finished one whose package is named `we,ird`: its RECORD row is quoted.
    """
    top = "we,ird" if kind == "quoted" else "alpha"
    put(sp, f"{top}/__init__.py")
    put(sp, f"{INFO}/METADATA", "Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\n")
    if kind != "no INSTALLER":
        put(sp, f"{INFO}/INSTALLER", "pip\n")
    if kind != "no RECORD":
        row = f'"{top}/__init__.py"' if "," in top else f"{top}/__init__.py"
        put(sp, f"{INFO}/RECORD", f"{row},,\n{INFO}/METADATA,,\n{INFO}/RECORD,,\n")


INFO = "alpha-1.0.dist-info"
ALL_OLD = dict.fromkeys(("alpha", INFO, f"{INFO}/RECORD", f"{INFO}/INSTALLER"), HOUR)
OLD_INFO = dict.fromkeys((INFO, f"{INFO}/RECORD", f"{INFO}/INSTALLER"), HOUR)

# (id, alpha's state or "" for none, more paths to create (dirs end in /),
#  {path: age in seconds}, the reason expected (a substring) or None); fresh_after is now - 60
STATES: list[tuple[str, str, tuple[str, ...], dict[str, float], str | None]] = [
    ("finished, fresh", "finished", (), {}, None),
    ("finished, old", "finished", (), ALL_OLD, None),
    ("fresh stash dir", "finished", ("~lpha/",), {}, "pip stash ~lpha present"),
    ("fresh stash dist-info", "", ("~lpha-1.0.dist-info/",), {}, "pip stash"),
    ("old stash left behind", "finished", ("~lpha/x.py",), {"~lpha": HOUR}, None),
    ("no INSTALLER", "no INSTALLER", (), {}, f"{INFO} has no INSTALLER yet"),
    ("old, no INSTALLER", "no INSTALLER", (), {"alpha": HOUR, INFO: HOUR}, None),
    ("no RECORD", "no RECORD", (), {}, f"{INFO} has no RECORD yet"),
    ("RECORD older than INSTALLER", "finished", (), {f"{INFO}/RECORD": 5}, "RECORD older"),
    (
        "RECORD as old as INSTALLER",
        "finished",
        (),
        {f"{INFO}/RECORD": 5, f"{INFO}/INSTALLER": 5},
        None,
    ),
    ("pip's RECORD tmp", "finished", (f"{INFO}/RECORDk2j3h4.tmp",), {}, f"a .tmp file in {INFO}"),
    ("tempfile's .tmp", "finished", (f"{INFO}/.tmpAbC12",), {}, f"a .tmp file in {INFO}"),
    ("old dist-info, old tmp", "finished", (f"{INFO}/RECORDx.tmp",), ALL_OLD, None),
    (
        "unclaimed fresh module",
        "finished",
        ("foo.py",),
        {},
        "top-level entry 'foo.py' claimed by no RECORD",
    ),
    ("unclaimed fresh package", "finished", ("foo/__init__.py",), {}, "'foo' claimed by no"),
    ("package before its dist-info", "", ("alpha/__init__.py",), {}, "'alpha' claimed by no"),
    ("unclaimed fresh .pth", "finished", ("foo.pth",), {}, "'foo.pth' claimed by no RECORD"),
    ("unclaimed old module", "finished", ("foo.py",), {"foo.py": HOUR}, None),
    ("fresh package, old RECORD claims it", "finished", (), OLD_INFO, None),
    ("top-level __pycache__", "finished", ("__pycache__/foo.pyc",), {}, None),
    ("egg-link and egg-info", "", ("e.egg-link", "f.egg-info/PKG-INFO"), {}, None),
    ("quoted RECORD row", "quoted", (), {}, None),
]


@pytest.mark.parametrize(
    ("alpha", "more", "ages", "expected"), [s[1:] for s in STATES], ids=[s[0] for s in STATES]
)
def test_hand_made_states(
    tmp_path: Path,
    alpha: str,
    more: tuple[str, ...],
    ages: dict[str, float],
    expected: str | None,
) -> None:
    venv = fake_venv(tmp_path)
    if alpha:
        dist(venv.site_packages, alpha)
    for rel in more:
        put(venv.site_packages, rel)
    now = time.time()
    for rel in sorted(ages, key=len, reverse=True):  # files before their folders
        os.utime(venv.site_packages / rel, (now - ages[rel], now - ages[rel]))
    reason = install_in_progress(venv, fresh_after=now - 60)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


def test_missing_site_packages_is_not_finished(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path)
    venv.site_packages.rmdir()
    assert install_in_progress(venv, fresh_after=0) == f"{venv.site_packages} is missing"
    assert site_signature(venv) == ()


def test_record_tops_reads_quoted_and_odd_paths(tmp_path: Path) -> None:
    record = tmp_path / "RECORD"
    record.write_text('a/b.py,sha256=x,1\n"c,d/e.py",,\n../../bin/f,,\n/abs/g,,\nh.pth,,\n\n')
    assert record_tops(str(record)) == {"a", "c,d", "h.pth"}
    assert record_tops(str(tmp_path / "none")) == frozenset()


# --- the uv lock ------------------------------------------------------------------------------


def test_uv_lock_held(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path)
    lock = venv.root / ".lock"
    assert not uv_lock_held(venv)
    assert not lock.exists()  # never created by asking
    lock.touch()
    assert not uv_lock_held(venv)
    code = (
        f"import fcntl; f = open({str(lock)!r}, 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('locked', flush=True); input()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert uv_lock_held(venv)
        assert install_in_progress(venv, fresh_after=0) == f"uv holds {lock}"
    finally:
        holder.communicate("\n", timeout=30)
    assert not uv_lock_held(venv)
    assert install_in_progress(venv, fresh_after=0) is None


# --- which processes count ----------------------------------------------------------------------

V = "/p/.venv"
TARGETS: list[tuple[list[str], str, dict[str, str], str | None]] = [
    ([f"{V}/bin/python", f"{V}/bin/pip", "install", "x"], "/", {}, f"{V}/bin/python"),
    (
        [f"{V}/bin/python3.11", f"{V}/bin/pip3", "-q", "uninstall", "x"],
        "/",
        {},
        f"{V}/bin/python3.11",
    ),
    ([f"{V}/bin/python", "-m", "pip", "install", "x"], "/", {}, f"{V}/bin/python"),
    ([f"{V}/bin/python", "-I", "-mpip", "install", "x"], "/", {}, f"{V}/bin/python"),
    ([".venv/bin/python", "-m", "pip", "install", "x"], "/p", {}, f"{V}/bin/python"),
    (["/usr/bin/python3", f"{V}/bin/pip", "install", "x"], "/", {}, "/usr/bin/python3"),
    (["/bin/sh", f"{V}/bin/pip", "install", "x"], "/", {}, f"{V}/bin/pip"),
    ([f"{V}/bin/python", "/tmp/r/__pip-runner__.py", "install", "x"], "/", {}, f"{V}/bin/python"),
    ([f"{V}/bin/python", "/opt/pip.pyz", "install", "x"], "/", {}, f"{V}/bin/python"),
    ([f"{V}/bin/python", "-m", "pip", "freeze"], "/", {}, None),
    ([f"{V}/bin/python", "-m", "pip", "list"], "/", {}, None),
    ([f"{V}/bin/python", "app.py", "install"], "/", {}, None),
    (["uv", "pip", "install", "--python", f"{V}/bin/python", "x"], "/", {}, f"{V}/bin/python"),
    (["/usr/bin/uv", "pip", "install", "-p", "../.venv", "x"], "/p/sub", {}, V),
    (["uv", "pip", "sync", f"--python={V}", "r.txt"], "/", {}, V),
    (["uv", "pip", "uninstall", "x"], "/", {"VIRTUAL_ENV": V}, V),
    (["uv", "pip", "freeze", "--python", V], "/", {}, None),
    (["uv", "pip", "list"], "/", {"VIRTUAL_ENV": V}, None),
    (["uv", "tool", "install", "pip"], "/", {}, None),
]


@pytest.mark.parametrize(
    ("argv", "cwd", "environ", "expected"), TARGETS, ids=[" ".join(t[0][:4]) for t in TARGETS]
)
def test_installer_target(
    argv: list[str], cwd: str, environ: dict[str, str], expected: str | None
) -> None:
    assert installer_target(argv, cwd, environ) == expected


def test_installer_target_looks_up_path_and_dot_venv(tmp_path: Path) -> None:
    bindir = tmp_path / "venv" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").touch(mode=0o755)
    argv = ["python", "-m", "pip", "install", "x"]
    assert installer_target(argv, "/", {"PATH": f"/nonexistent:{bindir}"}) == str(bindir / "python")
    project = tmp_path / "project"
    (project / ".venv").mkdir(parents=True)
    (project / ".venv" / "pyvenv.cfg").touch()
    (project / "src").mkdir()
    uv_argv = ["uv", "pip", "install", "x"]
    assert installer_target(uv_argv, str(project / "src"), {}) == str(project / ".venv")
    assert installer_target(uv_argv, str(tmp_path), {}) is None


# --- signatures -------------------------------------------------------------------------------


@slow
def test_site_signature_follows_installs_not_reads(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "v")
    empty = site_signature(venv)
    assert [row[0] for row in empty] == [f"pip-{pip_version(venv)}.dist-info"]
    pip(venv, "install", "alpha==1.0")
    installed = site_signature(venv)
    assert installed != empty
    pip(venv, "freeze")
    run([venv.python, "-c", "import alpha, importlib.metadata as m; m.version('alpha')"])
    assert site_signature(venv) == installed
    pip(venv, "uninstall", "-y", "alpha")
    assert site_signature(venv) == empty
    (venv.site_packages / "extra.pth").write_text("/nowhere\n")
    assert site_signature(venv) != empty


def pip_version(venv: Venv) -> str:
    return next(p.name for p in venv.site_packages.glob("pip-*.dist-info"))[4:-10]


def test_file_signature(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    assert file_signature(path) is None
    assert file_signature(path / "below-a-file") is None
    path.write_text("alpha==1.0\n")
    first = file_signature(path)
    assert first is not None and first[1] == len("alpha==1.0\n")
    tmp = tmp_path / "requirements.txt.tmp"
    tmp.write_text("alpha==1.0\n")  # same bytes, atomic rename: a new inode
    os.replace(tmp, path)
    renamed = file_signature(path)
    assert renamed is not None and renamed != first and renamed[2] != first[2]
    with open(path, "a") as f:  # in place: same inode, new size
        f.write("beta\n")
    in_place = file_signature(path)
    assert in_place is not None and in_place[2] == renamed[2] and in_place != renamed


# --- cost -------------------------------------------------------------------------------------


def median_ms(call: Callable[[], object], rounds: int = 200) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return sorted(times)[rounds // 2] * 1e3


@slow
def test_cost_on_a_50_dist_venv(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "v")
    wheels = [build_wheel(tmp_path, f"pkg{i:02d}", "1.0") for i in range(49)]
    run([UV, "pip", "install", "--python", venv.python, *wheels])
    assert len(list(venv.site_packages.glob("*.dist-info"))) == 50
    start = time.perf_counter()
    assert install_in_progress(venv, fresh_after=0, processes=False) is None
    cold = (time.perf_counter() - start) * 1e3
    all_fresh = median_ms(lambda: install_in_progress(venv, fresh_after=0, processes=False))
    none_fresh = median_ms(lambda: install_in_progress(venv, fresh_after=time.time()))
    full = median_ms(lambda: install_in_progress(venv, fresh_after=0))
    procs = median_ms(lambda: installer_processes(venv))
    signature = median_ms(lambda: site_signature(venv))
    processes = sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit())
    print(
        f"\n50 dists: disk check cold {cold:.2f} ms, all fresh {all_fresh:.2f} ms, "
        f"none fresh (with processes) {none_fresh:.2f} ms, all fresh with processes "
        f"{full:.2f} ms; installer_processes {procs:.2f} ms over {processes} "
        f"processes; site_signature {signature:.2f} ms"
    )
    assert all_fresh < 20 and full < 40
