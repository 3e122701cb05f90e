"""The IPC handler table: each op a function from the request dict to a reply dict.

Handlers run on the IPC server's connection threads: they read the published status or put
a command on the worker's queue and wait for its answer; they never touch project state.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from venvsyncd.daemon.core import Daemon
from venvsyncd.errors import VenvsyncdError
from venvsyncd.status import DaemonInfo

Handler = Callable[[dict[str, Any]], dict[str, Any]]
COMMAND_TIMEOUT = 600.0  # a reload or pause waits at most this long for the worker


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


def _selected(daemon: Daemon, request: dict[str, Any]) -> list[str]:
    path = request.get("path")
    absolute = None if path is None else os.path.abspath(str(path))
    return select([p.path for p in daemon.published], absolute, bool(request.get("default")))


def handler_table(daemon: Daemon, info: DaemonInfo) -> dict[str, Handler]:
    def ask(op: str, args: dict[str, Any]) -> dict[str, Any]:
        command = daemon.submit(op, **args)
        if not command.done.wait(COMMAND_TIMEOUT):
            return {"error": f"the daemon's worker did not answer {op} in time"}
        return command.result

    def on_projects(op: str) -> Handler:
        return lambda request: ask(op, {"paths": _selected(daemon, request)})

    def status(request: dict[str, Any]) -> dict[str, Any]:
        chosen = set(_selected(daemon, request))
        projects = [p.to_json() for p in daemon.published if p.path in chosen]
        return {"daemon": info.to_json(), "projects": projects}

    def wait(request: dict[str, Any]) -> dict[str, Any]:
        timeout = float(request.get("timeout") or 60.0)
        return {"idle": daemon.wait_idle(_selected(daemon, request), timeout)}

    def stop(request: dict[str, Any]) -> dict[str, Any]:
        daemon.stopping.set()
        daemon.submit("stop")  # wakes the worker
        return {"stopping": True, "pid": info.pid}

    def reload(request: dict[str, Any]) -> dict[str, Any]:
        return ask("reload", {})

    return {
        "status": status,
        "wait": wait,
        "stop": stop,
        "reload": reload,
        "add": reload,
        "remove": reload,
        "pause": on_projects("pause"),
        "resume": on_projects("resume"),
        "sync": on_projects("sync"),
    }
