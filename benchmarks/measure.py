"""Rows 1-3, measured in this process: freeze, the no-op decision, the one-pin change.

venvsyncd's figures are engine calls (`freeze_text`, `sync_project`), the very calls the
daemon makes. pip and uv cannot be timed that way, so rows 1 and 2 have no pip or uv figure
(their whole-process counterparts are rows 7 and 8); row 3's calls run the installer as a
process, and are set beside that installer's own whole run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import Row
from benchmarks.sandbox import BenchError, Sandbox, run, timed_run
from benchmarks.setup_envs import (
    PIN_VERSIONS,
    PINNED,
    filler_names,
    installed_version,
    make_project,
    make_venv,
    set_pin,
)
from benchmarks.stats import Counts, Samples, interleaved, ratio, show_ratio, timer
from venvsyncd.engine.sync import Outcome, SyncRequest, sync_project
from venvsyncd.env.freeze import freeze_text, installed
from venvsyncd.env.venvs import Venv
from venvsyncd.paths import locations
from venvsyncd.project import Project


@contextmanager
def counting_popen() -> Iterator[list[int]]:
    """Count `subprocess.Popen` instances made inside the block (`run` and `check_output`
    make theirs through it)."""
    original = subprocess.Popen
    made = [0]

    class Counting(original):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made[0] += 1
            super().__init__(*args, **kwargs)

    subprocess.Popen = Counting  # type: ignore[misc]
    try:
        yield made
    finally:
        subprocess.Popen = original  # type: ignore[misc]


# ---- 1. freeze -----------------------------------------------------------------------------
def freeze_rows(box: Sandbox, counts: Counts) -> list[Row]:
    rows: list[Row] = []
    per_dist: dict[int, float] = {}
    for size in counts.freeze_sizes:
        venv = make_venv(box, box.folder(f"freeze{size}") / ".venv", filler_names(size - 1))
        row = _freeze_row(box, counts, venv, size)
        per_dist[size] = row.ours.median / size if isinstance(row.ours, Samples) else 0.0
        rows.append(row)
    _judge_linearity(rows, counts.freeze_sizes, per_dist)
    return rows


def _freeze_row(box: Sandbox, counts: Counts, venv: Venv, size: int) -> Row:
    found = len(installed(venv))
    pip_argv: list[str | Path] = [venv.python, "-m", "pip", "freeze"]
    if found != size or freeze_text(venv) != run(pip_argv):
        raise BenchError(f"{venv.root}: {found} dists, or freeze_text differs from pip freeze")
    got = interleaved({"ours": (timer(lambda: freeze_text(venv)), 1)}, counts.inproc_runs)
    ours = got["ours"]
    row = Row(f"freeze-{size}", f"1 freeze, {size} dists (in-process)", ours)
    row.ratios = f"{ours.median / size * 1e6:.1f} us per dist"
    if size == 50:
        row.goal, row.met = "< 5 ms", ours.median < 0.005
    row.data["identical_to_pip_freeze"] = True
    row.data["us_per_dist"] = ours.median / size * 1e6
    return row


def _judge_linearity(rows: list[Row], sizes: tuple[int, ...], per_dist: dict[int, float]) -> None:
    """The largest size's time per distribution within 1.5 times the middle size's."""
    if len(sizes) < 2:
        return
    small, large = sizes[-2], sizes[-1]
    growth = ratio(per_dist[large], per_dist[small])
    last = rows[-1]
    last.goal = f"~linear: per dist <= 1.5x of {small}'s"
    last.met = growth <= 1.5
    last.ratios += f"; per dist {growth:.2f}x of {small}"
    last.data["per_dist_growth"] = growth


# ---- shared projects for rows 2 and 3 --------------------------------------------------------
@dataclass(frozen=True)
class PinProjects:
    """Identical projects (a 50-line file), one per contender, so no contender disturbs
    another's state: venvsyncd with pip and with uv, pip -r, uv -r, pip and uv alone."""

    vsd_pip: Project
    vsd_uv: Project | None
    pip_r: Project
    uv_r: Project | None
    pip_alone: Project
    uv_alone: Project | None


