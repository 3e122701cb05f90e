"""Orphans: when a requirement leaves, what it brought and nothing else needs is listed, and
with `autoremove = true` uninstalled (engine/health.py). Real venvs, real pip and uv."""

from __future__ import annotations

import os
from pathlib import Path

from testing.venvs import make_venv, pip, run
from venvsyncd.config import load_config
from venvsyncd.engine.health import new_orphans
from venvsyncd.engine.outcome import Outcome, SyncRequest
from venvsyncd.engine.sync import sync_project
from venvsyncd.env.venvs import Venv
from venvsyncd.paths import locations
from venvsyncd.project import for_path


def configure(settings: str, installer: str) -> None:
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.write_text(f'[daemon]\ninstaller = "{installer}"\n[defaults]\n{settings}')


def synced(project: Path) -> Outcome:
    config = load_config(Path(os.environ["VENVSYNCD_CONFIG"]))
    return sync_project(for_path(config, project), locations().state_dir, SyncRequest())


def names(venv: Venv) -> set[str]:
    frozen = run([venv.python, "-m", "pip", "list", "--format=freeze"]).stdout
    return {line.split("==")[0].lower() for line in frozen.split()}


def test_an_uninstall_lists_what_the_package_brought(project: Path, installer: str) -> None:
    configure('style = "top"\n', installer)
    venv = make_venv(project / ".venv", "epsilon==1.0", "delta==1.0")
    req = project / "requirements.txt"
    req.write_text("epsilon==1.0\ndelta==1.0\n")
    first = synced(project)
    assert (first.state, first.orphans) == ("in-sync", ())
    pip(venv, "uninstall", "--yes", "epsilon")  # it brought eta
    outcome = synced(project)
    assert req.read_text() == "delta==1.0\n"
    assert (outcome.state, outcome.orphans, outcome.new_orphans) == ("in-sync", ("eta",), ("eta",))
    assert "eta" in names(venv)  # listed, not removed: autoremove is off
    again = synced(project)
    assert (again.orphans, again.new_orphans) == (("eta",), ())  # new only once


def test_autoremove_after_a_removed_line_and_after_a_user_s_uninstall(
    project: Path, installer: str
) -> None:
    configure("autoremove = true\n", installer)
    venv = make_venv(project / ".venv", "beta==1.0", "epsilon==1.0")
    req = project / "requirements.txt"
    req.write_text("beta==1.0\nepsilon==1.0\n")
    assert synced(project).state == "in-sync"
    req.write_text("epsilon==1.0\n")  # beta's line goes: beta, then the alpha it brought
    outcome = synced(project)
    assert outcome.state == "in-sync", outcome
    assert {"beta", "alpha"}.isdisjoint(names(venv))
    pip(venv, "uninstall", "--yes", "epsilon")  # the user's: its eta goes after it
    assert synced(project).state == "in-sync"
    assert req.read_text() == ""
    left = names(venv)
    assert "eta" not in left
    assert "pip" in left  # never an orphan


def test_orphans_found_at_the_first_look_are_not_new() -> None:
    """They were there before venvsyncd came: listed, never removed on their own."""
    assert new_orphans(("a", "b"), None) == ()
    assert new_orphans(("a", "b"), frozenset({"a"})) == ("b",)
