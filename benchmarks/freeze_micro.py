"""Micro-benchmark: in-process `freeze_text` beside `pip freeze` run as a subprocess.

Builds 50 tiny wheels into a temporary wheelhouse, makes a venv with `python -m venv`,
installs the wheels (and, when this interpreter has one, its own pip) offline with the venv's
pip, checks that both freezes agree, then times them.

    python benchmarks/freeze_micro.py [--dists 50] [--runs 200] [--pip-runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from testing.wheelhouse import build_wheel, repack_installed  # noqa: E402
from venvsyncd.env.freeze import freeze_text  # noqa: E402
from venvsyncd.env.venvs import Venv, load_venv  # noqa: E402

# Name spellings as found in the wild: dots, dashes, underscores, capitals.
_SPELLINGS = ("bench{i:02d}", "Bench_Pkg{i:02d}", "bench.dots{i:02d}", "bench-dash{i:02d}")


def child_env() -> dict[str, str]:
    """This environment without pip/Python settings that would change what pip does."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def build_wheelhouse(folder: Path, count: int) -> list[str]:
    names = []
    for i in range(count):
        name = _SPELLINGS[i % len(_SPELLINGS)].format(i=i)
        build_wheel(folder, name, f"1.{i}.0")
        names.append(name)
    try:
        repack_installed(folder, "pip")
        names.append("pip")
    except Exception:  # no pip in this interpreter: keep the one ensurepip installs
        pass
    return names


def make_bench_venv(root: Path, wheelhouse: Path, names: list[str]) -> Venv:
    env = child_env()
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, env=env)
    venv = load_venv(root)
    subprocess.run(
        [
            str(venv.python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "--upgrade",
            *names,
        ],
        check=True,
        env=env,
    )
    return venv


def pip_freeze(venv: Venv) -> str:
    return subprocess.run(
        [str(venv.python), "-m", "pip", "freeze"],
        check=True,
        env=child_env(),
        capture_output=True,
        text=True,
    ).stdout


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds per run."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(label: str, times: list[float]) -> str:
    return (
        f"{label:<28} median {statistics.median(times):9.2f} ms   "
        f"min {min(times):9.2f} ms   max {max(times):9.2f} ms   ({len(times)} runs)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dists", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pip-runs", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="freeze-micro-") as tmp:
        wheelhouse = Path(tmp, "wheelhouse")
        wheelhouse.mkdir()
        venv = make_bench_venv(
            Path(tmp, "venv"), wheelhouse, build_wheelhouse(wheelhouse, args.dists)
        )
        expected = pip_freeze(venv)
        same = freeze_text(venv) == expected
        ours = timed(lambda: freeze_text(venv), args.runs)
        theirs = timed(lambda: pip_freeze(venv), args.pip_runs)
    print(
        f"venv: {args.dists} tiny wheels + pip; `pip freeze` lists "
        f"{len(expected.splitlines())} lines; freeze_text identical: {same}"
    )
    print(report("freeze_text (in-process)", ours))
    print(report("pip freeze (subprocess)", theirs))
    print(
        f"ratio (median): pip freeze / freeze_text = "
        f"{statistics.median(theirs) / statistics.median(ours):.0f}x"
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
