"""How the daemon judges an event against what the last sync saw (daemon/signatures.py):
by the side it came from, without a look at site-packages' entries when that is not needed,
and never taking a real change for an echo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from testing.venvs import dist_info, make_venv, pip
from venvsyncd.config import ProjectEntry, ProjectSettings
from venvsyncd.daemon import signatures
from venvsyncd.daemon.signatures import changed, signature, venv_moved
from venvsyncd.daemon.tracked import Tracked
from venvsyncd.project import resolve


@pytest.fixture
def tracked(project: Path) -> Tracked:
    venv = make_venv(project / ".venv", "alpha==1.0")
    (project / "requirements.txt").write_text("alpha==1.0\n")
    entry = ProjectEntry(project, None, None, ProjectSettings())
    found = Tracked(entry, resolve(entry), site_packages=venv.site_packages)
    found.seen = signature(found)
    return found


def no_venv_look(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(tracked: Tracked) -> object:
        raise AssertionError("site-packages' entries were looked at")

    monkeypatch.setattr(signatures, "venv_signature", refused)


def test_nothing_changed_is_an_echo_on_either_side(tracked: Tracked) -> None:
    assert not changed(tracked, venv=True)
    assert not changed(tracked, venv=False)


def test_an_edit_of_the_file_is_judged_without_listing_the_venv(
    tracked: Tracked, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_venv_look(monkeypatch)
    assert not changed(tracked, venv=False)
    tracked.project.requirements.write_text("alpha==1.1\n")
    assert changed(tracked, venv=False)


def test_an_install_moves_site_packages_and_needs_no_listing(
    tracked: Tracked, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tracked.project.load_venv()
    pip(venv, "install", "alpha==1.1")
    no_venv_look(monkeypatch)
    assert venv_moved(tracked)
    assert changed(tracked, venv=True)


def test_a_change_inside_a_dist_info_is_found_by_a_listing(tracked: Tracked) -> None:
    """A RECORD rewritten by tmp + rename inside an existing `.dist-info` leaves
    site-packages' own mtime as it was: the entries are looked at, and it is a change."""
    site = tracked.site_packages
    assert site is not None
    before = site.stat().st_mtime_ns
    info = dist_info(tracked.project.load_venv(), "alpha")
    record = info / "RECORD"
    shutil.copy(record, info / "RECORD.tmp")
    os.replace(info / "RECORD.tmp", record)
    os.utime(site, ns=(site.stat().st_atime_ns, before))
    assert not venv_moved(tracked)
    assert changed(tracked, venv=True)


def test_a_venv_change_heard_only_as_a_file_event_is_found_by_the_rescan(
    tracked: Tracked,
) -> None:
    """Judged by the file's side, an install is not looked for (its own event brings it);
    a look with no event to go by (the rescan, a barrier) takes in both sides."""
    pip(tracked.project.load_venv(), "install", "alpha==1.1")
    assert not changed(tracked, venv=False)
    assert changed(tracked, venv=True)
