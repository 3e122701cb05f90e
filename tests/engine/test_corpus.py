"""Acceptance: every tricky file of tests/corpus, with a venv that satisfies it, is in sync.

`sync --check` exits 0, and `sync` leaves the file byte-identical.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testing.venvs import UV, run
from venvsyncd.cli import main

CORPUS = Path(__file__).parents[1] / "corpus"
CASES = sorted(CORPUS.glob("[0-9]*.txt"))


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_satisfied_file_is_in_sync_and_untouched(case: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(CORPUS, project)  # includes (-r/-c) name their siblings
    req = project / "requirements.txt"
    shutil.copyfile(case, req)
    venv = project / ".venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    quick: list[str | Path] = [UV, "pip", "install", "--python", python, "-r", req]
    if subprocess.run(quick, cwd=project, capture_output=True, check=False).returncode != 0:
        # uv refuses some forms pip reads (continuations after a specifier, some options)
        run([sys.executable, "-m", "pip", "--python", python, "install", "-r", req], cwd=project)
    before = req.read_bytes()
    assert main(["sync", str(project), "--check"]) == 0
    assert main(["sync", str(project)]) == 0
    assert req.read_bytes() == before