def pin_projects(box: Sandbox, lines: int = 50) -> PinProjects:
    packages = [*filler_names(lines - 1), f"{PINNED}=={PIN_VERSIONS[0]}"]

    def make(name: str, needs_uv: bool = False) -> Project | None:
        if needs_uv and box.uv is None:
            return None
        return make_project(box, box.folder("pin") / name, packages)

    made = [make("vsd-pip"), make("vsd-uv", True), make("pip-r"), make("uv-r", True)]
    made += [make("pip-alone"), make("uv-alone", True)]
    for project in made:
        if project is not None and len(project.requirements.read_text().splitlines()) != lines:
            raise BenchError(f"{project.requirements} does not have {lines} lines")
    vsd_pip, vsd_uv, pip_r, uv_r, pip_alone, uv_alone = made
    assert vsd_pip is not None and pip_r is not None and pip_alone is not None
    for project in (vsd_pip, vsd_uv):
        if project is not None:
            first_sync(project)
    return PinProjects(vsd_pip, vsd_uv, pip_r, uv_r, pip_alone, uv_alone)


def first_sync(project: Project) -> None:
    """The first sync of a project whose sides agree: it stores the snapshot."""
    outcome = engine_sync(project, "pip")
    if outcome.state != "in-sync":
        raise BenchError(f"first sync of {project.path}: {outcome.state} {outcome.message}")


def engine_sync(project: Project, installer: str) -> Outcome:
    return sync_project(project, locations().state_dir, SyncRequest(installer=installer))


def install_argv(box: Sandbox, project: Project, tool: str, *args: str) -> list[str | Path]:
    python = project.load_venv().python
    if tool == "uv":
        assert box.uv is not None
        return [box.uv, "pip", "install", "--python", python, *args]
    return [python, "-m", "pip", "install", *args]


# ---- 2. no-op decision ---------------------------------------------------------------------
def noop_row(box: Sandbox, counts: Counts, projects: PinProjects) -> Row:
    """A touched, already satisfied file: venvsyncd's decision vs `install -r` runs."""
    project = projects.vsd_pip

    def decide() -> None:
        outcome = engine_sync(project, "pip")
        if outcome.state != "in-sync" or outcome.summary:
            raise BenchError(f"no-op sync did something: {outcome}")

    spawned = 0

    def touched_decision() -> float:
        nonlocal spawned
        os.utime(project.requirements)  # untimed: the save that woke the daemon
        with counting_popen() as made:  # patched outside the timed call
            took = timer(decide)()
        spawned += made[0]
        return took

    contenders = {"ours": (touched_decision, 1), "busy": (_busy_check(project), 1)}
    got = interleaved(contenders, counts.inproc_runs)
    ours = got["ours"]
    row = Row("noop", "2 no-op decision, 50-line file (in-process)", ours)
    row.ratios = f"subprocesses: {spawned}; daemon's busy check before it: {got['busy'].show()}"
    row.goal = "< 5 ms, no subprocess"
    row.met = ours.median < 0.005 and spawned == 0
    row.data["subprocesses_spawned"] = spawned
    row.data["daemon_busy_check"] = got["busy"].to_json()
    return row


def _busy_check(project: Project) -> Callable[[], float]:
    """The check the daemon makes before that sync: is an installer running on the venv?"""
    from venvsyncd.config import ProjectEntry
    from venvsyncd.daemon.tracked import Tracked
    from venvsyncd.daemon.worker import installer_busy

    tracked = Tracked(ProjectEntry(project.path, None, None, project.settings), project)
    tracked.site_packages = project.load_venv().site_packages
    return timer(lambda: installer_busy(tracked))


