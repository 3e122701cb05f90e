"""Rows 4 and 6, measured on the real daemon process: reaction, and the status round trip."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from benchmarks.daemon_proc import Daemon, wait_until
from benchmarks.measure import install_argv
from benchmarks.report import Row
from benchmarks.sandbox import BenchError, Sandbox, run, timed_run
from benchmarks.setup_envs import (
    PIN_VERSIONS,
    PINNED,
    filler_names,
    installed_version,
    make_project,
    set_pin,
    write_config,
)
from benchmarks.stats import Counts, Samples, seconds
from benchmarks.whole_rows import status_row
from venvsyncd.project import Project

POLL = 0.002  # seconds between looks at the file or the venv


@dataclass(frozen=True)
class Reaction:
    pip_to_file: Samples  # the user's pip exits -> the file holds the new pin
    file_to_installed: Samples  # the file is saved -> venvsyncd's install has finished
    pip_alone: Samples  # pip's own time for the same one-package install


# ---- 4. reaction ---------------------------------------------------------------------------
def reaction_and_status(box: Sandbox, counts: Counts) -> list[Row]:
    """Rows 4 and 6 share one daemon watching one 50-line project."""
    packages = [*filler_names(49), f"{PINNED}=={PIN_VERSIONS[0]}"]
    watched = make_project(box, box.folder("reaction") / "watched", packages)
    anchor = make_project(box, box.folder("reaction") / "anchor", packages)
    write_config(box, [watched.path], counts.settle, "pip")
    daemon = Daemon(box.root / "daemon-reaction.log")
    try:
        daemon.ready()
        daemon.idle()
        found = _reactions(box, daemon, watched, anchor, counts.reaction_rounds)
        rows = _reaction_rows(found, counts.settle)
        rows.append(status_row(box, counts))
    finally:
        daemon.stop()
    return rows


def _reactions(
    box: Sandbox, daemon: Daemon, watched: Project, anchor: Project, rounds: int
) -> Reaction:
    found = Reaction(Samples(), Samples(), Samples())
    venv = watched.load_venv()
    step = 0
    for _ in range(rounds):
        step += 1
        found.pip_to_file.add(_pip_to_file(daemon, watched, PIN_VERSIONS[step % 2]))
        step += 1
        version = PIN_VERSIONS[step % 2]
        found.file_to_installed.add(_file_to_installed(daemon, watched, version))
        found.pip_alone.add(timed_run(install_argv(box, anchor, "pip", f"{PINNED}=={version}")))
        if installed_version(venv) != version:
            raise BenchError(f"the daemon did not install {PINNED}=={version}")
    return found


def _pip_to_file(daemon: Daemon, project: Project, version: str) -> float:
    """The user's `pip install pkg==v` exits; seconds until the file pins v."""
    python = project.load_venv().python
    run([python, "-m", "pip", "install", f"{PINNED}=={version}"])
    exited = time.monotonic()
    line = f"{PINNED}=={version}"
    wait_until(
        lambda: line in project.requirements.read_text().splitlines(), 30, f"{line} in file", POLL
    )
    took = time.monotonic() - exited
    daemon.idle()
    return took


def _file_to_installed(daemon: Daemon, project: Project, version: str) -> float:
    """The user saves the file with a new pin; seconds until the daemon's install is done
    (its `last_change` names the install, reported right after the installer exited)."""
    venv = project.load_venv()
    wanted = f"+{PINNED}=={version}"

    def done() -> bool:
        if installed_version(venv) != version:  # cheap: no socket round trip before it
            return False
        shown: dict[str, Any] = daemon.ask("status")["projects"][0]
        return wanted in (shown["last_change"] or "") and shown["state"] != "syncing"

    set_pin(project.requirements, version)
    saved = time.monotonic()
    wait_until(done, 60, f"the daemon to install {wanted}", POLL)
    took = time.monotonic() - saved
    daemon.idle()
    return took


def _reaction_rows(found: Reaction, settle: float) -> list[Row]:
    goal = settle + 0.3
    first = Row("reaction-pip-to-file", "4 reaction: pip exits -> file written")
    first.ours = found.pip_to_file
    first.ratios = f"settle_seconds = {settle:g}"
    first.goal, first.met = f"< {seconds(goal)} (settle + 0.3 s)", found.pip_to_file.median < goal
    # The median of each round's own difference: pip's time varies with the machine's load,
    # and each round's daemon install and pip-alone install ran back to back.
    pairs = zip(found.file_to_installed.values, found.pip_alone.values, strict=True)
    overhead = statistics.median(ours - pip for ours, pip in pairs)
    second = Row("reaction-file-to-installed", "4 reaction: file saved -> installed")
    second.ours, second.anchor = found.file_to_installed, found.pip_alone
    second.anchor_name = "pip alone"
    second.ratios = f"minus pip's own time (per round): {seconds(overhead)}"
    second.goal, second.met = f"overhead < {seconds(goal)} (settle + 0.3 s)", overhead < goal
    second.data["overhead_s"] = overhead
    return [first, second]
