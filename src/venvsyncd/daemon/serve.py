"""`venvsyncd run`: set up, serve, work until SIGTERM/SIGINT/`stop`, then clean up."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from venvsyncd import __version__
from venvsyncd.config import load_config
from venvsyncd.daemon.core import Daemon
from venvsyncd.daemon.logsetup import configure
from venvsyncd.daemon.ops import handlers
from venvsyncd.engine.snapshot import private_folder, utc_now
from venvsyncd.env.installer import INSTALL_TIMEOUT
from venvsyncd.paths import Locations
from venvsyncd.service.sdnotify import ServiceNotifier
from venvsyncd.wire.status import STATES, SYNCING, DaemonInfo, ProjectStatus

log = logging.getLogger("venvsyncd")

# How long a sync may keep the worker from its watchdog beat: a venv creation, an uninstall
# and an install, each bounded by INSTALL_TIMEOUT.
SYNC_WATCHDOG_HOLD = 3 * INSTALL_TIMEOUT + 60.0


def rescan_seconds() -> float:
    """60 s, or `$VENVSYNCD_RESCAN_SECONDS` (a tuning knob, used by the tests)."""
    try:
        return max(0.1, float(os.environ.get("VENVSYNCD_RESCAN_SECONDS", "60")))
    except ValueError:
        return 60.0


def run_daemon(locs: Locations, extra_paths: Sequence[Path], verbosity: int) -> int:
    from venvsyncd.wire.server import IpcServer

    config = load_config(locs.config_file)  # a bad config exits 2 before anything starts
    # State and log folders not the user's alone (another user's, a symlink) exit 1, said why.
    private_folder(locs.state_dir)
    log_file = configure(config.daemon.log_level, locs.log_dir, verbosity)
    daemon = Daemon(config, extra_paths, locs, rescan=rescan_seconds())
    notifier = ServiceNotifier.from_environ()
    _report_to(daemon, notifier)
    daemon.info = DaemonInfo(
        os.getpid(), __version__, utc_now(), str(config.file), str(locs.socket)
    )
    with IpcServer(locs.socket, handlers(daemon)) as server:
        started = time.monotonic()
        daemon.start_watching()  # projects are published (pending) before the first request
        server.start()
        _install_signals(daemon, notifier.stopping)
        notifier.ready(status_line(daemon.published))
        log.info(
            "venvsyncd %s started (pid %d): %d projects, socket %s, log %s, ready in %.2f s",
            __version__,
            os.getpid(),
            len(daemon.tracked),
            locs.socket,
            log_file,
            time.monotonic() - started,
        )
        daemon.run_worker()
        notifier.stopping()
        log.info("venvsyncd stopping")
        server.close()  # no new requests; then let the ones in flight (a `stop`) reply
        server.drain(5.0)
    return 0


def status_line(projects: Sequence[ProjectStatus]) -> str:
    """The one-line summary the service manager shows: "3 projects: 2 in-sync, 1 error"."""
    if not projects:
        return "no projects"
    counts = Counter(p.state for p in projects)
    order = [s for s in STATES if s in counts] + sorted(set(counts) - set(STATES))
    states = ", ".join(f"{counts[s]} {s}" for s in order)
    return f"{len(projects)} project{'' if len(projects) == 1 else 's'}: {states}"


def _report_to(daemon: Daemon, notifier: ServiceNotifier) -> None:
    """Tell the service manager (systemd) the status, and keep its watchdog fed."""
    if not notifier.enabled:
        return

    def on_publish(projects: tuple[ProjectStatus, ...]) -> None:
        syncing = any(p.state == SYNCING for p in projects)
        notifier.hold(SYNC_WATCHDOG_HOLD if syncing else None)  # a sync blocks the worker
        notifier.status(status_line(projects))

    daemon.on_publish = on_publish
    daemon.on_tick = notifier.beat


def _install_signals(daemon: Daemon, on_stop: Callable[[], None]) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        on_stop()
        daemon.stop()

    def reload(signum: int, frame: FrameType | None) -> None:
        daemon.submit(daemon.reload)  # a bad config is logged and refused

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload)
