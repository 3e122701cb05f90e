"""journal.py: the newest `keep` replaced versions, numbered for good, repaired cheaply.

Real files in a temporary state folder; damage is done the way a disk or a killed writer
would leave it, with no stand-ins for the filesystem.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from venvsyncd.engine.journal import DAMAGED, DEFAULT_KEEP, JournalEntry, entries, record, withdraw

REQUIREMENTS = Path("/home/u/code/app/requirements.txt")
OLD_INSTALL = 30_000  # entries a journal held before it was ever pruned


def version(n: int) -> bytes:
    return f"alpha=={n}.0\n".encode()


def record_versions(state: Path, numbers: range, keep: int = DEFAULT_KEEP) -> list[JournalEntry]:
    return [record(state, REQUIREMENTS, version(n), f"+alpha=={n}.0", keep) for n in numbers]


def journal_files(state: Path) -> list[str]:
    return sorted(p.name for p in (state / "journal").iterdir())


def numbers(state: Path) -> list[int]:
    return [e.number for e in entries(state)]


def test_a_new_journal_is_empty(tmp_path: Path) -> None:
    assert entries(tmp_path) == []
    assert DEFAULT_KEEP == 100


def test_record_keeps_the_content_and_what_changed(tmp_path: Path) -> None:
    entry = record(tmp_path, REQUIREMENTS, b"alpha==1.0\r\n", "+alpha==2.0")
    assert entry.number == 1
    assert entry.content == tmp_path / "journal" / "000001.bytes"
    assert entries(tmp_path) == [entry]
    assert entry.content.read_bytes() == b"alpha==1.0\r\n"
    assert (entry.file, entry.summary, entry.damage) == (REQUIREMENTS, "+alpha==2.0", None)
    assert journal_files(tmp_path) == ["000001.bytes", "000001.json"]


@pytest.mark.parametrize(("writes", "keep", "kept"), [
    (1, 1, [1]),
    (5, 1, [5]),
    (3, 3, [1, 2, 3]),
    (4, 3, [2, 3, 4]),
    (10, 3, [8, 9, 10]),
    (10, 100, list(range(1, 11))),
])  # fmt: skip
def test_only_the_newest_keep_entries_stay(
    tmp_path: Path, writes: int, keep: int, kept: list[int]
) -> None:
    record_versions(tmp_path, range(1, writes + 1), keep)
    found = entries(tmp_path)
    assert [e.number for e in found] == kept
    assert [e.content.read_bytes() for e in found] == [version(n) for n in kept]
    assert [e.summary for e in found] == [f"+alpha=={n}.0" for n in kept]
    assert len(journal_files(tmp_path)) == 2 * len(kept)  # both files of the others gone


def test_numbers_keep_growing_after_pruning(tmp_path: Path) -> None:
    record_versions(tmp_path, range(1, 6), keep=2)
    assert numbers(tmp_path) == [4, 5]
    record_versions(tmp_path, range(6, 8), keep=10)  # a larger keep: nothing more goes
    assert numbers(tmp_path) == [4, 5, 6, 7]
    record_versions(tmp_path, range(8, 9), keep=2)  # a smaller one: down to it at once
    assert numbers(tmp_path) == [7, 8]
    assert [e.content.read_bytes() for e in entries(tmp_path)] == [version(7), version(8)]


def test_a_number_is_never_used_twice(tmp_path: Path) -> None:
    record_versions(tmp_path, range(1, 4))
    journal = tmp_path / "journal"
    (journal / "000003.bytes").unlink()  # the newest content lost: its metadata remains
    assert record_versions(tmp_path, range(4, 5))[0].number == 4
    assert numbers(tmp_path) == [1, 2, 4]


def test_numbers_past_six_digits_stay_in_order(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    for number in (999_998, 999_999):
        (journal / f"{number:06d}.bytes").write_bytes(version(number))
    record_versions(tmp_path, range(3), keep=3)
    assert numbers(tmp_path) == [1_000_000, 1_000_001, 1_000_002]
    assert (journal / "1000002.bytes").read_bytes() == version(2)


def test_keep_must_be_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1 entry, not 0"):
        record(tmp_path, REQUIREMENTS, b"x\n", "x", keep=0)
    assert entries(tmp_path) == []


def test_withdraw_takes_back_an_entry_whose_write_did_not_happen(tmp_path: Path) -> None:
    written = record_versions(tmp_path, range(1, 4))
    withdraw(written[2])
    assert entries(tmp_path) == written[:2]
    assert journal_files(tmp_path) == [f"00000{n}.{s}" for n in (1, 2) for s in ("bytes", "json")]
    withdraw(written[2])  # twice: nothing more happens
    assert entries(tmp_path) == written[:2]


# --- a kill half-way, damage: still listed, repaired by the next write ----------------------


def test_a_prune_cut_short_leaves_no_entry_without_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record_versions(tmp_path, range(1, 4), keep=3)
    journal = tmp_path / "journal"
    (journal / "000001.bytes").unlink()  # where a kill in the next write's pruning stops it
    assert numbers(tmp_path) == [2, 3]  # its metadata alone is not an entry
    with caplog.at_level(logging.WARNING, logger="venvsyncd"):
        record_versions(tmp_path, range(4, 5), keep=3)
    assert numbers(tmp_path) == [2, 3, 4]
    assert journal_files(tmp_path) == [
        f"00000{n}.{s}" for n in (2, 3, 4) for s in ("bytes", "json")
    ]
    assert caplog.text == ""  # the rest of a removal, not a loss


def test_metadata_without_content_is_removed_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record_versions(tmp_path, range(1, 3))
    journal = tmp_path / "journal"
    (journal / "000007.json").write_text('{"time": "x", "file": "y", "summary": "z"}\n')
    assert numbers(tmp_path) == [1, 2]
    record_versions(tmp_path, range(3, 4))
    assert "no content for 000007.json; its record is removed" in caplog.text
    assert not (journal / "000007.json").exists()
    assert numbers(tmp_path) == [1, 2, 8]


DAMAGES = {
    1: b'{"time": "2026-',  # truncated
    2: b"",  # empty
    3: b"[" * 100_000 + b"]" * 100_000,  # nested too deep
    4: None,  # lost: a kill between content and metadata
    5: b"[1, 2, 3]\n",  # not an object
    6: b'{"time": "2026-11-22T10:00:00Z", "file": "r.txt"}\n',  # a key missing
    7: b"\xff\xfe binary",  # not UTF-8
}


def test_damaged_or_lost_metadata_is_listed_and_rebuilt_by_the_next_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    written = record_versions(tmp_path, range(1, 9))
    journal = tmp_path / "journal"
    for number, damage in DAMAGES.items():
        meta = journal / f"{number:06d}.json"
        if damage is None:
            meta.unlink()
        else:
            meta.write_bytes(damage)
    found = entries(tmp_path)
    assert [e.number for e in found] == list(range(1, 9))  # listed, not hidden
    assert [e.number for e in found if e.damage is not None] == list(DAMAGES)
    assert all(e.summary == DAMAGED for e in found[:7]) and found[7] == written[7]
    other = Path("/home/u/code/app/requirements-dev.txt")
    record(tmp_path, other, version(9), "+alpha==9.0")
    assert caplog.text.count("rebuilt from its content") == len(DAMAGES)
    found = entries(tmp_path)
    assert all(e.damage is None for e in found) and len(found) == 9
    assert [e.content.read_bytes() for e in found] == [version(n) for n in range(1, 10)]
    assert [(e.file, e.summary) for e in found[:7]] == [(other, DAMAGED)] * 7
    assert found[7] == written[7]  # the whole one untouched
    caplog.clear()
    record(tmp_path, other, version(10), "+alpha==10.0")
    assert caplog.text == ""  # rebuilt once


def test_a_write_reads_only_metadata_changed_since_it_was_known_whole(tmp_path: Path) -> None:
    """What keeps a write cheap: metadata known whole is dated just before its content and
    not read again. Shown with damage that kept that date (as a disk's silent damage could):
    the next write does not see it, `entries` (which reads everything) does. Damage by any
    write dates the metadata anew, and the next write reads and rebuilds it."""
    record_versions(tmp_path, range(1, 4))
    journal = tmp_path / "journal"
    meta = journal / "000002.json"
    dated = meta.stat().st_mtime_ns
    assert dated < (journal / "000002.bytes").stat().st_mtime_ns
    meta.write_bytes(b"{")
    os.utime(meta, ns=(dated, dated))
    record_versions(tmp_path, range(4, 5))
    assert entries(tmp_path)[1].damage is not None  # not read by the write
    meta.write_bytes(b"{")
    record_versions(tmp_path, range(5, 6))
    assert [e.damage for e in entries(tmp_path)] == [None] * 5


def test_killed_writers_temp_files_are_removed(tmp_path: Path) -> None:
    record_versions(tmp_path, range(1, 3))
    journal = tmp_path / "journal"
    leftovers = [".000003.bytes.k1ll3d_x.tmp", ".000003.json.abcdefgh.tmp"]
    for name in leftovers:
        (journal / name).write_bytes(b"half")
    (journal / "notes.txt").write_text("not the journal's\n")
    assert numbers(tmp_path) == [1, 2]
    record_versions(tmp_path, range(3, 4))
    assert journal_files(tmp_path) == [
        *(f"00000{n}.{s}" for n in (1, 2, 3) for s in ("bytes", "json")),
        "notes.txt",
    ]


# --- an old install: 30,000 entries, never pruned --------------------------------------------


def fill_old_journal(state: Path, count: int) -> None:
    """A journal as versions before pruning left it: every entry whole, none ever dropped."""
    journal = state / "journal"
    journal.mkdir(parents=True)
    for number in range(1, count + 1):
        stem = journal / f"{number:06d}"
        stem.with_suffix(".bytes").write_bytes(version(number))
        meta = {"time": "2025-01-01T00:00:00Z", "file": str(REQUIREMENTS), "summary": f"#{number}"}
        stem.with_suffix(".json").write_text(json.dumps(meta) + "\n")


def test_an_old_install_is_pruned_by_its_first_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fill_old_journal(tmp_path, OLD_INSTALL)
    assert len(journal_files(tmp_path)) == 2 * OLD_INSTALL
    with caplog.at_level(logging.INFO, logger="venvsyncd"):
        entry = record(tmp_path, REQUIREMENTS, version(0), "+alpha==0.0")
    assert entry.number == OLD_INSTALL + 1
    assert f"removed {OLD_INSTALL + 1 - DEFAULT_KEEP} old entries" in caplog.text
    assert "rebuilt" not in caplog.text  # whole metadata is kept as it was
    found = entries(tmp_path)
    kept = range(OLD_INSTALL + 2 - DEFAULT_KEEP, OLD_INSTALL + 1)
    assert [e.number for e in found] == [*kept, OLD_INSTALL + 1]
    assert [e.summary for e in found[:-1]] == [f"#{n}" for n in kept]
    assert [e.content.read_bytes() for e in found[:-1]] == [version(n) for n in kept]
    assert len(journal_files(tmp_path)) == 2 * DEFAULT_KEEP
    for n in (1, 2, 3):
        record(tmp_path, REQUIREMENTS, version(-n), f"-{n}")
    found = entries(tmp_path)
    assert [e.number for e in found] == list(range(OLD_INSTALL + 5 - DEFAULT_KEEP, OLD_INSTALL + 5))
    assert [e.content.read_bytes() for e in found[-3:]] == [version(-1), version(-2), version(-3)]
    assert all(e.damage is None for e in found)
    assert len(journal_files(tmp_path)) == 2 * DEFAULT_KEEP