# ---- 3. one-pin change ---------------------------------------------------------------------
def one_pin_rows(box: Sandbox, counts: Counts, projects: PinProjects) -> list[Row]:
    """Move one pin of the 50-line file, alternating between two versions, every contender
    once per round."""
    got: dict[str, Samples] = {}
    for i in range(counts.pin_rounds):
        version = PIN_VERSIONS[(i + 1) % 2]
        for name, action in _pin_contenders(box, projects, version).items():
            got.setdefault(name, Samples()).add(action())
    rows = [_pin_row("pip", got["vsd-pip"], got["pip-alone"], got["pip-r"], got.get("uv-r"))]
    if "vsd-uv" in got:
        rows.append(_pin_row("uv", got["vsd-uv"], got["uv-alone"], None, None))
    return rows


def _pin_contenders(
    box: Sandbox, projects: PinProjects, version: str
) -> dict[str, Callable[[], float]]:
    def ours(project: Project, installer: str) -> Callable[[], float]:
        return lambda: _engine_pin(project, installer, version)

    def tool(project: Project, tool: str, whole_file: bool) -> Callable[[], float]:
        return lambda: _tool_pin(box, project, tool, version, whole_file)

    found: dict[str, Callable[[], float]] = {"vsd-pip": ours(projects.vsd_pip, "pip")}
    found["pip-r"] = tool(projects.pip_r, "pip", True)
    found["pip-alone"] = tool(projects.pip_alone, "pip", False)
    if projects.vsd_uv is not None and projects.uv_r is not None and projects.uv_alone:
        found["vsd-uv"] = ours(projects.vsd_uv, "uv")
        found["uv-r"] = tool(projects.uv_r, "uv", True)
        found["uv-alone"] = tool(projects.uv_alone, "uv", False)
    return found


def _engine_pin(project: Project, installer: str, version: str) -> float:
    set_pin(project.requirements, version)
    start = time.perf_counter()
    outcome = engine_sync(project, installer)
    took = time.perf_counter() - start
    venv = project.load_venv()
    if outcome.state != "in-sync" or installed_version(venv) != version:
        raise BenchError(f"venvsyncd did not install {PINNED}=={version}: {outcome}")
    return took


def _tool_pin(box: Sandbox, project: Project, tool: str, version: str, whole_file: bool) -> float:
    if whole_file:
        set_pin(project.requirements, version)
        argv = install_argv(box, project, tool, "-r", str(project.requirements))
    else:
        argv = install_argv(box, project, tool, f"{PINNED}=={version}")
    took = timed_run(argv)
    if installed_version(project.load_venv()) != version:
        raise BenchError(f"{' '.join(map(str, argv))} did not install {PINNED}=={version}")
    return took


def _pin_row(
    installer: str, ours: Samples, alone: Samples, pip_r: Samples | None, uv_r: Samples | None
) -> Row:
    slower = ratio(ours.median, alone.median)
    # Each round ran both back to back: the median of the rounds' own ratios is what a load
    # that comes and goes on the machine disturbs least, so the goal is judged on it.
    paired = statistics.median(ratio(a, b) for a, b in zip(ours.values, alone.values, strict=True))
    row = Row(f"one-pin-{installer}", f"3 one-pin change, 50-line file ({installer})", ours)
    row.pip, row.uv, row.anchor = pip_r, uv_r, alone
    row.anchor_name = f"{installer} alone"
    row.data |= {"vsd_over_alone_of_medians": slower, "vsd_over_alone_per_round": paired}
    parts = [f"vsd/alone {slower:.2f}x (per round {paired:.2f}x)"]
    if pip_r is not None:
        parts.append(f"pip -r/vsd {show_ratio(ratio(pip_r.median, ours.median))}")
    if uv_r is not None:
        parts.append(f"uv -r/vsd {show_ratio(ratio(uv_r.median, ours.median))}")
    row.ratios = ", ".join(parts)
    row.goal = f"<= 1.2x {installer} install pkg==v alone"
    row.met = paired <= 1.2
    return row
