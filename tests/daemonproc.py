"""A real `venvsyncd run` process for end-to-end tests, and ways to wait on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from venvsyncd.client import request
from venvsyncd.errors import VenvsyncdError
from venvsyncd.paths import locations


def wait_for(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.02) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class DaemonProcess:
    def __init__(self, *paths: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.socket = locations().socket
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "venvsyncd", "-v", "run", *map(str, paths)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def ask(self, op: str, **args: Any) -> dict[str, Any]:
        return request(self.socket, op, 30.0, **args)

    def ready(self, timeout: float = 30.0) -> float:
        """Seconds until `status` answered."""
        started = time.monotonic()

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.output()}")
            try:
                self.ask("status")
            except VenvsyncdError:
                return False
            return True

        wait_for(answers, timeout, "the daemon to answer status")
        return time.monotonic() - started

    def idle(self, timeout: float = 60.0, path: Path | None = None) -> dict[str, Any]:
        reply = request(
            self.socket,
            "wait",
            timeout + 5,
            timeout=timeout,
            path=None if path is None else str(path),
        )
        assert reply["idle"], f"daemon not idle after {timeout} s:\n{self.output()}"
        return self.status(path)

    def status(self, path: Path | None = None) -> dict[str, Any]:
        return self.ask("status", path=None if path is None else str(path))

    def project(self, path: Path) -> dict[str, Any]:
        projects: list[dict[str, Any]] = self.status(path)["projects"]
        return projects[0]

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

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def daemon_env() -> dict[str, str]:
    return dict(os.environ)
