"""Hand a plan's installs and uninstalls to pip or uv, and fill a new venv from its file."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from venvsyncd.engine.hashing import hash_mode
from venvsyncd.engine.observe import EnvSide, FileSide, read_env
from venvsyncd.engine.outcome import SyncRequest
from venvsyncd.engine.plan import Plan
from venvsyncd.engine.report import install_summary
from venvsyncd.engine.snapshot import venv_identity
from venvsyncd.env.installer import choose_installer, create_venv, install, uninstall
from venvsyncd.errors import ProjectError
from venvsyncd.project import Project
from venvsyncd.requirements.wanted import installer_args


@contextlib.contextmanager
def _handed_file(lines: Sequence[str]) -> Iterator[list[str]]:
    """`-r FILE` of a temporary requirements file (in a folder of the user's alone) holding
    `lines`, for as long as the install runs; nothing when there are none."""
    if not lines:
        yield []
        return
    with tempfile.TemporaryDirectory(prefix="venvsyncd-") as folder:
        path = Path(folder) / "requirements.txt"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        yield ["-r", str(path)]


def run_installer(
    project: Project,
    env: EnvSide,
    file: FileSide | None,
    plan: Plan,
    wheels_only: bool,
    setting: str,
) -> None:
    """Run the plan's install, then its uninstall; `wheels_only`: build nothing from source."""
    installer = choose_installer(setting)
    cwd = project.requirements.parent
    if plan.install:
        options = file.install_options() if file is not None else []
        if file is not None and hash_mode(file):  # as pip would from the file; uv needs it said
            options.append("--require-hashes")
        handed = installer_args(plan.install, installer.kind)
        with _handed_file(handed.file_lines) as extra:
            install(installer, env.venv, [*options, *handed.argv, *extra], cwd, wheels_only)
    if plan.uninstall:
        uninstall(installer, env.venv, plan.uninstall)


def missing_venv(
    project: Project, file: FileSide | None, request: SyncRequest, wheels_only: bool
) -> tuple[Plan, str, EnvSide | None]:
    """Create the venv a project lacks and fill it from the file (`create_venv`)."""
    settings = project.settings
    if file is None or not settings.create_venv or settings.mode == "freeze":
        raise ProjectError(
            f"{project.path}: no virtual environment"
            + ("" if file is None else " (create_venv is off)"),
            hint=f"create one: python3 -m venv {project.venv_root}",
        )
    plan = Plan("act", install=file.wanted)
    summary = f"created {project.venv_root.name} with {settings.python}; " + install_summary(
        plan, project.requirements.name
    )
    if request.dry_run:
        return plan, summary, None
    venv = create_venv(project.venv_root, settings.python)
    installer = choose_installer(request.installer)
    cwd = project.requirements.parent
    if file.pyproject is not None:  # its arrays' entries, as any plan's installs are handed
        handed = installer_args(file.wanted, installer.kind)
        with _handed_file(handed.file_lines) as extra:
            if file.wanted:
                install(installer, venv, [*handed.argv, *extra], cwd, wheels_only)
        return plan, summary, read_env(venv)
    args = ["-r", str(project.requirements)]
    args += ["--require-hashes"] if hash_mode(file) else []
    install(installer, venv, args, cwd, wheels_only)
    return plan, summary, read_env(venv)


def still_there(project: Project, venv_id: str) -> None:
    """The venv the installer ran on is still there: a venv deleted (or made anew) under it
    must not be written into the file as if its packages had been uninstalled."""
    if venv_identity(project.venv_root) == venv_id and project.venv_exists():
        return
    raise ProjectError(
        f"{project.venv_root} was deleted or replaced while venvsyncd installed into it; "
        f"{project.requirements.name} was not touched",
        hint="make the venv again and venvsyncd fills it from the file",
    )
