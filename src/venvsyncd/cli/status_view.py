"""The text of a `status` reply: what `venvsyncd status` prints and the exit code it picks.

Shared by the full command (`control.cmd_status`) and its fast path (`fast.py`), so it
imports nothing but the state names at run time.
"""

from __future__ import annotations

from venvsyncd.wire.states import IN_SYNC, NEEDS_USER, PAUSED, PENDING

TYPE_CHECKING = False  # not typing's: importing typing costs a fast command a third of its time
if TYPE_CHECKING:
    from typing import Any


def render_status(reply: dict[str, Any], verbose: bool = False) -> list[str]:
    """The human form of a `status` reply: one aligned line per project, then why, indented."""
    projects: list[dict[str, Any]] = reply.get("projects") or []
    lines = [_daemon_line(reply.get("daemon") or {})] if verbose else []
    if not projects:
        return [*lines, "the daemon watches no project; add one with: venvsyncd add PATH"]
    cells = [_status_cells(p) for p in projects]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for project, row in zip(projects, cells, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if project.get("state") in (*NEEDS_USER, PENDING) and project.get("message"):
            lines.extend(f"    {text}" for text in str(project["message"]).splitlines())
        lines.extend(f"    broken: {text}" for text in project.get("broken") or ())
        if project.get("orphans"):
            lines.append(f"    orphans (nothing needs them): {', '.join(project['orphans'])}")
    return lines


def _status_cells(project: dict[str, Any]) -> list[str]:
    packages = project.get("packages")
    counted = f"{packages} package{'' if packages == 1 else 's'}" if packages is not None else "-"
    return [
        str(project.get("path", "?")),
        str(project.get("state", "?")),
        counted,
        str(project.get("last_change") or "-"),
    ]


def _daemon_line(daemon: dict[str, Any]) -> str:
    return (
        f"daemon pid {daemon.get('pid', '?')}, venvsyncd {daemon.get('version', '?')}, "
        f"since {daemon.get('started', '?')}, config {daemon.get('config', '?')}"
    )


def status_exit_code(reply: dict[str, Any]) -> int:
    """0 when every project is in sync or paused, else 1."""
    projects = reply.get("projects") or []
    return 0 if all(p.get("state") in (IN_SYNC, PAUSED) for p in projects) else 1  # Exit.OK, FAILED
