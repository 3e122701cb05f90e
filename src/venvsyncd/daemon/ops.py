"""Every IPC operation of the daemon, in one table: adding one is one entry and one function.

A request is one JSON object `{"op": NAME, ...}`; the reply is a dict, `{"error": ...,
"hint": ..., "exit": N}` on failure (`exit` 2: a bad config). The server answers `ping`
itself. PATH arguments are absolute; `"default": true` marks the client's current folder
standing in for an omitted PATH (the project it is in, else all).

  status {"path": PATH | null}                -> {"daemon": {...}, "projects": [...]}
  wait   {"path": PATH | null, "timeout": S}   -> {"idle": true | false} (+ "stopping": true)
  stop   {}                                    -> {"stopping": true, "pid": N}, then it exits
  reload {}  (also add, remove)                -> {"reloaded": true, "projects": N}
  pause / resume / sync {"path": PATH | null}  -> {"paused" | "resumed" | "queued": [paths]}

An operation is a function `(daemon, request) -> reply`, run on one of the IPC server's
connection threads, where it may only read `daemon.published` or hand work to the
coordinator thread (`on_worker`): project state belongs to the coordinator. `wait` blocks,
so the server gives it slots of its own (`LONG_OPS`): waiters never keep `status` or `stop`
out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from venvsyncd.daemon.core import Daemon
from venvsyncd.errors import VenvsyncdError
from venvsyncd.wire.status import DaemonInfo

Request = dict[str, Any]
Operation = Callable[[Daemon, Request], dict[str, Any]]
Handler = Callable[[Request], dict[str, Any]]
WORKER_TIMEOUT = 600.0  # a reload or pause waits at most this long for the coordinator
LONG_OPS = ("wait",)  # block until something happens: the server keeps them apart


def on_worker(operation: Operation) -> Operation:
    """`operation` run on the coordinator thread (it changes project state), waited for."""

    def run(daemon: Daemon, request: Request) -> dict[str, Any]:
        command = daemon.submit(lambda: operation(daemon, request))
        if not command.done.wait(WORKER_TIMEOUT):
            return {"error": f"the daemon did not answer {request.get('op')} in time"}
        return command.result

    return run


def status(daemon: Daemon, request: Request) -> dict[str, Any]:
    chosen = set(selected(daemon, request))
    projects = [p.to_json() for p in daemon.published if p.path in chosen]
    return {"daemon": daemon.info.to_json(), "projects": projects}


def wait(daemon: Daemon, request: Request) -> dict[str, Any]:
    timeout = float(request.get("timeout") or 60.0)
    idle = daemon.wait_idle(selected(daemon, request), timeout)
    return {"idle": idle, "stopping": True} if daemon.stopping.is_set() else {"idle": idle}


def stop(daemon: Daemon, request: Request) -> dict[str, Any]:
    daemon.stop()
    return {"stopping": True, "pid": daemon.info.pid}


def reload(daemon: Daemon, request: Request) -> dict[str, Any]:
    return daemon.reload()


def pause(daemon: Daemon, request: Request) -> dict[str, Any]:
    chosen = daemon.matching(selected(daemon, request))
    for tracked in chosen:
        tracked.paused = True
        daemon.publish(tracked)
    return {"paused": [t.key for t in chosen]}


def resume(daemon: Daemon, request: Request) -> dict[str, Any]:
    chosen = [t for t in daemon.matching(selected(daemon, request)) if t.paused]
    for tracked in chosen:
        tracked.paused = False
        daemon.mark(tracked, "resumed", time.monotonic())
    return {"resumed": [t.key for t in chosen]}


def sync_now(daemon: Daemon, request: Request) -> dict[str, Any]:
    chosen = daemon.matching(selected(daemon, request))
    for tracked in chosen:
        tracked.immediate = True
        daemon.mark(tracked, "sync requested", time.monotonic())
    return {"queued": [t.key for t in chosen]}


OPERATIONS: dict[str, Operation] = {
    "status": status,
    "wait": wait,
    "stop": stop,
    "reload": on_worker(reload),
    "add": on_worker(reload),
    "remove": on_worker(reload),
    "pause": on_worker(pause),
    "resume": on_worker(resume),
    "sync": on_worker(sync_now),
}


def handlers(daemon: Daemon) -> dict[str, Handler]:
    """The table bound to `daemon`, as the IPC server takes it."""
    return {name: _bound(daemon, op) for name, op in OPERATIONS.items()}


def _bound(daemon: Daemon, operation: Operation) -> Handler:
    return lambda request: operation(daemon, request)


def select(keys: list[str], path: str | None, default: bool) -> list[str]:
    """The projects a request names: PATH's; with a defaulted PATH (the client's current
    folder) the project it is in, else all. An explicit PATH that is no project: an error."""
    if path is None:
        return keys
    exact = [k for k in keys if k == path]
    if exact:
        return exact
    if not default:
        raise VenvsyncdError(
            f"{path} is not watched by this daemon", hint="add it with `venvsyncd add PATH`"
        )
    inside = [k for k in keys if path.startswith(k.rstrip(os.sep) + os.sep)]
    return inside[-1:] if inside else keys


def selected(daemon: Daemon, request: Request) -> list[str]:
    path = request.get("path")
    absolute = None if path is None else os.path.abspath(str(path))
    return select([p.path for p in daemon.published], absolute, bool(request.get("default")))


__all__ = ["LONG_OPS", "OPERATIONS", "DaemonInfo", "handlers", "select"]
