"""Table tests for the pure parts of a write-back: which file an env change goes to, and what
an install of venvsyncd's own may record (writeback.planned_writes, explain.agreed_env)."""

from __future__ import annotations

from pathlib import Path

from venvsyncd.config import ProjectSettings
from venvsyncd.engine.explain import agreed_env, explained, owed_by
from venvsyncd.engine.observe import EnvSide, FileSide, read_file
from venvsyncd.engine.plan import Plan
from venvsyncd.engine.writeback import planned_writes
from venvsyncd.env.dists import FrozenDist
from venvsyncd.env.venvs import Venv
from venvsyncd.project import Project
from venvsyncd.requirements.edit import EnvDelta
from venvsyncd.requirements.wanted import Wanted

ENV = {"python_version": "3.11", "sys_platform": "linux", "os_name": "posix"}


def D(name: str, version: str) -> FrozenDist:
    return FrozenDist(name, name, version, (f"{name}=={version}",))


def project_at(folder: Path, style: str = "preserve") -> Project:
    settings = ProjectSettings(style=style)
    return Project(folder, folder / ".venv", folder / "requirements.txt", settings, True)


def env_side(*dists: FrozenDist) -> EnvSide:
    venv = Venv(Path("/v"), False, (3, 11, 7), Path("/v/lib/site"), False, None)
    return EnvSide(venv, dists, {d.name: d for d in dists}, ENV)


def files(folder: Path, top: str, **others: str) -> FileSide:
    for name, text in others.items():
        path = folder / name.replace("__", "/").replace("_", ".")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "requirements.txt").write_text(top)
    side = read_file(folder / "requirements.txt")
    assert side is not None
    return side


def edit(
    *,
    added: tuple[FrozenDist, ...] = (),
    changed: tuple[FrozenDist, ...] = (),
    removed: tuple[str, ...] = (),
    previous: tuple[FrozenDist, ...] = (),
) -> Plan:
    return Plan("act", edit=EnvDelta(added, removed, changed, previous))


def test_a_pin_in_an_include_inside_the_project_is_edited_there(tmp_path: Path) -> None:
    side = files(
        tmp_path, "# app\n-r reqs/base.txt\neta==1.0\n", reqs__base_txt="alpha==1.0  # pinned\n"
    )
    plan = edit(changed=(D("alpha", "2.0"),), previous=(D("alpha", "1.0"),))
    writes = planned_writes(project_at(tmp_path), env_side(D("alpha", "2.0")), side, plan)
    assert writes.files == {tmp_path / "reqs" / "base.txt": b"alpha==2.0  # pinned\n"}
    assert writes.summary == "~alpha 1.0->2.0 -> reqs/base.txt" and writes.outside is None


def test_new_packages_go_to_the_top_file_and_moves_to_their_own(tmp_path: Path) -> None:
    side = files(tmp_path, "-r base.txt\n", base_txt="alpha==1.0\n")
    plan = edit(added=(D("eta", "1.0"),), changed=(D("alpha", "2.0"),))
    writes = planned_writes(project_at(tmp_path), env_side(), side, plan)
    assert writes.files == {
        tmp_path / "requirements.txt": b"-r base.txt\neta==1.0\n",
        tmp_path / "base.txt": b"alpha==2.0\n",
    }


def test_an_include_outside_the_project_is_never_written(tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "common.txt").write_text("alpha==1.0\n")
    side = files(project, "-r ../common/common.txt\neta==1.0\n")
    plan = edit(added=(D("gamma", "1.0"),), changed=(D("alpha", "2.0"),))
    writes = planned_writes(project_at(project), env_side(), side, plan)
    assert writes.files == {} and writes.outside is not None
    assert "common.txt" in writes.outside and "alpha" in writes.outside
    assert (tmp_path / "common" / "common.txt").read_text() == "alpha==1.0\n"


def test_a_dependency_no_file_names_writes_nothing(tmp_path: Path) -> None:
    side = files(tmp_path, "beta==1.0\n")
    plan = edit(changed=(D("alpha", "2.0"),), removed=("delta",))
    assert planned_writes(project_at(tmp_path), env_side(), side, plan).files == {}


def test_pip_style_becomes_the_freeze(tmp_path: Path) -> None:
    side = files(tmp_path, "alpha==1.0\n")
    plan = edit(added=(D("beta", "1.0"),))
    writes = planned_writes(
        project_at(tmp_path, "pip"), env_side(D("alpha", "1.0"), D("beta", "1.0")), side, plan
    )
    assert writes.files == {tmp_path / "requirements.txt": b"alpha==1.0\nbeta==1.0\n"}


def W(name: str) -> Wanted:
    return Wanted(name, name, (name,))


def test_an_install_explains_what_it_named_and_their_dependencies() -> None:
    after = {d.name: d for d in (D("alpha", "2.0"), D("beta", "1.0"), D("gamma", "1.0"))}
    requires = {"beta": ("alpha",), "gamma": ("delta",)}
    assert explained((W("beta"),), ("eta",), after, requires) == {"alpha", "beta", "eta"}


def test_what_the_install_does_not_explain_is_not_agreed() -> None:
    before = (D("alpha", "1.0"),)
    after = (D("alpha", "1.0"), D("beta", "1.0"), D("gamma", "1.0"))  # gamma: someone else's
    agreed = agreed_env(before, after, {"beta"}, {})
    assert agreed == (D("alpha", "1.0"), D("beta", "1.0"))


def test_changes_owed_to_the_file_keep_their_snapshot_state() -> None:
    snapshot = {"alpha": D("alpha", "1.0")}
    owed = owed_by(EnvDelta(added=(D("eta", "1.0"),), changed=(D("alpha", "2.0"),)), snapshot)
    assert owed == {"eta": None, "alpha": D("alpha", "1.0")}
    before = (D("alpha", "2.0"), D("eta", "1.0"))
    after = (D("alpha", "2.0"), D("beta", "1.0"), D("eta", "1.0"))
    assert agreed_env(before, after, {"beta"}, owed) == (D("alpha", "1.0"), D("beta", "1.0"))
