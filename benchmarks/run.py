"""venvsyncd beside pip and uv, measured side by side in one run, offline.

    python benchmarks/run.py [--quick] [--json OUT] [--only GROUP,...] [--keep]

Builds a wheelhouse of tiny generated wheels and its own venvs in a temporary sandbox (own
HOME, XDG dirs, pip and uv settings: no index, no real home), measures every row with its
anchors (medians, min-max, ratios), prints a table and writes JSON (default
benchmarks/results/latest.json) and the same table as Markdown next to it. Timings are
reported, never asserted: the exit status is 0 unless a command or a correctness check fails.
Groups: freeze (row 1), engine (rows 2-3), daemon (rows 4 and 6), fleet (rows 5, 9, 10),
whole (rows 7-8). Rows 1-3 are the daemon's in-process calls; rows 6-8 are whole processes,
each beside pip, uv or Python run the same way; rows 5, 9 and 10 read the daemon process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from benchmarks import daemon_rows, fleet_rows, measure, whole_rows  # noqa: E402
from benchmarks.report import (  # noqa: E402
    Row,
    goal_lines,
    machine,
    machine_line,
    markdown_table,
    text_table,
    write_json,
)
from benchmarks.sandbox import BenchError, Sandbox, sandbox  # noqa: E402
from benchmarks.setup_envs import build_wheelhouse  # noqa: E402
from benchmarks.stats import QUICK, Counts  # noqa: E402

GROUPS = ("freeze", "engine", "whole", "daemon", "fleet")
DEFAULT_JSON = REPO / "benchmarks" / "results" / "latest.json"


def engine_rows(box: Sandbox, counts: Counts) -> list[Row]:
    projects = measure.pin_projects(box)
    return [measure.noop_row(box, counts, projects), *measure.one_pin_rows(box, counts, projects)]


def fleet(box: Sandbox, counts: Counts) -> list[Row]:
    rows = fleet_rows.fleet_rows(box, counts)
    rows.append(fleet_rows.per_install_row(box, counts))
    rows.append(fleet_rows.cross_project_row(box, counts))
    return rows


RUNNERS: dict[str, Callable[[Sandbox, Counts], list[Row]]] = {
    "freeze": measure.freeze_rows,
    "engine": engine_rows,
    "whole": whole_rows.whole_rows,
    "daemon": daemon_rows.reaction_and_status,
    "fleet": fleet,
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and counts (CI)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the JSON goes")
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox for a look")
    parser.add_argument("--no-uv", action="store_true", help="measure as if uv were not there")
    args = parser.parse_args(argv)
    args.groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; choose from {GROUPS}")
    return args


def measure_all(box: Sandbox, counts: Counts, groups: Sequence[str]) -> list[Row]:
    rows: list[Row] = []
    for group in GROUPS:
        if group in groups:
            started = time.monotonic()
            print(f"measuring {group} ...", file=sys.stderr, flush=True)
            rows += RUNNERS[group](box, counts)
            print(f"  {group}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return sorted(rows, key=lambda row: int(row.label.split()[0]))  # by row number


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    counts = QUICK if args.quick else Counts()
    load_before = os.getloadavg()[0]
    with sandbox(keep=args.keep, use_uv=not args.no_uv) as box:
        try:
            build_wheelhouse(box)
            rows = measure_all(box, counts, args.groups)
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        info = machine(box.wheelhouse, box.uv)
    info["load_1min_before"], info["load_1min_after"] = load_before, os.getloadavg()[0]
    write_json(args.json, rows, info, args.quick)
    args.json.with_suffix(".md").write_text(markdown_table(rows) + "\n")
    print(f"\n{machine_line(info)}{' (--quick)' if args.quick else ''}\n")
    print(text_table(rows))
    print("\ngoals:")
    print(goal_lines(rows))
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
