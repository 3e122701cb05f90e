"""Crash safety: SIGKILL at random moments of venvsyncd's own writes, 200 times.

The engine runs for real (`sync_project` on a real venv whose `alpha` a real uv moves between
two versions) in a forked child, so a kill costs milliseconds: half of the kills come from
outside at a random moment, half just before a random one of the child's own fsyncs and
renames. After each kill: the requirements file is one of the two whole versions, the
snapshot and journal load, and the next sync does not take venvsyncd's own half-remembered
write for a user's edit (it would install the old version back over the user's change).
Then damaged state: snapshots and journal entries broken on purpose are reported and rebuilt.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from testing.faultkit import write_config
from testing.venvs import UV, make_venv, run
from venvsyncd.cli import main
from venvsyncd.config import load_config
from venvsyncd.engine.journal import entries
from venvsyncd.engine.snapshot import load_snapshot, project_state_dir
from venvsyncd.engine.sync import Outcome, SyncRequest, sync_project
from venvsyncd.paths import locations
from venvsyncd.project import Project, for_path

pytestmark = pytest.mark.reliability
KILLS_PER_STYLE = 100  # two styles: 200 kills
VERSIONS = ("1.0", "1.1")
PRESERVED = "# crash test: keep me\n--no-index\nalpha=={}  # pinned\nbeta>=1.0\n"


class Seen(NamedTuple):
    file: bytes
    journal: int  # the newest entry's number (0: none); a count stops growing at `history`
    snapshot: bytes


class Rig(NamedTuple):
    project: Project
    state_dir: Path  # venvsyncd's
    folder: Path  # the project's own in it
    python: Path


def _seen(rig: Rig) -> Seen:
    snapshot = rig.folder / "snapshot.json"
    journal = entries(rig.folder)
    return Seen(
        rig.project.requirements.read_bytes(),
        journal[-1].number if journal else 0,
        snapshot.read_bytes() if snapshot.exists() else b"",
    )


def _moment(before: Seen, after: Seen) -> str:
    """Where in the write sequence (journal, file, snapshot) the kill landed."""
    if after.snapshot != before.snapshot:
        return "after the snapshot"
    if after.file != before.file:
        return "between file and snapshot"
    if after.journal != before.journal:
        return "between journal and file"
    return "before any write"


def _fork_sync(rig: Rig, crash_at: int = 0) -> int:
    """A forked child that runs one real sync, then leaves without running pytest's code.

    With `crash_at` = k it SIGKILLs itself just before its k-th durable step (an `fsync` or
    an `os.replace`: where a write becomes a fact on disk), and without, exits with the
    number of such steps it took."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            steps = _count_durable_steps(crash_at)
            outcome = sync_project(rig.project, rig.state_dir, SyncRequest(installer="uv"))
            code = min(steps[0], 200) if outcome.state == "in-sync" else 255
        finally:
            os._exit(code)
    return pid


def _count_durable_steps(crash_at: int) -> list[int]:
    steps = [0]

    def counted(real: Callable[..., None]) -> Callable[..., None]:
        def step(*args: Any) -> None:
            steps[0] += 1
            if steps[0] == crash_at:
                os.kill(os.getpid(), signal.SIGKILL)
            real(*args)

        return step

    os.fsync, os.replace = counted(os.fsync), counted(os.replace)  # this child's only
    return steps


def _killed(pid: int, delay: float | None) -> bool:
    """SIGKILL the child after `delay` s (None: it kills itself); was it killed?"""
    if delay is not None:
        time.sleep(delay)  # the fault's timing, not a synchronisation
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return not os.WIFEXITED(status)


