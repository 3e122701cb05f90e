"""compare_and_swap against real files and real racing writers (other processes, a thread).

A racer is a separate Python process driven over pipes: each command is done when it answers,
so a race is staged exactly inside the window through the `_between` seam, never by sleeping.
"""

from __future__ import annotations

import errno
import json
import random
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from venvsyncd.system import swap
from venvsyncd.system.swap import SwapResult, compare_and_swap

OLD = b"alpha==1.0\n"
NEW = b"alpha==1.0\nbeta==2.0\n"
on_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
both_paths = pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "fallback"])

_RACER = textwrap.dedent(
    """
    import json, os, sys
    fd = None
    for line in sys.stdin:
        op, path, data = json.loads(line)
        data = bytes.fromhex(data)
        if op == "open":
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        elif op == "append":
            os.write(fd, data)
        elif op == "append-path":
            with open(path, "ab") as file:
                file.write(data)
        elif op == "replace":
            with open(path + ".racer", "wb") as file:
                file.write(data)
            os.replace(path + ".racer", path)
        print("ok", flush=True)
    """
)


class Racer:
    """Another program writing the file: `do` returns once the racer has done it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _RACER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def do(self, op: str, data: bytes = b"") -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([op, str(self.path), data.hex()]).encode() + b"\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == b"ok\n"

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=10) == 0


@pytest.fixture
def racers() -> Iterator[list[Racer]]:
    started: list[Racer] = []
    yield started
    for racer in started:
        racer.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A project folder of its own (tmp_path also holds the isolated HOME)."""
    (tmp_path / "project").mkdir()
    return tmp_path / "project"


@pytest.fixture
def req(folder: Path) -> Path:
    path = folder / "requirements.txt"
    path.write_bytes(OLD)
    return path


def at(stage: str, action: Callable[[], object]) -> swap.Stage:
    """A `_between` seam that runs `action()` when compare_and_swap reaches `stage`."""

    def seam(reached: str) -> None:
        if reached == stage:
            action()

    return seam


