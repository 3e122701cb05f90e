"""The daemon's own cost, on the real process: CPU per user install (a 267-distribution venv,
and fleets of 10 / 100 / 1,000 projects), its footprint, and one project's install not
holding back another's.

CPU comes from /proc/PID/stat (utime + stime), threads and RSS from /proc/PID/status. A
user's install is a real `pip install` (or `uv pip install`) run from outside the daemon; its
own CPU (the children's rusage) is shown beside the daemon's, measured the same way.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.daemon_proc import Daemon, wait_until
from benchmarks.held_index import HeldIndex
from benchmarks.report import Row
from benchmarks.sandbox import BenchError, Sandbox, run
from benchmarks.setup_envs import (
    PIN_VERSIONS,
    PINNED,
    bare_projects,
    filler_names,
    make_project,
    write_config,
)
from benchmarks.stats import Counts, Samples, seconds
from venvsyncd.project import Project

POLL = 0.002


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pinned_in(path: Path, version: str) -> Callable[[], bool]:
    line = f"{PINNED}=={version}"
    return lambda: line in path.read_text().splitlines()


def user_install(box: Sandbox, python: Path, version: str, tool: str) -> float:
    """`tool` installs PINNED==version into the venv of `python`; the CPU it used."""
    before = children_cpu()
    if tool == "uv" and box.uv is not None:
        run([box.uv, "pip", "install", "--python", python, f"{PINNED}=={version}"])
    else:  # the venv may have no pip of its own: this interpreter's pip, aimed at it
        pin = f"{PINNED}=={version}"
        run([sys.executable, "-m", "pip", "--python", python, "install", "-q", pin])
    return children_cpu() - before


# ---- CPU per install, 267 distributions -----------------------------------------------------
def per_install_row(box: Sandbox, counts: Counts) -> Row:
    """The daemon's CPU for one user `pip install` in a 267-distribution venv (it reads the
    change, checks for installers, writes the file), beside pip's and uv's own CPU for it."""
    size = counts.big_venv
    packages = [*filler_names(size - 2), f"{PINNED}=={PIN_VERSIONS[0]}"]
    watched = make_project(box, box.folder("big") / "watched", packages)
    anchor = make_project(box, box.folder("big") / "anchor", packages)
    write_config(box, [watched.path], counts.settle, "pip")
    daemon = Daemon(box.root / "daemon-big.log")
    ours, pip, uv = Samples(), Samples(), Samples()
    try:
        daemon.ready()
        daemon.idle()
        python = watched.load_venv().python
        for i in range(counts.install_rounds + 1):
            version = PIN_VERSIONS[(i + 1) % 2]
            before = daemon.cpu_seconds()
            pip_cpu = user_install(box, python, version, "pip")
            wait_until(pinned_in(watched.requirements, version), 30, "the file", POLL)
            daemon.idle(path=watched.path)  # its CPU is measured apart: `wait_cost`
            if i:  # the first is a warm-up
                ours.add(daemon.cpu_seconds() - before)
                pip.add(pip_cpu)
                if box.uv is not None:
                    uv.add(user_install(box, anchor.load_venv().python, version, "uv"))
        barrier = wait_cost(daemon, watched.path)
    finally:
        daemon.stop()
    # /proc counts CPU in clock ticks (10 ms): the mean over the rounds is the figure
    mean = sum(ours.values) / len(ours.values) - barrier
    row = Row("cpu-per-install", f"9 daemon CPU per user pip install, {size} dists", ours)
    row.pip, row.uv = pip, (uv if uv.values else None)
    row.ratios = (
        f"mean {seconds(mean)} (the benchmark's own `status --wait` after each install, "
        f"{seconds(barrier)} alone, taken off); "
        f"{busy_check_cost(watched, counts.busy_processes)}"
    )
    row.goal, row.met = "<= 15 ms (mean)", mean <= 0.015
    row.data["mean_cpu_s"], row.data["wait_cpu_s"] = mean, barrier
    return row


def wait_cost(daemon: Daemon, project: Path, calls: int = 100) -> float:
    """The daemon's CPU for one `wait` on `project` (the barrier the rounds above end with:
    it looks at the project on disk), the daemon idle; the mean over `calls` (CPU comes in
    10 ms ticks)."""
    before = daemon.cpu_seconds()
    for _ in range(calls):
        daemon.idle(path=project)
    return (daemon.cpu_seconds() - before) / calls


def busy_check_cost(project: Project, processes: int) -> str:
    """What the daemon's installer check costs here, in this process, with `processes`
    processes on the machine (sleepers are started up to that number)."""
    count = sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit())
    sleep = shutil.which("sleep") or "/bin/sleep"
    sleepers = []
    try:
        for _ in range(max(0, processes - count)):
            sleepers.append(subprocess.Popen([sleep, "600"], stdin=subprocess.DEVNULL))
    except OSError:  # a process limit: measure with the processes there are
        pass
    try:
        from venvsyncd.env.processes import YOUNG, installer_processes

        installer_processes(project.load_venv(), full=True)  # the sleepers are seen...
        time.sleep(YOUNG)  # ...and are old, as most of a machine's processes are
        return _busy_check_cost(project)
    finally:
        for proc in sleepers:
            proc.kill()
        for proc in sleepers:
            proc.wait()


def _busy_check_cost(project: Project) -> str:
    """Medians: a full look at /proc (the daemon makes one every SCAN_REUSE seconds while
    events come), a quick look (every other check), and the on-disk check."""
    from venvsyncd.env.busy import install_in_progress
    from venvsyncd.env.processes import SCAN_REUSE, installer_processes

    venv = project.load_venv()
    installer_processes(venv, full=True)  # untimed: the sleepers have all started by its end
    full, quick = Samples(), Samples()
    for _ in range(5):
        started = time.perf_counter()
        installer_processes(venv, full=True)
        full.add(time.perf_counter() - started)
        started = time.perf_counter()
        installer_processes(venv)
        quick.add(time.perf_counter() - started)
    disk = Samples()
    for _ in range(20):
        started = time.perf_counter()
        install_in_progress(venv, fresh_after=time.time() - 2.0, processes=False)
        disk.add(time.perf_counter() - started)
    procs = sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return (
        f"busy check {seconds(quick.median + disk.median)} ({procs} processes: /proc quick "
        f"look {seconds(quick.median)}; a full look {seconds(full.median)}, every {SCAN_REUSE:g} s "
        "at most)"
    )


# ---- fleets ---------------------------------------------------------------------------------
def fleet_rows(box: Sandbox, counts: Counts) -> list[Row]:
    projects = bare_projects(box, max(counts.fleet_sizes))
    return [_fleet(box, counts, projects[:size]) for size in counts.fleet_sizes]


def _fleet(box: Sandbox, counts: Counts, projects: list[Path]) -> Row:
    write_config(box, projects, counts.settle, "pip")
    daemon = Daemon(box.root / f"daemon-fleet{len(projects)}.log")
    try:
        ready = daemon.ready(120.0)
        daemon.idle(300.0)
        in_sync = time.monotonic() - daemon.started
        figures = {"ready_s": ready, "all_in_sync_s": in_sync, "rss_mb": daemon.rss_mb()}
        figures |= {"threads": daemon.threads(), "inotify_watches": daemon.inotify_watches()}
        before, at = daemon.cpu_seconds(), time.monotonic()
        time.sleep(counts.idle_seconds)
        idle_rate = (daemon.cpu_seconds() - before) / (time.monotonic() - at)
        figures["cpu_idle_percent"] = idle_rate * 100
        figures["cpu_per_install_s"] = _fleet_installs(box, counts, daemon, projects, idle_rate)
        figures["rss_after_mb"] = daemon.rss_mb()
    finally:
        daemon.stop()
    return _fleet_row(len(projects), figures)


def _fleet_installs(
    box: Sandbox, counts: Counts, daemon: Daemon, projects: list[Path], idle_rate: float
) -> float:
    """The daemon's CPU per user install into one of the projects, its idle CPU taken off."""
    used = 0.0
    for i in range(counts.install_rounds):
        folder = projects[i % len(projects)]
        version = PIN_VERSIONS[(i // len(projects)) % 2]
        before, at = daemon.cpu_seconds(), time.monotonic()
        user_install(box, folder / ".venv" / "bin" / "python", version, "uv")
        wait_until(pinned_in(folder / "requirements.txt", version), 30, "the file", POLL)
        daemon.idle(path=folder)  # that project's barrier only: a fleet-wide one is O(fleet)
        used += daemon.cpu_seconds() - before - idle_rate * (time.monotonic() - at)
    return max(0.0, used / counts.install_rounds)


def _fleet_row(size: int, f: dict[str, float]) -> Row:
    cell = (
        f"ready {seconds(f['ready_s'])}, {f['threads']:.0f} threads, {f['rss_mb']:.1f} MB, "
        f"{f['inotify_watches']:.0f} watches, idle {f['cpu_idle_percent']:.3f}% CPU, "
        f"{seconds(f['cpu_per_install_s'])} CPU per install"
    )
    row = Row(f"fleet-{size}", f"5 fleet, {size} projects", cell, data=dict(f))
    row.ratios = f"all in sync after {seconds(f['all_in_sync_s'])}"
    return row


# ---- one project's install does not hold back another's -------------------------------------
def cross_project_row(box: Sandbox, counts: Counts) -> Row:
    """B's user pip exits -> B's file is written, while the daemon's install for A is held
    by a loopback index that does not answer until released."""
    held = HeldIndex(box.folder("held-wheels"), "heldpkg", ("1.0", "2.0"))
    try:
        a = _held_project(box, held)
        b = make_project(box, box.folder("cross") / "b", [f"{PINNED}=={PIN_VERSIONS[0]}"])
        write_config(box, [a.path, b.path], counts.settle, "pip")
        daemon = Daemon(box.root / "daemon-cross.log")
        try:
            daemon.ready()
            daemon.idle()
            took = _while_held(box, daemon, held, a, b, counts)
        finally:
            held.release()
            daemon.stop()
    finally:
        held.close()
    label = "10 cross-project: B's pip exits -> B's file written, A's install held"
    row = Row("cross-project", label, took)
    row.ratios = f"A held {seconds(counts.hold_seconds)}; settle_seconds = {counts.settle:g}"
    goal = counts.settle + 0.3
    row.goal, row.met = f"< {seconds(goal)} (settle + 0.3 s)", took.median < goal
    return row


def _held_project(box: Sandbox, held: HeldIndex) -> Project:
    folder = box.folder("cross") / "a"
    project = make_project(box, folder, [])
    python = project.load_venv().python
    run([python, "-m", "pip", "install", "-q", "--find-links", held.url, "heldpkg==1.0"])
    project.requirements.write_text(f"--find-links {held.url}\nheldpkg==1.0\n")
    return project


def _while_held(
    box: Sandbox, daemon: Daemon, held: HeldIndex, a: Project, b: Project, counts: Counts
) -> Samples:
    took = Samples()
    python = b.load_venv().python
    for i in range(counts.cross_rounds):
        held.hold()
        wanted = ("2.0", "1.0")[i % 2]
        a.requirements.write_text(f"--find-links {held.url}\nheldpkg=={wanted}\n")
        if not held.wait_asked(30.0):
            raise BenchError(f"the daemon never fetched heldpkg for A:\n{daemon.output()[-2000:]}")
        version = PIN_VERSIONS[(i + 1) % 2]
        run([python, "-m", "pip", "install", "-q", f"{PINNED}=={version}"])
        exited = time.monotonic()
        written = pinned_in(b.requirements, version)
        try:
            wait_until(written, counts.hold_seconds, "B's file while A is held", POLL)
        except BenchError:  # not written while A's install was held: let A go, and wait
            held.release()
            wait_until(written, 60, "B's file", POLL)
        took.add(time.monotonic() - exited)
        held.release()
        daemon.idle()
    return took
