"""Samples of one measurement (seconds), and how they are shown."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Samples:
    """Seconds per run of one thing, in the order measured."""

    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def to_json(self) -> dict[str, Any]:
        return {
            "median_s": self.median,
            "min_s": self.low,
            "max_s": self.high,
            "runs": len(self.values),
            "samples_s": self.values,
        }

    def show(self) -> str:
        """`1.23 ms [1.10-1.52]`: median, then min-max in the median's unit."""
        unit, scale = unit_for(self.median)
        return (
            f"{_num(self.median * scale)} {unit} "
            f"[{_num(self.low * scale)}-{_num(self.high * scale)}]"
        )


def unit_for(seconds: float) -> tuple[str, float]:
    if seconds < 1e-3:
        return "us", 1e6
    if seconds < 1.0:
        return "ms", 1e3
    return "s", 1.0


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def seconds(value: float) -> str:
    unit, scale = unit_for(abs(value))
    return f"{_num(value * scale) if value >= 0 else '-' + _num(-value * scale)} {unit}"


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")


def show_ratio(value: float) -> str:
    return f"{value:.0f}x" if value >= 10 else f"{value:.2f}x"


def timer(action: Callable[[], object]) -> Callable[[], float]:
    """`action`, returning the seconds it took."""

    def timed() -> float:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start

    return timed


def interleaved(
    contenders: dict[str, tuple[Callable[[], float], int]], rounds: int
) -> dict[str, Samples]:
    """Measure contenders side by side: one untimed warm-up each, then `rounds` rounds in
    which each contender runs its number of times per round. Each action returns the seconds
    it took (see `timer`), so it may do untimed preparation itself. A load that comes and goes
    on the machine then falls on every contender alike."""
    got = {name: Samples() for name in contenders}
    for action, _ in contenders.values():
        action()
    for _ in range(rounds):
        for name, (action, per_round) in contenders.items():
            for _ in range(per_round):
                got[name].add(action())
    return got


@dataclass(frozen=True)
class Counts:
    """How much to measure: sizes and repetitions (`--quick` makes them small)."""

    freeze_sizes: tuple[int, ...] = (10, 50, 200)
    inproc_runs: int = 200  # in-process calls (freeze, no-op decision)
    tool_runs: int = 10  # whole-process pip/uv runs per figure
    pin_rounds: int = 20  # one-pin changes per contender
    reaction_rounds: int = 10
    whole_freeze_sizes: tuple[int, ...] = (50, 267)  # whole-process `freeze` rows
    big_venv: int = 267  # distributions in the venv of the CPU-per-install row
    install_rounds: int = 10  # user installs per CPU-per-install figure
    busy_processes: int = 2000  # processes on the machine for the busy check's cost
    fleet_sizes: tuple[int, ...] = (10, 100, 1000)
    idle_seconds: float = 20.0
    status_runs: int = 20
    cross_rounds: int = 5
    hold_seconds: float = 5.0  # how long A's install is held in the cross-project row
    settle: float = 0.5  # the daemon's settle_seconds


QUICK = Counts(
    freeze_sizes=(10, 50),
    inproc_runs=20,
    tool_runs=5,
    pin_rounds=2,
    reaction_rounds=2,
    whole_freeze_sizes=(50,),
    install_rounds=3,
    busy_processes=0,
    fleet_sizes=(3, 10),
    idle_seconds=2.0,
    status_runs=10,
    cross_rounds=1,
    hold_seconds=3.0,
)
