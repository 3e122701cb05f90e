"""VCS lines reach the installer whole: `#egg=`, `&subdirectory=` and `#sha256=` included.

The planner compares sources without the fragment (`Wanted.url`), but pip needs the egg name
of a VCS editable and the subdirectory of a monorepo, so `Wanted.args` carries the line's URL
as written. End to end with real git repositories (`git+file://`), real pip and real uv.
uv 0.13.9 refuses every editable VCS form ("Git sources cannot be editable"), so editable VCS
lines are installed with pip only; a non-editable VCS line is installed with both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.localproject import git, git_repo, write_project
from testing.venvs import UV, make_venv, pip_freeze, run
from venvsyncd.cli import main
from venvsyncd.env.dists import FrozenDist
from venvsyncd.env.venvs import Venv
from venvsyncd.requirements.file import parse_requirements
from venvsyncd.requirements.wanted import Wanted, satisfied, wanted_from

REPO = "git+file:///srv/repo"
ARGS = [
    # (requirements line, args handed to the installer, source compared with installed dists)
    (f"-e {REPO}#egg=vcs-ed", ("-e", f"{REPO}#egg=vcs-ed"), REPO),
    (
        f"-e {REPO}@main#egg=vcs-ed&subdirectory=sub",
        ("-e", f"{REPO}@main#egg=vcs-ed&subdirectory=sub"),
        f"{REPO}@main",
    ),
    (
        f'-e "vcs-ed[x] @ {REPO}@v1#subdirectory=sub"',
        ("-e", f"vcs-ed[x] @ {REPO}@v1#subdirectory=sub"),
        f"{REPO}@v1",
    ),
    (
        f"vcs-ed @ {REPO}@main#subdirectory=sub",
        (f"vcs-ed @ {REPO}@main#subdirectory=sub",),
        f"{REPO}@main",
    ),
    (f"{REPO}@main#subdirectory=sub", (f"{REPO}@main#subdirectory=sub",), f"{REPO}@main"),
    (
        "https://example.com/b-1.0.tar.gz#sha256=ab",
        ("https://example.com/b-1.0.tar.gz#sha256=ab",),
        "https://example.com/b-1.0.tar.gz",
    ),
    ("file:///abs/dir#subdirectory=s", ("file:///abs/dir#subdirectory=s",), "file:///abs/dir"),
    # local paths: absolute from the requirements file's folder, as before
    ("-e ./pkg", ("-e", "/proj/pkg"), "file:///proj/pkg"),
    ("-e file:///abs/pkg", ("-e", "/abs/pkg"), "file:///abs/pkg"),
    ("-e file:///abs/pkg#egg=pkg", ("-e", "/abs/pkg"), "file:///abs/pkg"),
    ("-e ./pkg[fast]", ("-e", "/proj/pkg[fast]"), "file:///proj/pkg"),
    ("../other", ("/other",), "file:///other"),
    ("./pkg[fast]", ("/proj/pkg[fast]",), "file:///proj/pkg"),
    ("file:///abs/dir", ("/abs/dir",), "file:///abs/dir"),
    (
        "./wheels/x-1.0-py3-none-any.whl",
        ("x @ file:///proj/wheels/x-1.0-py3-none-any.whl",),
        "file:///proj/wheels/x-1.0-py3-none-any.whl",
    ),
    # plain pins
    ("alpha==1.0", ("alpha==1.0",), None),
    ("beta[x]>=1 ; python_version > '3'", ('beta[x]>=1 ; python_version > "3"',), None),
]


def wanted(line: str) -> Wanted:
    (found,) = wanted_from(parse_requirements(f"{line}\n".encode(), Path("/proj/requirements.txt")))
    return found


@pytest.mark.parametrize(("line", "args", "url"), ARGS)
def test_args_carry_the_line_whole_and_url_drops_the_fragment(
    line: str, args: tuple[str, ...], url: str | None
) -> None:
    found = wanted(line)
    assert found.args == args
    assert found.url == url


def test_installed_editable_is_matched_without_the_fragment() -> None:
    line = wanted(f"-e {REPO}#egg=vcs-ed")
    dist = FrozenDist("vcs-ed", "vcs-ed", "0.5", (f"-e {REPO}#egg=vcs_ed",), True, REPO)
    assert satisfied(line, {"vcs-ed": dist}, {})
    assert not satisfied(line, {"vcs-ed": dist._replace(editable=False)}, {})


# --- end to end: `venvsyncd sync --from file` ----------------------------------------------------


def use_installer(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(UV).parent}{os.pathsep}{os.environ['PATH']}")
    config = Path(os.environ["VENVSYNCD_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[daemon]\ninstaller = "{name}"\n')


def committed_project(repo: Path, folder: Path, name: str) -> str:
    """`folder` (inside `repo`) as a project whose folder holds its module (what an editable
    install imports); `repo` as a git repository. Returns its HEAD commit."""
    write_project(folder, name, "0.5")
    module = name.replace("-", "_").replace(".", "_") + "_mod"
    (folder / f"{module}.py").write_text("VALUE = 1\n")
    git_repo(repo)
    return git(repo, "rev-parse", "HEAD").strip()


def sync_from_file(project: Path, line: str) -> Venv:
    """A venv and a requirements.txt holding `line`, synced from the file, then checked."""
    venv = make_venv(project / ".venv")
    req = project / "requirements.txt"
    req.write_text(f"# deps\n{line}\n")
    before = req.read_bytes()
    assert main(["sync", str(project), "--from", "file"]) == 0
    assert req.read_bytes() == before
    assert main(["sync", str(project), "--check"]) == 0
    return venv


def module_file(venv: Venv, module: str) -> Path:
    """Where the venv's interpreter imports `module` from."""
    code = f"import {module}; print({module}.__file__)"
    return Path(run([venv.python, "-c", code]).stdout.strip())


