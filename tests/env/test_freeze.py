"""`freeze_text` against real `pip freeze` (pip 26.3) of the same venv, for every line form.

Every case is built for real: venvs made by `make_venv`, packages installed by real pip or
uv from wheels and in-tree-backend projects built here, git repositories made with real git.
What pip cannot make any more (egg-info, egg-link, `~` stash leftovers, odd metadata) is
written by hand into a real venv, and pip is asked what it makes of it. Each test also checks
that pip's own output shows the case, so a test cannot pass by testing nothing.
"""

from __future__ import annotations

import email
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import InvalidVersion, Version

from testing.localproject import git, git_repo, write_project
from testing.venvs import UV, make_venv, pip, pip_freeze, run, which_python
from testing.wheelhouse import build_wheel
from venvsyncd.env.freeze import freeze_text, installed, normalized_version, read_headers
from venvsyncd.env.sitepath import venv_sys_path
from venvsyncd.env.venvs import Venv, load_venv

slow = pytest.mark.slow  # every test that builds a venv


def hand_dist(
    folder: Path, dirname: str, headers: str, files: dict[str, str] | None = None
) -> Path:
    """A metadata folder written by hand: METADATA (PKG-INFO for egg-info) plus `files`."""
    info = folder / dirname
    info.mkdir(parents=True)
    meta = "PKG-INFO" if dirname.lower().endswith("egg-info") else "METADATA"
    (info / meta).write_text("Metadata-Version: 2.1\n" + headers)
    for name, text in (files or {}).items():
        (info / name).write_text(text)
    return info


def interpreter_path(venv: Venv) -> list[str]:
    """The venv interpreter's real `sys.path` (without `-c`'s ''), existing entries only."""
    code = "import json, os, sys; print(json.dumps([p for p in sys.path[1:] if os.path.exists(p)]))"
    return list(json.loads(run([venv.python, "-c", code]).stdout))


def computed_path(venv: Venv) -> list[str]:
    return [entry for entry in venv_sys_path(venv).entries if Path(entry).exists()]


def pip_list(venv: Venv) -> list[tuple[str, str]]:
    listed = json.loads(pip(venv, "list", "--format=json").stdout)
    return sorted((item["name"], item["version"]) for item in listed)


def ours_as_list(venv: Venv) -> list[tuple[str, str]]:
    """`installed()` as `pip list` shows it (pip list hides only python/wsgiref/argparse)."""
    stdlib = {"python", "wsgiref", "argparse"}
    return sorted((d.raw_name, d.version) for d in installed(venv) if d.name not in stdlib)


# --- index installs, names, versions, local and uv wheels -------------------------------------

SPECIAL_WHEELS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("pyyaml", "6.0", {"metadata_name": "PyYAML"}),  # dist-info `pyyaml-6.0`, Name: PyYAML
    ("oddver", "01.02.0", {}),  # pip keeps `oddver-01.02.0.dist-info`, prints 1.2.0
    ("setuptools", "99.0", {}),  # fake build backends, for the skip set
    ("wheel", "0.99", {}),
    ("distribute", "0.7", {}),
    ("ab-c", "1.0", {}),  # sort order: - < . < digits < _ < letters
    ("ab.d", "1.0", {}),
    ("ab1", "1.0", {}),
    ("ab_e", "1.0", {}),
    ("Abf", "1.0", {}),
)


