"""What freeze and the venv's mark keep between reads, and what makes them read again.

A real venv; a distribution is changed the ways pip and uv change one (a file added or
replaced by tmp + rename in its `.dist-info`, the folder replaced), after it was kept. Its
files are dated a minute back first, so that it is old enough to be kept at all.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from testing.venvs import dist_info, make_venv, pip_freeze, remade_dist_info
from venvsyncd.env.busy import venv_mark
from venvsyncd.env.freeze import freeze_text, installed
from venvsyncd.env.venvs import Venv

A_MINUTE_AGO = time.time() - 60


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    venv = make_venv(tmp_path / "v", "alpha==1.0", "delta")
    for info in venv.site_packages.glob("*.dist-info"):
        for path in (*info.iterdir(), info):
            os.utime(path, (A_MINUTE_AGO, A_MINUTE_AGO))
    return venv


def replace_file(path: Path, data: str) -> None:
    """As pip writes RECORD and direct_url.json: a tmp file renamed over the old one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data)
    tmp.replace(path)


def test_a_direct_url_written_after_a_read_is_seen(venv: Venv, tmp_path: Path) -> None:
    assert "alpha==1.0\n" in freeze_text(venv)
    assert freeze_text(venv) == pip_freeze(venv)  # the second read comes from what was kept
    wheel = tmp_path / "alpha-1.0-py3-none-any.whl"
    direct = f'{{"url": "{wheel.as_uri()}", "archive_info": {{}}}}'
    replace_file(dist_info(venv, "alpha") / "direct_url.json", direct)
    assert f"alpha @ {wheel.as_uri()}\n" in freeze_text(venv)
    assert freeze_text(venv) == pip_freeze(venv)


def test_a_dist_info_made_anew_is_read_again(venv: Venv) -> None:
    before = {d.name: d for d in installed(venv)}
    remade_dist_info(venv, "delta", "Delta")  # a new folder of the same name, as uv reinstalls
    after = {d.name: d for d in installed(venv)}
    assert before["delta"].raw_name == "delta" and after["delta"].raw_name == "Delta"


def test_the_mark_changes_when_record_is_rewritten(venv: Venv) -> None:
    first = venv_mark(venv)
    assert venv_mark(venv) == first  # kept, and the same
    record = dist_info(venv, "alpha") / "RECORD"
    replace_file(record, record.read_text() + "alpha/extra.py,,\n")
    assert venv_mark(venv) != first


def test_an_editable_install_is_never_kept(venv: Venv, tmp_path: Path) -> None:
    project = tmp_path / "src"
    project.mkdir()
    info = dist_info(venv, "delta")
    direct = f'{{"url": "{project.as_uri()}", "dir_info": {{"editable": true}}}}'
    replace_file(info / "direct_url.json", direct)
    os.utime(info, (A_MINUTE_AGO, A_MINUTE_AGO))
    first = next(d for d in installed(venv) if d.name == "delta")
    assert first.editable and first.lines[-1] == f"-e {project}"
    (project / ".git").mkdir()  # now a git checkout (a broken one): asked again, not kept
    again = next(d for d in installed(venv) if d.name == "delta")
    assert again.lines != first.lines


def test_what_a_dist_requires_is_read_again_when_its_folder_changes(venv: Venv) -> None:
    """deps keeps a `.dist-info`'s Requires-Dist as freeze keeps its lines; a METADATA
    replaced by tmp + rename (the folder changes) is read again."""
    from venvsyncd.env.deps import read_dependencies
    from venvsyncd.env.venvs import marker_environment

    marker_env = marker_environment(venv)
    assert read_dependencies(venv, marker_env).requires("delta") == ()
    assert read_dependencies(venv, marker_env).requires("delta") == ()  # kept
    metadata = dist_info(venv, "delta") / "METADATA"
    replace_file(metadata, metadata.read_text() + "Requires-Dist: alpha\n")
    assert read_dependencies(venv, marker_env).requires("delta") == ("alpha",)