class Aim:
    """When to kill from outside: a random moment in a window that follows the writes. A
    kill before them moves the window later, one after them earlier (their timing drifts
    with the machine's load); a kill inside them leaves it where it is."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)
        self.centre, self.width = 0.010, 0.0025  # seconds after the fork

    def delay(self) -> float:
        return max(0.0, self.rng.uniform(self.centre - self.width, self.centre + self.width))

    def learn(self, moment: str) -> None:
        if moment == "before any write":
            self.centre += 0.0005
        elif moment in ("finished", "after the snapshot"):
            self.centre = max(0.001, self.centre - 0.0005)


def _set_alpha(rig: Rig, version: str) -> None:
    run([UV, "pip", "install", "--python", rig.python, f"alpha=={version}"])


def _rig(tmp_path: Path, style: str) -> Rig:
    folder = tmp_path / style
    folder.mkdir()
    venv = make_venv(folder / ".venv", "alpha==1.0", "beta==1.0")
    text = PRESERVED.format("1.0") if style == "preserve" else "alpha==1.0\nbeta==1.0\n"
    (folder / "requirements.txt").write_text(text)
    write_config([{"path": str(folder), "style": style}], installer="uv")
    project = for_path(load_config(Path(os.environ["VENVSYNCD_CONFIG"])), folder)
    state_dir = locations().state_dir
    rig = Rig(project, state_dir, project_state_dir(state_dir, project.path), venv.python)
    assert _sync(rig).state == "in-sync"
    return rig


def _sync(rig: Rig, dry_run: bool = False) -> Outcome:
    return sync_project(rig.project, rig.state_dir, SyncRequest(dry_run=dry_run, installer="uv"))


def _durable_steps(rig: Rig) -> int:
    """How many fsyncs and renames a sync that rewrites the file takes."""
    _set_alpha(rig, VERSIONS[1])
    _, status = os.waitpid(_fork_sync(rig), 0)
    steps = os.waitstatus_to_exitcode(status)
    _set_alpha(rig, VERSIONS[0])
    assert _sync(rig).state == "in-sync"
    assert 10 <= steps < 200, steps  # journal, file and snapshot: each written and renamed
    return steps


@pytest.mark.parametrize("style", ["pip", "preserve"])
def test_sigkill_in_the_middle_of_writes(tmp_path: Path, style: str) -> None:
    rig = _rig(tmp_path, style)
    versions = {}
    for version in (*VERSIONS, VERSIONS[0]):  # both versions of the file, written whole
        _set_alpha(rig, version)
        assert _sync(rig).state == "in-sync"
        versions[rig.project.requirements.read_bytes()] = version
    whole = set(versions)
    assert len(whole) == 2
    started = time.monotonic()
    steps = _durable_steps(rig)
    aim = Aim(f"crash-{style}")
    moments: Counter[str] = Counter()
    for kill in range(KILLS_PER_STYLE):
        in_file = versions[rig.project.requirements.read_bytes()]
        _set_alpha(rig, VERSIONS[1 - VERSIONS.index(in_file)])  # the user's change
        plan = _sync(rig, dry_run=True).plan
        assert not plan.install and not plan.uninstall, (kill, plan)  # never undo the user
        before = _seen(rig)
        if kill % 2:  # at a random moment, from outside
            killed = _killed(_fork_sync(rig), aim.delay())
        else:  # just before a random durable step of its own
            killed = _killed(_fork_sync(rig, aim.rng.randint(1, steps)), None)
        after = _seen(rig)
        moment = _moment(before, after) if killed else "finished"
        if kill % 2:
            aim.learn(moment)
        moments[moment] += 1
        assert after.file in whole, f"kill {kill}: a partial file {after.file!r}"
        load_snapshot(rig.folder)  # never corrupt: raises StateProblem otherwise
        assert all(e.content.read_bytes() in whole for e in entries(rig.folder))
    print(f"{style}: {steps} durable steps; {dict(moments)}, {time.monotonic() - started:.1f} s")
    writes_interrupted = moments["between journal and file"] + moments["between file and snapshot"]
    assert writes_interrupted >= KILLS_PER_STYLE // 4, moments  # inside the writes, often
    assert _sync(rig).state == "in-sync"
    assert main(["sync", str(rig.project.path), "--check"]) == 0
    leftovers = list(rig.project.path.glob(".requirements.txt.*"))
    assert leftovers == [], leftovers  # killed writers' temp files were swept


# --- damaged state: detected, logged, rebuilt -------------------------------------------


def _damages(data: bytes) -> dict[str, bytes]:
    rng = random.Random(11)
    body = len(data.rstrip())  # a cut of the last newline only leaves valid JSON
    cuts = {f"cut at {n}": data[:n] for n in sorted(rng.sample(range(1, body), 12))}
    return {
        **cuts,
        "empty": b"",
        "binary": rng.randbytes(300),
        "another format": data.replace(b'"format":1', b'"format":99'),
        "wrong types": data.replace(b'"installed":[', b'"installed":[7,', 1),
        "not an object": b"[1, 2, 3]\n",
        "nested too deep": b"[" * 100_000 + b"]" * 100_000,
    }


def test_a_damaged_snapshot_is_reported_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = _rig(tmp_path, "preserve")
    path = str(rig.project.path)
    snapshot = rig.folder / "snapshot.json"
    for name, damaged in _damages(snapshot.read_bytes()).items():
        snapshot.write_bytes(damaged)
        (rig.folder / "snapshot.next.json").write_bytes(damaged)  # and an announced one
        capsys.readouterr()
        assert main(["sync", path]) == 0, name
        assert "it will be rebuilt" in capsys.readouterr().err, name
        assert load_snapshot(rig.folder) is not None, name
        assert not (rig.folder / "snapshot.next.json").exists(), name
        assert main(["sync", path, "--check"]) == 0, name


def test_a_damaged_journal_keeps_every_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    rig = _rig(tmp_path, "preserve")
    for version in (*VERSIONS, VERSIONS[0]):
        _set_alpha(rig, version)
        assert _sync(rig).state == "in-sync"
    journal = rig.folder / "journal"
    kept = [e.content.read_bytes() for e in entries(rig.folder)]
    assert len(kept) == 2
    (journal / "000007.json").write_text('{"time": "x", "file": "y", "summary": "z"}\n')
    for damage in (b"", b"[" * 100_000):  # lost (a kill between content and metadata), nested
        (journal / "000001.json").write_bytes(b'{"time": "2026-')  # truncated
        (journal / "000002.json").write_bytes(damage)
        capsys.readouterr()
        assert main(["history", str(rig.project.path)]) == 0
        assert capsys.readouterr().out.count("damaged") == 2  # listed, not hidden
    _set_alpha(rig, VERSIONS[1])
    assert _sync(rig).state == "in-sync"  # its write repairs the journal
    assert "rebuilt from its content" in caplog.text and "no content for 000007" in caplog.text
    found = entries(rig.folder)
    assert [e.content.read_bytes() for e in found[:2]] == kept
    assert all(e.damage is None for e in found) and len(found) == 3
    assert not (journal / "000007.json").exists()
    assert main(["undo", str(rig.project.path)]) == 0
    assert rig.project.requirements.read_bytes() == found[-1].content.read_bytes()
