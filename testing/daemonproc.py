"""A real `venvsyncd run` process for end-to-end tests, and ways to wait on it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from testing.venvs import make_venv
from testing.wheelhouse import write_wheel
from venvsyncd.engine.journal import entries
from venvsyncd.engine.snapshot import project_state_dir
from venvsyncd.env.venvs import Venv
from venvsyncd.errors import VenvsyncdError
from venvsyncd.paths import locations
from venvsyncd.wire.client import request


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
    def __init__(
        self,
        *paths: Path,
        log: Path,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
        preexec_fn: Callable[[], object] | None = None,
    ) -> None:
        """`prefix` runs the daemon through a wrapper (`setpriv ...`); `preexec_fn` sets limits."""
        self.socket = locations().socket
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "venvsyncd", "-v", "run", *map(str, paths)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=preexec_fn,
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


class HeldWheels:
    """Serves a folder of wheels on 127.0.0.1 (for pip's `--find-links`); a wheel download
    waits until `release()`, so a test holds a real pip in the middle of its run."""

    def __init__(self, folder: Path) -> None:
        import functools
        import http.server
        import threading

        self.requested = threading.Event()
        self.released = threading.Event()
        held = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith(".whl"):
                    held.requested.set()
                    held.released.wait(120)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def start(factory: list[DaemonProcess], *paths: Path, tmp: Path) -> DaemonProcess:
    """A ready daemon watching `paths` (besides the config's), stopped by `daemon_factory`."""
    daemon = DaemonProcess(*paths, log=tmp / f"daemon{len(factory)}.log")
    factory.append(daemon)
    daemon.ready()
    return daemon


def watched(
    factory: list[DaemonProcess], project: Path, tmp: Path, text: str, *packages: str
) -> tuple[Venv, Path, DaemonProcess]:
    """A project with a venv holding `packages` and a file `text`, watched and settled."""
    venv = make_venv(project / ".venv", *packages)
    req = project / "requirements.txt"
    req.write_text(text)
    daemon = start(factory, project, tmp=tmp)
    daemon.idle()
    return venv, req, daemon


def journal_count(project: Path) -> int:
    return len(entries(project_state_dir(locations().state_dir, project)))


def installer_runs(daemon: DaemonProcess) -> int:
    return len(re.findall(r"requirements\.txt -> [+-]", daemon.output()))


def slow_wheel(dest: Path, name: str = "slowpkg", modules: int = 400) -> Path:
    """A wheel whose .pyc compile takes pip a noticeable while."""
    body = "".join(f"def f{i}(x):\n    return [x * {i} for _ in range(3)]\n" for i in range(60))
    files = {f"{name}/m{i}.py": body.encode() for i in range(modules)}
    files[f"{name}/__init__.py"] = b""
    info = f"{name}-1.0.dist-info"
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    return write_wheel(dest / f"{name}-1.0-py3-none-any.whl", files, info)


def slow_wheelhouse(tmp: Path, modules: int = 600) -> Path:
    """A folder holding one slow wheel, `slowpkg` 1.0."""
    wheels = tmp / "slow"
    wheels.mkdir()
    slow_wheel(wheels, "slowpkg", modules=modules)
    return wheels


def installed_names(venv: Venv) -> set[str]:
    """The names of the dist-info folders in site-packages now (lower case, `_` for `-.`)."""
    return {p.name.split("-")[0].lower() for p in venv.site_packages.glob("*.dist-info")}


class Sampler:
    """Calls `sample` every `step` seconds in a thread until `stop()`: what a user looking at
    the venv or the daemon meanwhile would have seen. Exceptions are kept as samples."""

    def __init__(self, sample: Callable[[], Any], step: float = 0.01) -> None:
        import threading

        self.values: list[Any] = []
        self._sample = sample
        self._step = step
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.values.append(self._sample())
            except Exception as exc:
                self.values.append(exc)
            self._stopped.wait(self._step)

    def stop(self) -> list[Any]:
        self._stopped.set()
        self._thread.join(30)
        return self.values