def temps(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


@both_paths
def test_a_match_is_written_keeping_the_mode(req: Path, exchange: bool) -> None:
    req.chmod(0o640)
    assert compare_and_swap(req, NEW, OLD, exchange=exchange) == SwapResult(True, None)
    assert req.read_bytes() == NEW
    assert req.stat().st_mode & 0o777 == 0o640
    assert temps(req) == []


@both_paths
def test_a_mismatch_touches_nothing(req: Path, exchange: bool) -> None:
    inode = req.stat().st_ino
    assert compare_and_swap(req, NEW, b"other\n", exchange=exchange) == SwapResult(False, OLD)
    assert req.read_bytes() == OLD
    assert req.stat().st_ino == inode
    assert temps(req) == []


@both_paths
def test_expected_none_creates_only_an_absent_file(folder: Path, exchange: bool) -> None:
    path = folder / "requirements.txt"
    assert compare_and_swap(path, NEW, None, exchange=exchange) == SwapResult(True, None)
    assert path.read_bytes() == NEW
    assert compare_and_swap(path, b"again\n", None, exchange=exchange) == SwapResult(False, NEW)
    assert path.read_bytes() == NEW
    assert temps(path) == []


def test_expected_none_loses_to_a_file_that_appears_meanwhile(
    folder: Path, racers: list[Racer]
) -> None:
    path = folder / "requirements.txt"
    racers.append(racer := Racer(path))
    result = compare_and_swap(
        path, NEW, None, _between=at("compared", lambda: racer.do("replace", OLD))
    )
    assert result == SwapResult(False, OLD)
    assert path.read_bytes() == OLD
    assert temps(path) == []


def test_expected_bytes_but_the_file_is_absent(folder: Path) -> None:
    path = folder / "requirements.txt"
    assert compare_and_swap(path, NEW, OLD) == SwapResult(False, None)
    assert not path.exists()


@both_paths
def test_a_symlink_is_written_through(req: Path, exchange: bool) -> None:
    link = req.parent / "link.txt"
    link.symlink_to(req.name)
    assert compare_and_swap(link, NEW, OLD, exchange=exchange).written
    assert link.is_symlink()
    assert req.read_bytes() == NEW
    assert compare_and_swap(link, b"x\n", OLD, exchange=exchange) == SwapResult(False, NEW)


@both_paths
def test_an_append_in_the_window_and_after_is_kept(
    req: Path, racers: list[Racer], exchange: bool
) -> None:
    racers.append(racer := Racer(req))
    racer.do("open")  # like an editor or a shell that holds the file open
    inode = req.stat().st_ino
    seam = at("compared", lambda: racer.do("append", b"beta==3.0\n"))
    result = compare_and_swap(req, NEW, OLD, exchange=exchange, _between=seam)
    assert result == SwapResult(False, OLD + b"beta==3.0\n")
    racer.do("append", b"gamma==1.0\n")  # after the call returned, through the same descriptor
    assert req.read_bytes() == OLD + b"beta==3.0\ngamma==1.0\n"
    assert req.stat().st_ino == inode  # the racer's very inode is the file again
    assert temps(req) == []


@both_paths
def test_a_replace_in_the_window_wins(req: Path, racers: list[Racer], exchange: bool) -> None:
    racers.append(racer := Racer(req))
    seam = at("compared", lambda: racer.do("replace", b"mine==1.0\n"))
    result = compare_and_swap(req, NEW, OLD, exchange=exchange, _between=seam)
    assert result == SwapResult(False, b"mine==1.0\n")
    assert req.read_bytes() == b"mine==1.0\n"
    assert temps(req) == []


@on_linux
@pytest.mark.parametrize("third", ["replace", "append-path"])
def test_a_third_writer_during_the_swap_back_is_displaced_not_lost(
    req: Path, racers: list[Racer], third: str
) -> None:
    racers.extend([first := Racer(req), second := Racer(req)])
    stages = {
        "compared": lambda: first.do("replace", b"first\n"),
        "exchanged": lambda: second.do(third, b"second\n"),
    }
    result = compare_and_swap(req, NEW, OLD, _between=lambda stage: stages[stage]())
    if third == "replace":  # the second racer's file was moved away by the swap back
        assert result == SwapResult(False, b"first\n", (b"second\n",))
    else:  # it appended to our new bytes, which were in place at that moment
        assert result == SwapResult(False, b"first\n", (NEW + b"second\n",))
    assert req.read_bytes() == b"first\n"
    assert temps(req) == []


@on_linux
def test_exchange_is_really_used_here(folder: Path) -> None:
    a, b = folder / "a", folder / "b"
    a.write_bytes(b"A")
    b.write_bytes(b"B")
    assert swap._exchange(str(a), b) is True
    assert (a.read_bytes(), b.read_bytes()) == (b"B", b"A")
    reached: list[str] = []  # only the exchange path reaches the "exchanged" stage (the undo)

    def seam(stage: str) -> None:
        reached.append(stage)
        if stage == "compared":
            a.write_bytes(b"changed\n")

    assert compare_and_swap(a, NEW, b"B", _between=reached.append).written
    assert compare_and_swap(a, b"x\n", NEW, _between=seam) == SwapResult(False, b"changed\n")
    assert reached == ["compared", "compared", "exchanged"]


@on_linux
def test_a_writer_holding_the_file_open_keeps_it_even_before_it_writes(
    req: Path, racers: list[Racer]
) -> None:
    """Its next write would go to the displaced inode, so the swap is undone (a read lease)."""
    racers.append(racer := Racer(req))
    seam = at("compared", lambda: racer.do("open"))
    assert compare_and_swap(req, NEW, OLD, _between=seam) == SwapResult(False, OLD)
    racer.do("append", b"beta==3.0\n")
    assert req.read_bytes() == OLD + b"beta==3.0\n"
    assert temps(req) == []


def test_an_error_names_the_file_and_leaves_no_temp(req: Path) -> None:
    """A write past RLIMIT_FSIZE fails with EFBIG (like a full disk), which names no file."""
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from venvsyncd.system.swap import compare_and_swap
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        try:
            compare_and_swap(Path({str(req)!r}), b"x" * 10_000, {OLD!r})
        except OSError as exc:
            print(exc.errno, exc.filename)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    assert out.stdout.split() == [str(errno.EFBIG), str(req)]
    assert req.read_bytes() == OLD
    assert temps(req) == []


@on_linux
def test_no_line_of_an_appending_writer_is_lost(req: Path) -> None:
    """A writer appends numbered lines (open, write, close) while the sync keeps rewriting.

    Its lines land in the old inode, in the new one, or in both across a swap; each must end in
    the file or in `displaced` (which the caller journals).
    """
    done = threading.Event()
    rng = random.Random(1)
    count = 400

    def writer() -> None:
        for i in range(count):
            with req.open("ab") as file:
                file.write(f"line {i}\n".encode())
            time.sleep(rng.uniform(0, 0.002))
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    kept: list[bytes] = []
    writes = 0
    deadline = time.monotonic() + 8
    for _ in range(20_000):
        if done.is_set() or time.monotonic() > deadline:
            break
        data = req.read_bytes()
        result = compare_and_swap(req, data + b"x\n", data)
        writes += result.written
        kept.extend(result.displaced)
    thread.join()
    text = (req.read_bytes() + b"".join(kept)).decode()
    missing = [i for i in range(count) if f"line {i}\n" not in text]
    assert missing == []
    assert writes > 0
    assert temps(req) == []
