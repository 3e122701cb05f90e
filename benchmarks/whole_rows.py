"""Whole-process rows: `venvsyncd freeze`, `sync --check` and `status` as a user runs them,
each beside what pip, uv or Python itself take when run the same way (a process, start to
exit), interleaved round by round.

`status` needs a running daemon, so `daemon_rows` calls `status_row` while its daemon runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Row
from benchmarks.sandbox import BenchError, Sandbox, run, timed_run
from benchmarks.setup_envs import filler_names, make_project, make_venv
from benchmarks.stats import Counts, Samples, interleaved, ratio, show_ratio
from venvsyncd.env.freeze import freeze_text

# The `venvsyncd` command as pip installs it (its console script), as a user runs it; else
# `python -m venvsyncd`, which pays runpy's imports on top
_SCRIPT = Path(sys.executable).with_name(
    "venvsyncd.exe" if sys.platform == "win32" else "venvsyncd"
)
VSD: list[str | Path] = [_SCRIPT] if _SCRIPT.is_file() else [sys.executable, "-m", "venvsyncd"]


def _whole(argv: list[str | Path], cwd: Path) -> tuple[Callable[[], float], int]:
    return (lambda: timed_run(argv, cwd)), 1


def whole_rows(box: Sandbox, counts: Counts) -> list[Row]:
    rows = [freeze_row(box, counts, size) for size in counts.whole_freeze_sizes]
    rows.append(check_row(box, counts))
    return rows


def freeze_row(box: Sandbox, counts: Counts, size: int) -> Row:
    """`venvsyncd freeze` vs `pip freeze` vs `uv pip freeze`, whole processes, one venv."""
    folder = box.folder(f"whole-freeze{size}")
    venv = make_venv(box, folder / ".venv", filler_names(size - 1))
    ours: list[str | Path] = [*VSD, "freeze"]
    if run(ours, folder) != freeze_text(venv) or run(ours, folder) != run(
        [venv.python, "-m", "pip", "freeze"]
    ):
        raise BenchError(f"`venvsyncd freeze` in {folder} differs from pip freeze")
    records = Path(os.environ["XDG_STATE_HOME"], "venvsyncd", "freeze")

    def first_read() -> float:  # no record yet: the venv is read (and recorded)
        for record in records.glob("*.txt"):
            record.unlink()
        return timed_run(ours, folder)

    contenders = {"ours": _whole(ours, folder), "first": (first_read, 1)}
    contenders["pip"] = _whole([venv.python, "-m", "pip", "freeze"], folder)
    if box.uv is not None:
        contenders["uv"] = _whole([box.uv, "pip", "freeze", "--python", venv.python], folder)
    got = interleaved(contenders, counts.tool_runs)
    row = Row(f"whole-freeze-{size}", f"7 freeze, {size} dists (whole process)", got["ours"])
    row.pip, row.uv = got["pip"], got.get("uv")
    _judge(row, "uv pip freeze", 1.5)
    first = got["first"]
    row.ratios += f"; first read, before its record: {first.show()}"
    if isinstance(row.uv, Samples):
        row.ratios += f" ({show_ratio(ratio(first.median, row.uv.median))} of uv)"
    row.data["first_read"] = first.to_json()
    return row


def check_row(box: Sandbox, counts: Counts) -> Row:
    """`venvsyncd sync --check` on a 50-line project in sync vs `install -r` with nothing to
    do, whole processes."""
    packages = filler_names(50)
    project = make_project(box, box.folder("whole-check") / "p", packages)
    folder, file = project.path, str(project.requirements)
    python = project.load_venv().python
    ours: list[str | Path] = [*VSD, "sync", "--check"]
    run([*VSD, "sync"], folder)  # the first sync: both sides agree, the snapshot is stored
    contenders = {"ours": _whole(ours, folder)}
    contenders["pip"] = _whole([python, "-m", "pip", "install", "-q", "-r", file], folder)
    if box.uv is not None:
        uv_argv: list[str | Path] = [box.uv, "pip", "install", "-r", file, "--python", python]
        contenders["uv"] = _whole(uv_argv, folder)
    got = interleaved(contenders, counts.tool_runs)
    row = Row("whole-check", "8 sync --check, 50-line file in sync (whole process)", got["ours"])
    row.pip, row.uv = got["pip"], got.get("uv")
    _judge(row, "uv pip install -r, nothing to do", 1.5)
    return row


def _judge(row: Row, anchor: str, goal: float) -> None:
    """Ratios to pip and uv; the goal is judged against uv (against pip without uv)."""
    assert isinstance(row.ours, Samples) and isinstance(row.pip, Samples)
    parts = [f"vsd/pip {show_ratio(ratio(row.ours.median, row.pip.median))}"]
    against = row.pip
    if isinstance(row.uv, Samples):
        against = row.uv
        parts.append(f"vsd/uv {show_ratio(ratio(row.ours.median, row.uv.median))}")
    else:
        anchor = anchor.replace("uv pip", "pip")
    slower = ratio(row.ours.median, against.median)
    row.ratios = ", ".join(parts)
    row.goal, row.met = f"<= {goal:g}x {anchor}", slower <= goal
    row.data["vsd_over_goal_anchor"] = slower


def status_row(box: Sandbox, counts: Counts) -> Row:
    """`python -m venvsyncd status` against the running daemon vs `python -c pass`."""
    status: list[str | Path] = [*VSD, "status"]
    bare: list[str | Path] = [sys.executable, "-c", "pass"]
    contenders = {"ours": _whole(status, box.root), "python": _whole(bare, box.root)}
    got = interleaved(contenders, counts.status_runs)
    ours, anchor = got["ours"], got["python"]
    slower = ratio(ours.median, anchor.median)
    row = Row("whole-status", "6 status round trip (whole process)", ours)
    row.anchor, row.anchor_name = anchor, "python -c pass"
    row.ratios = f"vsd/python {show_ratio(slower)}"
    row.goal, row.met = "<= 2x python -c pass", slower <= 2.0
    row.data["vsd_over_goal_anchor"] = slower
    return row
