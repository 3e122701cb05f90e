"""A few action threads: each runs one project's sync at a time, handed to it by the
coordinator (which never hands two actions on one venv at once), and hands the outcome back
as a `Command` on the coordinator's queue. Their number does not grow with the projects.

At stop, the installers they run are ended the way pip and uv expect an interrupt: SIGINT
(KeyboardInterrupt in pip, which puts a half-done uninstall back; uv's Ctrl-C), then SIGTERM,
then SIGKILL after a grace each. The env is left as the installer leaves it; nothing false is
recorded (the sync ends in an error the coordinator no longer takes), and every project is
checked again at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

log = logging.getLogger("venvsyncd")

Action = Callable[[], None]
INTERRUPT_GRACE = 3.0  # seconds an installer has to end after SIGINT, then after SIGTERM


def pool_size() -> int:
    """min(4, CPUs + 2): installs wait on the network and the disk more than on a CPU."""
    return min(4, (os.cpu_count() or 1) + 2)


class ActionPool:
    def __init__(self, size: int) -> None:
        self.size = size
        self._actions: queue.SimpleQueue[Action | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name=f"venvsyncd-action-{i}", daemon=True)
            for i in range(size)
        ]
        self._started = False

    def submit(self, action: Action) -> None:
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()
        self._actions.put(action)

    def _run(self) -> None:
        while True:
            action = self._actions.get()
            if action is None:
                return
            try:
                action()
            except Exception:  # an action reports its own failures; this is a last guard
                log.exception("an action failed")

    def stop(self, timeout: float) -> bool:
        """End the installers the actions run, and wait (at most `timeout`) for them."""
        deadline = time.monotonic() + timeout
        for _ in self._threads:
            self._actions.put(None)
        if not self._started:
            return True
        interrupt_children(deadline)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)


def interrupt_children(deadline: float) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to this process's children (installers, `venv`,
    git), each after INTERRUPT_GRACE; a child's own children get the same, as a terminal's
    Ctrl-C reaches the whole foreground job. (Windows has no Ctrl-C for one process: there,
    TerminateProcess.)"""
    import psutil

    steps: list[tuple[str, Callable[[psutil.Process], None]]] = [
        ("SIGTERM", psutil.Process.terminate),
        ("SIGKILL", psutil.Process.kill),
    ]
    if sys.platform != "win32":
        steps.insert(0, ("SIGINT", lambda child: child.send_signal(signal.SIGINT)))
    for name, send in steps:
        try:
            children = psutil.Process().children(recursive=True)
        except psutil.Error:
            return
        if not children:
            return
        for child in children:
            log.info("stopping: %s to pid %d (%s)", name, child.pid, _name(child))
            with contextlib.suppress(psutil.Error):
                send(child)
        grace = min(INTERRUPT_GRACE, max(0.1, deadline - time.monotonic()))
        _wait_ended(children, time.monotonic() + grace)


def _wait_ended(children: list[psutil.Process], until: float) -> None:
    """Wait until `children` have ended, without reaping them (not `psutil.wait_procs`:
    reaping a child would leave `subprocess` an exit code of 0 for an interrupted pip,
    and the engine would take the install for done)."""
    import psutil

    def ended(child: psutil.Process) -> bool:
        try:
            return child.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    while not all(ended(c) for c in children) and time.monotonic() < until:
        time.sleep(0.05)


def _name(child: object) -> str:
    import psutil

    try:
        return " ".join(child.cmdline()[:4]) if isinstance(child, psutil.Process) else "?"
    except psutil.Error:
        return "?"