@pytest.mark.slow
def test_editable_git_line_is_installed_by_pip(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_installer("pip", monkeypatch)
    repo = tmp_path / "repo"
    head = committed_project(repo, repo, "vcs-ed")
    venv = sync_from_file(project, f"-e git+{repo.as_uri()}#egg=vcs-ed")
    assert f"-e git+{repo.as_uri()}@{head}#egg=vcs_ed\n" in pip_freeze(venv)
    assert module_file(venv, "vcs_ed_mod").parent == venv.root / "src" / "vcs-ed"


@pytest.mark.slow
def test_editable_git_line_with_subdirectory_is_installed_by_pip(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_installer("pip", monkeypatch)
    mono = tmp_path / "mono"
    head = committed_project(mono, mono / "sub" / "pkg", "vcs.sub-ed")
    line = f"-e git+{mono.as_uri()}@main#egg=vcs.sub-ed&subdirectory=sub/pkg"
    venv = sync_from_file(project, line)
    frozen = pip_freeze(venv)
    assert f"-e git+{mono.as_uri()}@{head}#egg=vcs.sub_ed&subdirectory=sub/pkg\n" in frozen
    checkout = venv.root / "src" / "vcs-sub-ed"
    assert module_file(venv, "vcs_sub_ed_mod").parent == checkout / "sub" / "pkg"


@pytest.mark.slow
@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_git_line_with_subdirectory_is_installed(
    installer: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-editable VCS line keeps its `#subdirectory=` too."""
    use_installer(installer, monkeypatch)
    mono = tmp_path / "mono"
    head = committed_project(mono, mono / "sub" / "pkg", "vcs.sub-ed")
    venv = sync_from_file(project, f"vcs.sub-ed @ git+{mono.as_uri()}@main#subdirectory=sub/pkg")
    frozen = pip_freeze(venv)
    assert f"vcs.sub-ed @ git+{mono.as_uri()}@{head}#subdirectory=sub/pkg\n" in frozen
    assert module_file(venv, "vcs_sub_ed_mod").parent == venv.site_packages