@pytest.fixture(scope="module")
def special(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links folder with SPECIAL_WHEELS."""
    folder = tmp_path_factory.mktemp("special-wheels")
    for name, version, options in SPECIAL_WHEELS:
        build_wheel(folder, name, version, **options)  # type: ignore[arg-type]
    return folder


@pytest.fixture(scope="module")
def index_venv(tmp_path_factory: pytest.TempPathFactory, special: Path) -> Venv:
    """Index installs, SPECIAL_WHEELS, a wheel file installed by pip and one by uv."""
    venv = make_venv(tmp_path_factory.mktemp("index") / "venv")
    names = [name for name, _, _ in SPECIAL_WHEELS]
    pip(
        venv,
        "install",
        "--find-links",
        str(special),
        "beta",
        "gamma[fast]",
        "epsilon",
        "Foo_Bar",
        "zeta.dots",
        *names,
    )
    loose = tmp_path_factory.mktemp("loose-wheels")
    pip(venv, "install", str(build_wheel(loose, "localwhl", "3.0")))
    run([UV, "pip", "install", "--python", venv.python, build_wheel(loose, "uvwhl", "4.0")])
    return venv


@pytest.fixture(scope="module")
def index_frozen(index_venv: Venv) -> str:
    return pip_freeze(index_venv)


@slow
@pytest.mark.parametrize(
    "shown",
    [
        "beta==1.0\n",  # index install with dependencies
        "alpha==",
        "delta==1.0\n",  # from an extra
        "eta==1.0\n",  # from a marker-guarded dependency
        "Foo_Bar==1.0\n",  # raw names as METADATA spells them
        "zeta.dots==1.0\n",
        "PyYAML==6.0\n",
        "oddver==1.2.0\n",  # normalised version
        "ab-c==1.0\nab.d==1.0\nab1==1.0\nab_e==1.0\nAbf==1.0\n",  # pip's sort
        "localwhl @ file://",
        "uvwhl @ file://",
    ],
)
def test_index_and_wheel_installs(index_venv: Venv, index_frozen: str, shown: str) -> None:
    assert shown in index_frozen
    assert freeze_text(index_venv) == index_frozen


@slow
def test_local_wheel_has_sha256_and_uv_wheel_none(index_frozen: str) -> None:
    local = next(line for line in index_frozen.splitlines() if line.startswith("localwhl"))
    uv_line = next(line for line in index_frozen.splitlines() if line.startswith("uvwhl"))
    assert "#sha256=" in local
    assert "#" not in uv_line


@slow
def test_oddver_dist_info_keeps_the_wheel_spelling(index_venv: Venv) -> None:
    assert (index_venv.site_packages / "oddver-01.02.0.dist-info").is_dir()
    assert next(d for d in installed(index_venv) if d.name == "oddver").version == "1.2.0"


@slow
def test_skip_set_below_3_12_hides_build_backends(index_venv: Venv, index_frozen: str) -> None:
    assert index_venv.version is not None and index_venv.version < (3, 12)
    hidden = {"pip", "setuptools", "wheel", "distribute"}
    assert not any(line.split("==")[0] in hidden for line in index_frozen.splitlines())
    assert hidden <= {d.name for d in installed(index_venv)}
    assert freeze_text(index_venv) == index_frozen


@slow
def test_installed_matches_pip_list(index_venv: Venv) -> None:
    assert ours_as_list(index_venv) == pip_list(index_venv)
    names = [d.name for d in installed(index_venv)]
    assert len(names) == len(set(names))


@slow
def test_whole_venv_installed_by_uv(tmp_path: Path) -> None:
    root = tmp_path / "uvvenv"
    run([UV, "venv", "--python", sys.executable, root])
    venv = load_venv(root)
    run(
        [
            UV,
            "pip",
            "install",
            "--python",
            venv.python,
            "pip",
            "beta",
            "gamma[fast]",
            "Foo_Bar",
            "zeta.dots",
        ]
    )
    frozen = pip_freeze(venv)
    assert "Foo_Bar==1.0\n" in frozen
    assert freeze_text(venv) == frozen


@slow
def test_windows_layout_venv(index_venv: Venv, index_frozen: str, tmp_path: Path) -> None:
    """A venv with `Lib/site-packages` and `Scripts/` holding the index venv's metadata."""
    root = tmp_path / "winvenv"
    site = root / "Lib" / "site-packages"
    (root / "Scripts").mkdir(parents=True)
    for info in index_venv.site_packages.glob("*.dist-info"):
        shutil.copytree(info, site / info.name)
    version = ".".join(map(str, index_venv.version or ()))
    (root / "pyvenv.cfg").write_text(
        f"home = C:\\Python311\ninclude-system-site-packages = false\nversion = {version}\n"
    )
    venv = load_venv(root)
    assert venv.windows_layout and venv.site_packages == site
    assert freeze_text(venv) == index_frozen


# --- local folders, VCS and editables ----------------------------------------------------------


@pytest.fixture(scope="module")
def source_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One pip run installing a local folder, two VCS URLs and nine editables."""
    top = tmp_path_factory.mktemp("sources")
    local = write_project(top / "localdir", "localdir", "0.1")
    vcs = git_repo(write_project(top / "vcsrepo", "vcs-pkg", "0.2"))
    sub_repo = top / "subrepo"
    write_project(sub_repo / "sub" / "pkg", "vcs.sub", "0.3")
    git_repo(sub_repo)
    bare = top / "bare.git"
    run(["git", "init", "-q", "--bare", bare])
    editables = [
        write_project(top / "ed_nogit", "ed-nogit", "1.0"),
        git_repo(write_project(top / "ed_noremote", "ed_noremote", "1.1")),
        git_repo(
            write_project(top / "ed_https", "ed-https", "1.2"),
            remote="https://example.com/team/ed-https.git",
        ),
        git_repo(
            write_project(top / "ed_scp", "Ed.Scp", "1.3"), remote="git@example.com:team/ed_scp.git"
        ),
        git_repo(write_project(top / "ed_invalid", "ed-invalid", "1.4"), remote="relative/x.git"),
        git_repo(write_project(top / "ed_local", "ed-local", "1.5"), remote=str(bare)),
        git_repo(
            write_project(top / "ed_nocommit", "ed-nocommit", "1.6"),
            remote="https://example.com/nocommit.git",
            commit=False,
        ),
    ]
    monorepo = top / "monorepo"
    editables.append(write_project(monorepo / "python" / "ed_sub", "ed-sub", "1.7"))
    git_repo(monorepo, remote="https://example.com/monorepo.git")
    srclayout = write_project(top / "srclayout", "srclayout", "2.0", pth_target="src")
    hand_dist(srclayout / "src", "srclayout.egg-info", "Name: srclayout\nVersion: 0.0.1\n")
    hand_dist(srclayout / "src", "stale_extra.egg-info", "Name: stale-extra\nVersion: 0.9\n")
    editables.append(srclayout)
    venv = make_venv(top / "venv")
    pip(
        venv,
        "install",
        "--no-build-isolation",
        str(local),
        f"git+{vcs.as_uri()}",
        f"git+{sub_repo.as_uri()}#subdirectory=sub/pkg",
        *(arg for folder in editables for arg in ("-e", str(folder))),
    )
    return venv


@pytest.fixture(scope="module")
def source_frozen(source_venv: Venv) -> str:
    return pip_freeze(source_venv)


@slow
@pytest.mark.parametrize(
    "shown",
    [
        "localdir @ file://",
        "vcs-pkg @ git+file://",
        "#subdirectory=sub/pkg\n",
        "# Editable install with no version control (ed-nogit==1.0)\n-e /",
        "# Editable Git install with no remote (ed_noremote==1.1)\n-e /",
        "-e git+https://example.com/team/ed-https.git@",
        "#egg=ed_https\n",
        "-e git+ssh://git@example.com/team/ed_scp.git@",
        "#egg=Ed.Scp\n",
        "with either a deleted local remote or invalid URI:\n# 'relative/x.git'\n",
        "-e git+file://",
        "## !! Could not determine repository location\n-e /",
        "#egg=ed_sub&subdirectory=python/ed_sub\n",
        "# Editable install with no version control (srclayout==2.0)\n",  # dist-info wins
        "stale-extra==0.9\n",  # an egg-info that only the editable's .pth exposes
    ],
)
def test_local_vcs_and_editable_installs(source_venv: Venv, source_frozen: str, shown: str) -> None:
    assert shown in source_frozen
    assert freeze_text(source_venv) == source_frozen


@slow
def test_source_installed_matches_pip_list(source_venv: Venv) -> None:
    assert ours_as_list(source_venv) == pip_list(source_venv)


# --- hand-made metadata in a real venv ---------------------------------------------------------


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return make_venv(tmp_path_factory.mktemp("bare") / "venv", "beta")


@pytest.fixture
def scratch(bare_venv: Venv) -> Iterator[Venv]:
    """`bare_venv`; whatever a test adds to its site-packages is removed afterwards."""
    before = set(bare_venv.site_packages.iterdir())
    yield bare_venv
    for entry in set(bare_venv.site_packages.iterdir()) - before:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def assert_same_as_pip(venv: Venv, *shown: str) -> None:
    frozen = pip_freeze(venv)
    for text in shown:
        assert text in frozen
    assert freeze_text(venv) == frozen


@slow
def test_invalid_version_and_missing_name(scratch: Venv) -> None:
    site = scratch.site_packages
    hand_dist(site, "weird-1.0.foo.dist-info", "Name: weird\nVersion: 1.0.foo\n")
    hand_dist(site, "noname-2.0.dist-info", "Version: 2.0\n")
    hand_dist(site, "Spaced-1.0.dist-info", "Name:   Spaced  \nVersion: 1.0\n")
    assert_same_as_pip(scratch, "weird===1.0.foo\n", "noname==2.0\n")


@slow
def test_stash_leftovers_and_invalid_names_are_dropped(scratch: Venv) -> None:
    site = scratch.site_packages
    shutil.copytree(site / "alpha", site / "~lpha")
    shutil.copytree(next(site.glob("alpha-*.dist-info")), site / "~lpha-1.0.dist-info")
    hand_dist(site, "bad_-1.0.dist-info", "Name: bad_\nVersion: 1.0\n")
    frozen = pip_freeze(scratch)
    assert "~" not in frozen and "bad" not in frozen and "alpha==" in frozen
    assert freeze_text(scratch) == frozen


@slow
def test_duplicate_dist_infos_first_found_wins(scratch: Venv, tmp_path: Path) -> None:
    site = scratch.site_packages
    hand_dist(site, "alpha-7.0.dist-info", "Name: alpha\nVersion: 7.0\n")
    extra = tmp_path / "extra"
    hand_dist(extra, "alpha-9.0.dist-info", "Name: alpha\nVersion: 9.0\n")
    hand_dist(extra, "onlyhere-1.0.dist-info", "Name: OnlyHere\nVersion: 1.0\n")
    (site / "extra.pth").write_text(f"# a comment\n\n{extra}\nimport sys\n{extra}\n")
    assert_same_as_pip(scratch, "OnlyHere==1.0\n")
    assert "9.0" not in freeze_text(scratch)
    assert str(extra) in venv_sys_path(scratch).entries
    assert computed_path(scratch) == interpreter_path(scratch)


@slow
def test_relative_pth_line(scratch: Venv) -> None:
    relative = scratch.site_packages.parent / "relextra"
    hand_dist(relative, "relpkg-1.0.dist-info", "Name: relpkg\nVersion: 1.0\n")
    (scratch.site_packages / "rel.pth").write_text("../relextra\n")
    try:
        assert_same_as_pip(scratch, "relpkg==1.0\n")
        assert computed_path(scratch) == interpreter_path(scratch)
    finally:
        shutil.rmtree(relative)


@slow
def test_legacy_egg_info_dir_file_egg_and_egg_link(scratch: Venv, tmp_path: Path) -> None:
    site = scratch.site_packages
    hand_dist(site, "legacy_dir-1.0-py3.11.egg-info", "Name: Legacy-Dir\nVersion: 1.0\n")
    (site / "legacy_file-2.0-py3.11.egg-info").write_text(
        "Metadata-Version: 1.1\nName: legacy_file\nVersion: 2.0\n"
    )
    egg = site / "old-3.0-py3.11.egg"
    hand_dist(egg, "EGG-INFO", "Name: old\nVersion: 3.0\n")
    (site / "easy-install.pth").write_text("./old-3.0-py3.11.egg\n")
    linked = tmp_path / "linked_proj"
    hand_dist(linked, "linked_proj.egg-info", "Name: linked-proj\nVersion: 0.3\n")
    (site / "linked-proj.egg-link").write_text(f"{linked}\n.\n")
    unmatched = tmp_path / "other"
    hand_dist(unmatched, "Other_Thing.egg-info", "Name: Other_Thing\nVersion: 0.1\n")
    (site / "other.egg-link").write_text(f"\n{unmatched}\n")
    assert_same_as_pip(
        scratch,
        "Legacy-Dir==1.0\n",
        "legacy_file==2.0\n",
        "old==3.0\n",
        f"# Editable install with no version control (linked-proj==0.3)\n-e {linked}\n",
        "Other_Thing==0.1\n",
    )


@slow
def test_direct_url_json_variants(scratch: Venv, tmp_path: Path) -> None:
    site = scratch.site_packages
    whl = "file:///srv/wheels/legacyhash-1.0-py3-none-any.whl"
    variants = {
        "legacyhash": {"url": whl, "archive_info": {"hash": "sha256=abc"}},
        "twohashes": {
            "url": "https://example.com/t-1.0.tar.gz",
            "archive_info": {"hashes": {"md5": "00", "sha256": "11"}},
        },
        "vcsinfo": {
            "url": "https://example.com/r.git",
            "subdirectory": "pkg",
            "vcs_info": {"vcs": "git", "commit_id": "abc123", "requested_revision": "v1"},
        },
        "plaindir": {"url": (tmp_path / "plain").as_uri(), "dir_info": {}},
        "ghost": {"url": (tmp_path / "gone").as_uri(), "dir_info": {"editable": True}},
        "twokinds": {"url": "file:///x", "archive_info": {}, "dir_info": {}},
        "badhash": {"url": "file:///x.whl", "archive_info": {"hash": "nohash"}},
        "relative": {"url": "file:rel/dir", "dir_info": {}},
    }
    for name, data in variants.items():
        hand_dist(
            site,
            f"{name}-1.0.dist-info",
            f"Name: {name}\nVersion: 1.0\n",
            {"direct_url.json": json.dumps(data)},
        )
    hand_dist(
        site,
        "badjson-1.0.dist-info",
        "Name: badjson\nVersion: 1.0\n",
        {"direct_url.json": "{not json"},
    )
    assert_same_as_pip(
        scratch,
        f"legacyhash @ {whl}#sha256=abc\n",
        "twohashes @ https://example.com/t-1.0.tar.gz#md5=00\n",
        "vcsinfo @ git+https://example.com/r.git@abc123#subdirectory=pkg\n",
        "plaindir @ file://",
        "# Editable install with no version control (ghost==1.0)\n",
        "twokinds==1.0\n",
        "badhash==1.0\n",
        "relative==1.0\n",
        "badjson==1.0\n",
    )


@slow
def test_editable_git_line_follows_commits(scratch: Venv, tmp_path: Path) -> None:
    """The `-e git+URL@sha` line changes when the user commits (pip asks git each time)."""
    project = git_repo(
        write_project(tmp_path / "proj", "movable", "1.0"), remote="https://example.com/movable.git"
    )
    hand_dist(
        scratch.site_packages,
        "movable-1.0.dist-info",
        "Name: movable\nVersion: 1.0\n",
        {"direct_url.json": json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}})},
    )
    first = git(project, "rev-parse", "HEAD").strip()
    assert_same_as_pip(scratch, f"-e git+https://example.com/movable.git@{first}#egg=movable\n")
    (project / "change.txt").write_text("x")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "change")
    second = git(project, "rev-parse", "HEAD").strip()
    assert_same_as_pip(scratch, f"-e git+https://example.com/movable.git@{second}#egg=movable\n")
    movable = next(d for d in installed(scratch) if d.name == "movable")
    assert (
        movable.editable
        and movable.url == f"git+https://example.com/movable.git@{second}#egg=movable"
    )


# --- Python 3.12 skip set, system site-packages --------------------------------------------------


@slow
def test_skip_set_from_3_12_shows_build_backends(tmp_path: Path, special: Path) -> None:
    python = which_python("3.12")
    if python is None:
        pytest.skip("no python3.12 on PATH or in pyenv")
    venv = make_venv(tmp_path / "venv312", python=python)
    pip(venv, "install", "--find-links", str(special), "setuptools", "wheel", "distribute", "beta")
    assert_same_as_pip(venv, "setuptools==99.0\n", "wheel==0.99\n", "distribute==0.7\n")


def test_skip_set_from_3_12_synthetic(tmp_path: Path) -> None:
    """A venv folder that says 3.12.1: pip, and only pip, is hidden (the rule, written out)."""
    root = tmp_path / "venv"
    site = root / "lib" / "python3.12" / "site-packages"
    (root / "bin").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /nonexistent/bin\nversion = 3.12.1\n")
    for name, version in [
        ("pip", "26.3"),
        ("setuptools", "80.0"),
        ("wheel", "0.45.0"),
        ("alpha", "1.0"),
        ("distribute", "0.7"),
    ]:
        hand_dist(site, f"{name}-{version}.dist-info", f"Name: {name}\nVersion: {version}\n")
    expected = "alpha==1.0\ndistribute==0.7\nsetuptools==80.0\nwheel==0.45.0\n"
    assert freeze_text(load_venv(root)) == expected


@slow
def test_include_system_site_packages_and_user_site(tmp_path: Path, isolated_home: Path) -> None:
    root = tmp_path / "sysvenv"
    run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", root])
    venv = load_venv(root)
    run([UV, "pip", "install", "--python", venv.python, "pip", "beta"])
    major, minor = sys.version_info[:2]
    user_site = isolated_home / ".local" / "lib" / f"python{major}.{minor}" / "site-packages"
    hand_dist(user_site, "usersitepkg-1.0.dist-info", "Name: usersitepkg\nVersion: 1.0\n")
    frozen = pip_freeze(venv)
    assert "usersitepkg==1.0\n" in frozen and "beta==1.0\n" in frozen
    assert len(frozen.splitlines()) > 3  # the base installation's packages are listed too
    assert freeze_text(venv) == frozen
    assert computed_path(venv) == interpreter_path(venv)


@slow
def test_debian_system_python_with_system_site_packages(tmp_path: Path) -> None:
    """Debian's python3: dist-packages under /usr/local and /usr/lib/python3."""
    python = Path("/usr/bin/python3")
    if not (python.exists() and Path("/usr/lib/python3/dist-packages").is_dir()):
        pytest.skip("no Debian-style /usr/bin/python3 with /usr/lib/python3/dist-packages")
    root = tmp_path / "debvenv"
    run([python, "-m", "venv", "--without-pip", "--system-site-packages", root])
    venv = load_venv(root)
    run([UV, "pip", "install", "--python", venv.python, "pip", "beta"])
    assert "/usr/lib/python3/dist-packages" in computed_path(venv)
    assert computed_path(venv) == interpreter_path(venv)
    assert_same_as_pip(venv, "beta==1.0\n")


# --- the pure parts, against the libraries pip goes through ---------------------------------------

HEADER_TEXTS = [
    "Name: a\nVersion: 1\n",
    "name:a\nVERSION:1",  # any case, no space, no final newline
    "Name: a\n  continued\n\tand more\nVersion: 1\n",
    " leading continuation\nName: a\n",
    "From someone\nName: a\n",  # an mbox envelope line
    "Metadata-Version: 2.1\n:no name\n cont\nName: a\n",
    "Bad Header: x\nName: a\n",  # not a header line: the body starts here
    "\nName: a\n",  # empty header block
    "Name: a\r\nVersion: 1\r\n",
    "Name: a\rVersion: 1\r",
    "Name:   spaced  \nVersion:\t2.0 \n",
    "Name: first\nName: second\nVersion: 1\nVersion: 2\n",
    "Name:\n cont\n",
    "X-Long: " + "x" * 9000 + "\nName: late\nVersion: 3\n",  # past the first read
    "Metadata-Version: 2.1\n" + "Classifier: c\n" * 800 + "Name: late\n",
    "Version: 1\n\nName: in-body\n",
]


def email_headers(text: str) -> dict[str, str]:
    message = email.message_from_string(text)
    return {key.lower(): message[key] for key in ("Name", "Version") if message[key] is not None}


def headers_of(text: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        info = Path(folder, "x-1.0.dist-info")
        info.mkdir()
        (info / "METADATA").write_bytes(text.encode())
        expected = email_headers((info / "METADATA").read_text(encoding="utf-8"))
        assert read_headers(str(info)) == expected
        return expected


@pytest.mark.parametrize("text", HEADER_TEXTS)
def test_read_headers_matches_email(text: str) -> None:
    headers_of(text)


_PIECES = st.sampled_from(
    [
        "Name: n",
        "name:N2",
        "Version: 1.0",
        "VERSION:  2 ",
        " cont",
        "\tcont",
        "From x",
        ":x",
        "Bad Header: y",
        "",
        "X-Other: z",
        "Name:",
        "Summary: s",
        "X-Long: " + "y" * 3000,
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_read_headers_matches_email_for_any_mix(pieces: list[str], eol: str, end: bool) -> None:
    headers_of(eol.join(pieces) + (eol if end else ""))


@pytest.mark.parametrize(
    "text",
    [
        "1.0",
        "01.02.0",
        "1.0.0",
        "0",
        "1!2.0",
        "1.0-post1",
        "v1.0",
        " 1.0 ",
        "1.0RC1",
        "1.0.foo",
        "",
        "2024.01.05",
        "1.0+local.7",
        "1.0_dev3",
    ],
)
def test_normalized_version_matches_packaging(text: str) -> None:
    try:
        expected: str | None = str(Version(text))
    except InvalidVersion:
        expected = None
    assert normalized_version(text) == expected
