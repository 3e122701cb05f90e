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
from venvsyncd.daemon.board import Board
from venvsyncd.daemon.core import Daemon
from venvsyncd.daemon.logsetup import configure
from venvsyncd.daemon.ops import LONG_OPS, handlers
from venvsyncd.engine.snapshot import private_folder, utc_now
from venvsyncd.paths import Locations
from venvsyncd.service.sdnotify import ServiceNotifier
from venvsyncd.wire.status import STATES, DaemonInfo, ProjectStatus

log = logging.getLogger("venvsyncd")


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
    with IpcServer(locs.socket, handlers(daemon), long_ops=LONG_OPS) as server:
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
    return summary_line(Counter(p.state for p in projects))


def summary_line(counts: Counter[str]) -> str:
    """`status_line` from the number of projects in each state."""
    counts = +counts  # states no project is in are left out
    if not counts:
        return "no projects"
    total = sum(counts.values())
    order = [s for s in STATES if s in counts] + sorted(set(counts) - set(STATES))
    states = ", ".join(f"{counts[s]} {s}" for s in order)
    return f"{total} project{'' if total == 1 else 's'}: {states}"


def _report_to(daemon: Daemon, notifier: ServiceNotifier) -> None:
    """Tell the service manager (systemd) the status, and keep its watchdog fed."""
    if not notifier.enabled:
        return

    def on_flush(board: Board) -> None:
        notifier.status(summary_line(board.counts))

    daemon.board.on_flush = on_flush  # the coordinator waits on no sync: no watchdog hold
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
