"""Shared pieces of the reliability tests: a real daemon over several projects, under faults.

A fault is only interesting next to a healthy project: `Served` keeps one and proves, after a
fault, that the daemon still carries a real install into its file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from testing.daemonproc import DaemonProcess, wait_for
from testing.venvs import UV, make_venv, run
from venvsyncd.env.venvs import Venv

SETTLE = 0.2
# Root ignores permission bits; without these capabilities it meets them like any user.
UNPRIVILEGED = [
    "setpriv",
    "--bounding-set",
    "-dac_override,-dac_read_search,-fowner",
    "--inh-caps=-all",
    "--",
]


def unprivileged() -> list[str]:
    """A command prefix under which file permissions bind (empty when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permission bits cannot be tested")
    return UNPRIVILEGED


def write_config(projects: Iterable[Mapping[str, Any]], **daemon: Any) -> Path:
    path = Path(os.environ["VENVSYNCD_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {"settle_seconds": SETTLE, "installer": "pip", **daemon}
    document = {"daemon": settings, "project": [dict(p) for p in projects]}
    path.write_text(tomli_w.dumps(document))
    return path


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """`start(**options)`: a ready daemon (options as for DaemonProcess), stopped afterwards."""
    started: list[DaemonProcess] = []

    def start(*paths: Path, **options: Any) -> DaemonProcess:
        daemon = DaemonProcess(*paths, log=tmp_path / f"daemon{len(started)}.log", **options)
        started.append(daemon)
        daemon.ready()
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


def daemon_env(drop: Sequence[str] = (), **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(changes)
    return env


def new_project(root: Path, name: str, text: str, *packages: str) -> tuple[Path, Venv]:
    folder = root / name
    folder.mkdir()
    venv = make_venv(folder / ".venv", *packages)
    (folder / "requirements.txt").write_text(text)
    return folder, venv


def uv_install(venv: Venv, *args: str) -> None:
    run([UV, "pip", "install", "--python", venv.python, *args])


def wait_state(daemon: DaemonProcess, path: Path, state: str, timeout: float = 60) -> Any:
    """The project's status once it reaches `state` (the last status seen on timeout)."""
    seen: list[dict[str, Any]] = []

    def reached() -> bool:
        seen.append(daemon.project(path))
        return bool(seen[-1]["state"] == state)

    try:
        wait_for(reached, timeout, f"{path.name} to be {state}")
    except AssertionError:
        raise AssertionError(f"{path.name}: last status {seen[-1:]}\n{daemon.output()}") from None
    return seen[-1]


class Served:
    """A healthy project next to the faulty ones; `check()` proves the daemon still serves it."""

    PACKAGES = ("eta", "delta", "zeta.dots", "Foo_Bar")

    def __init__(self, root: Path) -> None:
        self.path, self.venv = new_project(root, "healthy", "# healthy\nalpha==1.0\n", "alpha==1.0")
        self._next = iter(self.PACKAGES)

    def check(self, daemon: DaemonProcess) -> None:
        package = next(self._next)
        uv_install(self.venv, package)
        requirements = self.path / "requirements.txt"
        wait_for(lambda: package in requirements.read_text(), 30, f"{package} in healthy's file")
        assert requirements.read_text().startswith("# healthy\nalpha==1.0\n")
