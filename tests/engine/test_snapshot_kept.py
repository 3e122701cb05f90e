"""The snapshots kept decoded in memory (engine/snapshot.py): a snapshot file that changed on
disk, however it changed, is read anew; one that did not is not decoded again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from venvsyncd.engine import snapshot as snap
from venvsyncd.engine.snapshot import (
    PENDING,
    SNAPSHOT,
    Snapshot,
    StateProblem,
    load_snapshot,
    promote_pending,
    save_snapshot,
    settle_pending,
    snapshot_to_bytes,
)
from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.wanted import Wanted

PROJECT = Path("/projects/app")


def made(version: str, note: str = "") -> Snapshot:
    dist = FrozenDist("alpha", "Alpha", version, (f"Alpha=={version}",))
    wanted = Wanted("alpha", "alpha", (f"alpha=={version}",), f"=={version}")
    text = f"alpha=={version}{note}\n"
    return Snapshot({"/projects/app/requirements.txt": text}, (wanted,), (dist,), "t", "v")


def aged(path: Path) -> None:
    """Wait (on the clock, not on a sleep of a guessed length) until `path` changed longer
    ago than the window in which a same-tick change would not show."""
    changed = path.stat().st_ctime_ns
    deadline = time.monotonic() + 5
    while time.time_ns() - changed <= snap.RACY_NS:
        assert time.monotonic() < deadline
        time.sleep(0.005)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    return state


def test_a_snapshot_unchanged_on_disk_is_not_decoded_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_snapshot(folder, PROJECT, made("1.0"))
    aged(folder / SNAPSHOT)
    first = load_snapshot(folder)
    with monkeypatch.context() as m:
        m.setattr(snap, "snapshot_from_bytes", lambda data: pytest.fail("decoded again"))
        assert load_snapshot(folder) is first
    assert first == made("1.0")


def test_a_snapshot_replaced_by_another_writer_is_read_anew(folder: Path) -> None:
    save_snapshot(folder, PROJECT, made("1.0"))
    aged(folder / SNAPSHOT)
    assert load_snapshot(folder) == made("1.0")
    other = folder / "other.json"
    other.write_bytes(snapshot_to_bytes(PROJECT, made("2.0")))
    os.replace(other, folder / SNAPSHOT)  # another venvsyncd's atomic write
    assert load_snapshot(folder) == made("2.0")


def test_a_snapshot_rewritten_in_place_with_the_same_size_is_read_anew(folder: Path) -> None:
    path = folder / SNAPSHOT
    save_snapshot(folder, PROJECT, made("1.0", "  # a"))
    aged(path)
    before = path.stat()
    assert load_snapshot(folder) == made("1.0", "  # a")
    rewritten = snapshot_to_bytes(PROJECT, made("1.0", "  # b"))
    assert len(rewritten) == before.st_size
    with path.open("r+b") as file:  # same inode, same size: only the times can tell
        file.write(rewritten)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # even the mtime put back
    assert load_snapshot(folder) == made("1.0", "  # b")


def test_a_snapshot_read_right_after_it_changed_is_not_kept(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer's file, read in the clock tick it was written in, may change again in
    that tick unseen: it is decoded again at the next read."""
    monkeypatch.setattr(snap, "RACY_NS", 3600 * 10**9)  # "right after", however slow the run
    other = folder / "other.json"
    other.write_bytes(snapshot_to_bytes(PROJECT, made("1.0")))
    os.replace(other, folder / SNAPSHOT)
    first = load_snapshot(folder)
    assert first == made("1.0")
    assert load_snapshot(folder) is not first


def test_a_snapshot_damaged_after_it_was_read_is_reported(folder: Path) -> None:
    save_snapshot(folder, PROJECT, made("1.0"))
    aged(folder / SNAPSHOT)
    load_snapshot(folder)
    (folder / SNAPSHOT).write_bytes(b"{broken")
    with pytest.raises(StateProblem, match="corrupt snapshot"):
        load_snapshot(folder)


def test_a_promoted_pending_snapshot_is_the_one_read(folder: Path) -> None:
    save_snapshot(folder, PROJECT, made("1.0"))
    aged(folder / SNAPSHOT)
    load_snapshot(folder)
    save_snapshot(folder, PROJECT, made("2.0"), PENDING)
    promote_pending(folder)
    assert not (folder / PENDING).exists()
    assert load_snapshot(folder) == made("2.0")
    assert load_snapshot(folder, PENDING) is None


def test_a_settled_pending_snapshot_is_the_one_read(folder: Path) -> None:
    save_snapshot(folder, PROJECT, made("1.0"))
    save_snapshot(folder, PROJECT, made("2.0"), PENDING)
    aged(folder / PENDING)
    settled = settle_pending(folder, made("2.0").files, dry=False)
    assert settled == made("2.0")
    assert load_snapshot(folder) == made("2.0")
    assert load_snapshot(folder, PENDING) is None


def test_snapshots_encode_the_same_with_the_encodings_kept() -> None:
    """The kept encodings of lines and dists give the bytes a fresh encoding gives."""
    first = snapshot_to_bytes(PROJECT, made("1.0"))
    assert snapshot_to_bytes(PROJECT, made("1.0")) == first
    assert snap.snapshot_from_bytes(first) == made("1.0")
    assert snap.snapshot_from_bytes(snapshot_to_bytes(PROJECT, made("2.0"))) == made("2.0")
