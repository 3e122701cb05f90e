"""Where the time goes in the rows that miss their goal: cProfile and `-X importtime`.

    python benchmarks/profiles.py [noop] [pin-uv] [status] [--top N]

noop: cProfile of the no-op decision (`sync_project` on a satisfied 50-line project).
pin-uv: cProfile of venvsyncd's one-pin delta install with uv (the installer's own time shows
as `select.poll`, waiting for the child). status: `-X importtime` of `python -m venvsyncd
status` against a running daemon (the modules that cost most, cumulative), then cProfile.
Same offline sandbox as run.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from benchmarks import measure  # noqa: E402
from benchmarks.daemon_proc import Daemon  # noqa: E402
from benchmarks.sandbox import Sandbox, sandbox  # noqa: E402
from benchmarks.setup_envs import (  # noqa: E402
    PIN_VERSIONS,
    PINNED,
    bare_projects,
    build_wheelhouse,
    filler_names,
    make_project,
    set_pin,
    write_config,
)
from venvsyncd.project import Project  # noqa: E402


def profiled(action: Callable[[int], object], runs: int, top: int) -> str:
    """cProfile of `action(i)` for i in range(runs): the top functions, cumulative."""
    profile = cProfile.Profile()
    for i in range(runs):
        profile.enable()
        action(i)
        profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def pin_project(box: Sandbox) -> Project:
    packages = [*filler_names(49), f"{PINNED}=={PIN_VERSIONS[0]}"]
    project = make_project(box, box.folder("profile") / "project", packages)
    measure.first_sync(project)
    return project


def profile_noop(box: Sandbox, top: int) -> str:
    project = pin_project(box)
    return profiled(lambda i: measure.engine_sync(project, "pip"), 200, top)


def profile_pin_uv(box: Sandbox, top: int) -> str:
    project = pin_project(box)

    def one_pin(i: int) -> None:
        set_pin(project.requirements, PIN_VERSIONS[(i + 1) % 2])
        measure.engine_sync(project, "uv")

    return profiled(one_pin, 40, top)


def profile_status(box: Sandbox, top: int) -> str:
    write_config(box, bare_projects(box, 1), 0.5, "pip")
    daemon = Daemon(box.root / "daemon-profile.log")
    try:
        daemon.ready()
        daemon.idle()
        argv = [sys.executable, "-X", "importtime", "-m", "venvsyncd", "status"]
        err = subprocess.run(argv, capture_output=True, text=True, cwd=box.root).stderr
        lines = [line for line in err.splitlines() if line.startswith("import time:")][1:]
        lines.sort(key=lambda line: int(line.split("|")[1]), reverse=True)
        argv = [sys.executable, "-m", "cProfile", "-s", "cumulative", "-m", "venvsyncd", "status"]
        out = subprocess.run(argv, capture_output=True, text=True, cwd=box.root).stdout
    finally:
        daemon.stop()
    head = "import time (us): self | cumulative | module\n" + "\n".join(lines[:top])
    return head + "\n\n" + "\n".join(out.splitlines()[: top + 8])


PROFILES = {"noop": profile_noop, "pin-uv": profile_pin_uv, "status": profile_status}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("which", nargs="*", help=f"any of {', '.join(PROFILES)} (default: all)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(PROFILES)
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(sorted(unknown))}")
    with sandbox() as box:
        build_wheelhouse(box)
        for name in args.which or PROFILES:
            print(f"==== {name} ====\n{PROFILES[name](box, args.top)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
