"""The real daemon (`python -m venvsyncd run`) as the benchmark starts, asks and reads it.

Unlike testing/daemonproc.py it runs at the config's log level (no `-v`), as the user service
does, and it reads the process's footprint from /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.sandbox import BenchError
from venvsyncd.errors import VenvsyncdError
from venvsyncd.paths import locations
from venvsyncd.wire.client import request


def wait_until(condition: Callable[[], Any], timeout: float, what: str, step: float) -> Any:
    """Poll `condition` every `step` seconds until it is truthy; BenchError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class Daemon:
    def __init__(self, log: Path) -> None:
        self.socket = locations().socket
        self.log = log
        self._out = log.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "venvsyncd", "run"],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ask(self, op: str, timeout: float = 30.0, /, **args: Any) -> dict[str, Any]:
        """The daemon's reply to `op` (`timeout` is the client's; an op may have its own)."""
        return request(self.socket, op, timeout, **args)

    def ready(self, timeout: float = 60.0) -> float:
        """Seconds from just before the process started until `status` answered."""

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise BenchError(f"daemon exited {self.proc.returncode}:\n{self.output()}")
            try:
                self.ask("status", 5.0)
            except VenvsyncdError:
                return False
            return True

        wait_until(answers, timeout, "the daemon to answer status", 0.002)
        return time.monotonic() - self.started

    def idle(self, timeout: float = 120.0, path: Path | None = None) -> list[dict[str, Any]]:
        """Wait until no project (or the project at `path`) is pending or syncing; the
        projects (that one), all in sync. Without `path` the daemon first looks at every
        project on disk (`status --wait`'s barrier): its CPU grows with the fleet."""
        where = {} if path is None else {"path": str(path)}
        if not self.ask("wait", timeout + 5, timeout=timeout, **where)["idle"]:
            raise BenchError(f"daemon not idle after {timeout} s:\n{self.output()[-3000:]}")
        projects: list[dict[str, Any]] = self.ask("status", 30.0, **where)["projects"]
        wrong = [p for p in projects if p["state"] != "in-sync"]
        if wrong:
            raise BenchError(f"projects not in sync: {wrong[:3]}")
        return projects

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()

    # ---- footprint, from /proc -----------------------------------------------------------
    def status_field(self, name: str) -> str:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return line.partition(":")[2].strip()
        raise BenchError(f"/proc/{self.pid}/status has no {name}")

    def rss_mb(self) -> float:
        return int(self.status_field("VmRSS").split()[0]) / 1024

    def threads(self) -> int:
        return int(self.status_field("Threads"))

    def inotify_watches(self) -> int:
        folder = Path(f"/proc/{self.pid}/fdinfo")
        count = 0
        for info in folder.iterdir():
            try:
                text = info.read_text()
            except OSError:  # the fd closed meanwhile
                continue
            count += sum(1 for line in text.splitlines() if line.startswith("inotify wd:"))
        return count

    def cpu_seconds(self) -> float:
        """utime + stime so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat
        return (utime + stime) / os.sysconf("SC_CLK_TCK")
