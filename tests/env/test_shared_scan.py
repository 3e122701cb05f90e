"""One listing of site-packages shared by the reads of one action (env/scan.py), and what
makes it listed again: an entry made or removed, a folder changed too recently to trust,
the end of the action. A real venv; its files are dated a minute back so they may be kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from testing.venvs import dist_info, make_venv, remade_dist_info
from venvsyncd.env.busy import venv_mark
from venvsyncd.env.deps import read_dependencies
from venvsyncd.env.freeze import installed
from venvsyncd.env.scan import listing, shared, shared_listing
from venvsyncd.env.venvs import Venv, marker_environment

A_MINUTE_AGO = time.time() - 60


def age(path: Path) -> None:
    os.utime(path, (A_MINUTE_AGO, A_MINUTE_AGO))


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    venv = make_venv(tmp_path / "v", "alpha==1.0", "delta")
    for info in venv.site_packages.glob("*.dist-info"):
        for path in (*info.iterdir(), info):
            age(path)
    age(venv.site_packages)
    return venv


def test_a_listing_is_shared_only_inside_an_action(venv: Venv) -> None:
    site = str(venv.site_packages)
    assert shared_listing(site) is None  # outside: every reader lists for itself
    assert listing(site) is not listing(site)
    with shared():
        first = listing(site)
        assert listing(site) is first and shared_listing(site) is first
        with shared():  # nested: the same action
            assert listing(site) is first
    with shared():
        assert listing(site) is not first  # a new action lists anew


def test_an_entry_made_or_removed_lists_the_folder_again(venv: Venv) -> None:
    site = venv.site_packages
    with shared():
        first = listing(str(site))
        (site / "new_module.py").write_text("")
        second = listing(str(site))
        assert second is not first and str(site / "new_module.py") in second.by_path
        age(site)  # the change is old now: the next reads share the listing again
        third = listing(str(site))
        assert listing(str(site)) is third
        (site / "new_module.py").unlink()
        assert str(site / "new_module.py") not in listing(str(site)).by_path


def test_a_folder_changed_just_before_the_listing_is_not_shared(venv: Venv) -> None:
    site = venv.site_packages
    (site / "fresh.py").write_text("")  # site-packages changed now: same clock tick possible
    with shared():
        assert listing(str(site)) is not listing(str(site))


def test_metadata_replaced_in_place_under_the_same_name_is_read_again(venv: Venv) -> None:
    """A `.dist-info` keeps its name (same version) while its METADATA is replaced, as pip
    and uv write it (tmp + rename): the next action's freeze and deps read it again, and the
    mark changes, though site-packages itself did not change (only the folder's stat did)."""
    marker_env = marker_environment(venv)
    info = dist_info(venv, "delta")
    with shared():
        before = {d.name: d for d in installed(venv)}
        assert read_dependencies(venv, marker_env).requires("delta") == ()
        mark = venv_mark(venv)
        metadata = info / "METADATA"
        text = metadata.read_text().replace("Name: delta", "Name: Delta")
        tmp = info / "METADATA.tmp"
        tmp.write_text(text + "Requires-Dist: alpha\n")
        tmp.replace(metadata)
    assert before["delta"].raw_name == "delta"
    with shared():
        assert {d.name: d for d in installed(venv)}["delta"].raw_name == "Delta"
        assert read_dependencies(venv, marker_env).requires("delta") == ("alpha",)
        assert venv_mark(venv) != mark


def test_a_dist_info_replaced_within_one_action_is_read_again(venv: Venv) -> None:
    """An install during the action (the daemon's own) changes site-packages: the reads after
    it list the folder again and read the new `.dist-info`."""
    with shared():
        assert {d.name: d.raw_name for d in installed(venv)}["delta"] == "delta"
        remade_dist_info(venv, "delta", "Delta")
        assert {d.name: d.raw_name for d in installed(venv)}["delta"] == "Delta"
