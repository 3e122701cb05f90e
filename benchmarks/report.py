"""Rows of the results table, the table as text and Markdown, the JSON, the machine."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.sandbox import run
from benchmarks.stats import Samples

COLUMNS = ("row", "venvsyncd", "pip", "uv", "anchor", "ratios", "goal", "met?")


@dataclass
class Row:
    """One line of the table. A cell is a `Samples` (shown as median [min-max]), a string
    (footprint figures), or None (not measured)."""

    key: str
    label: str
    ours: Samples | str | None = None
    pip: Samples | str | None = None
    uv: Samples | str | None = None
    anchor: Samples | str | None = None
    anchor_name: str = ""
    ratios: str = ""
    goal: str = ""
    met: bool | None = None
    data: dict[str, Any] = field(default_factory=dict)  # extra figures for the JSON

    def cells(self) -> list[str]:
        met = "-" if self.met is None else ("yes" if self.met else "NO")
        anchor = _cell(self.anchor)
        if self.anchor_name and anchor != "-":
            anchor = f"{anchor} ({self.anchor_name})"
        return [
            self.label,
            _cell(self.ours),
            _cell(self.pip),
            _cell(self.uv),
            anchor,
            self.ratios or "-",
            self.goal or "-",
            met,
        ]

    def to_json(self) -> dict[str, Any]:
        def value(cell: Samples | str | None) -> Any:
            return cell.to_json() if isinstance(cell, Samples) else cell

        return {
            "key": self.key,
            "label": self.label,
            "venvsyncd": value(self.ours),
            "pip": value(self.pip),
            "uv": value(self.uv),
            "anchor": value(self.anchor),
            "anchor_name": self.anchor_name or None,
            "ratios": self.ratios,
            "goal": self.goal,
            "met": self.met,
            **self.data,
        }


def _cell(cell: Samples | str | None) -> str:
    if cell is None:
        return "-"
    return cell.show() if isinstance(cell, Samples) else cell


def text_table(rows: Sequence[Row]) -> str:
    grid = [list(COLUMNS), *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(grid):
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.append("  ".join(padded).rstrip())
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def goal_lines(rows: Sequence[Row]) -> str:
    """Every row that has a goal: the goal, the measured figure or ratio, met or not."""
    out = []
    for row in rows:
        if row.goal:
            met = "met" if row.met else "NOT met"
            figure = row.ratios or _cell(row.ours)
            out.append(f"  {met:8} {row.label}: {row.goal}; measured {_cell(row.ours)}, {figure}")
    return "\n".join(out) or "  (no row with a goal was measured)"


def markdown_table(rows: Sequence[Row]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(COLUMNS), line(["---"] * len(COLUMNS))]
    out += [line(row.cells()) for row in rows]
    return "\n".join(out)


def machine(wheelhouse: Path, uv: str | None) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for text in cpuinfo.read_text(errors="replace").splitlines():
            if text.startswith("model name"):
                cpu = text.partition(":")[2].strip()
                break
    wheels = sorted(wheelhouse.glob("pip-*.whl"))  # the pip every benchmark venv has
    pip = f"pip {wheels[0].name.split('-')[1]}" if wheels else "ensurepip's pip"
    from venvsyncd import __version__

    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "pip": pip,
        "uv": run([uv, "--version"]).strip() if uv else None,
        "venvsyncd": __version__,
    }


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['nproc']} CPUs ({info['cpu']}), {info['os']}, Python {info['python']}, "
        f"{info['pip']}, {info['uv'] or 'no uv'}, venvsyncd {info['venvsyncd']}; "
        f"load average {info['load_1min_before']:.2f} before, {info['load_1min_after']:.2f} after"
    )


def write_json(path: Path, rows: Sequence[Row], info: dict[str, Any], quick: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"quick": quick, "machine": info, "rows": [row.to_json() for row in rows]}
    path.write_text(json.dumps(document, indent=1) + "\n")
