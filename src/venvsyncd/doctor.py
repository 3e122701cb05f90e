"""`venvsyncd doctor`'s checks. Each gives `Finding`s: ok or not, what, and how to fix it.

Config valid; each project's folder, venv (pyvenv.cfg, its base interpreter, its own
interpreter runs) and requirements file (parseable, and rewritable unless the project only
installs from it); the inotify limits against what the projects need; the service installed
and active; the daemon answering. Nothing here prints.

Testing knob: `$VENVSYNCD_PROC_SYS` names a folder that stands in for `/proc/sys`
(`<it>/fs/inotify/max_user_watches`, `max_user_instances`), so tests can fake the limits.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from venvsyncd.config import Config, load_config
from venvsyncd.errors import ConfigError, VenvsyncdError
from venvsyncd.project import Project, resolve
from venvsyncd.service.managers import FOREIGN, ServiceState, UserPlaces

PROC_SYS_ENV = "VENVSYNCD_PROC_SYS"
RUN_TIMEOUT = 10.0  # seconds for `<venv python> -c pass`
WATCHES_PER_PROJECT = 3  # site-packages, the requirements file's folder, the project folder
SYSCTL_FILE = "/etc/sysctl.d/60-venvsyncd-inotify.conf"
SUGGESTED = {"max_user_watches": 524288, "max_user_instances": 1024}


class Finding(NamedTuple):
    ok: bool
    what: str
    fix: str | None = None


def run_checks(config_file: Path, manager: str | None, places: UserPlaces) -> list[Finding]:
    """Every check, in order; `manager` None: this platform has no service support."""
    from venvsyncd.paths import locations

    config_finding, config = check_config(config_file)
    findings = [config_finding]
    if config is not None:
        projects = [resolve(entry) for entry in config.projects]
        for project in projects:
            findings += check_project(project)
        findings += check_inotify(proc_sys(), len(projects))
    if manager is not None:
        from venvsyncd.service.managers import query

        findings.append(check_service(query(manager, places)))
    findings.append(check_daemon(locations(config_file).socket))
    return findings


def check_config(path: Path) -> tuple[Finding, Config | None]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        return Finding(False, f"config: {exc.message}", exc.hint), None
    if not config.exists:
        return Finding(True, f"config: no file at {path}, so no projects"), config
    count = len(config.projects)
    return Finding(True, f"config {path}: {count} project{'' if count == 1 else 's'}"), config


# ---- projects --------------------------------------------------------------------------
def check_project(project: Project) -> list[Finding]:
    if not project.path.is_dir():
        return [
            Finding(
                False,
                f"project {project.path}: no such folder",
                f"create it, or take it out of the config: venvsyncd remove {project.path}",
            )
        ]
    return [check_venv(project), *check_venvs(project), check_requirements(project)]


def check_venvs(project: Project) -> list[Finding]:
    """More than one venv in the folder: one of them is not the one venvsyncd follows."""
    from venvsyncd.project import venvs_present

    found = venvs_present(project.path)
    if len(found) < 2:
        return []
    names = ", ".join(found)
    return [
        Finding(
            False,
            f"project {project.path}: {len(found)} venvs ({names}); venvsyncd follows "
            f"{project.venv_root.name}",
            f"delete the one you do not use, or name the one to follow: "
            f"venvsyncd add {project.path} --venv NAME",
        )
    ]


def check_venv(project: Project) -> Finding:
    from venvsyncd.env.venvs import load_venv

    root, settings = project.venv_root, project.settings
    if not project.venv_exists():
        if settings.create_venv and project.requirements.is_file():
            return Finding(True, f"venv {root}: not there yet; the daemon creates it")
        fix = f"create it: {_python(project)} -m venv {root}"
        return Finding(False, f"venv {root}: missing", fix)
    try:
        venv = load_venv(root)
    except VenvsyncdError as exc:
        return Finding(False, f"venv {root}: {exc.message}", exc.hint or _recreate(project))
    problem = venv_problem(venv.python, venv.home)
    if problem is not None:
        return Finding(False, f"venv {root}: {problem}", _recreate(project))
    return Finding(True, f"venv {root}: Python {venv.version_text or '?'} runs")


def venv_problem(python: Path, home: Path | None) -> str | None:
    """Why a venv's interpreter cannot run, or None once `<python> -c pass` worked."""
    from venvsyncd.env.commands import CommandError, run_command
    from venvsyncd.service.managers import command_problem

    if home is not None and not home.is_dir():
        return f"the Python it was made from is gone (pyvenv.cfg home = {home})"
    if not python.exists():  # a dangling symlink too
        return f"its interpreter {python} is missing"
    try:
        run_command([python, "-c", "pass"], timeout=RUN_TIMEOUT)
    except CommandError as exc:
        return f"its interpreter {python} does not run: {command_problem(exc)}"
    return None


def _python(project: Project) -> str:
    wanted = project.settings.python
    return f"python{wanted}" if re.fullmatch(r"\d+(\.\d+)*", wanted) else wanted


def _recreate(project: Project) -> str:
    fix = f"recreate it: {_python(project)} -m venv --clear {project.venv_root}"
    if project.requirements.is_file():
        return f"{fix}, then reinstall: venvsyncd sync {project.path} --from file"
    return f"{fix}, then reinstall its packages"


def check_requirements(project: Project) -> Finding:
    from venvsyncd.engine.observe import read_file

    path = project.requirements
    try:
        file = read_file(path, project.dev_files)
    except VenvsyncdError as exc:
        return Finding(False, exc.message, exc.hint)
    if file is None:
        return Finding(True, f"requirements {path}: not there yet; the daemon writes it")
    count = len(file.wanted)
    hashed = ", hash-pinned" if any(r.has_hashes() for r in (file.top, *file.includes)) else ""
    plural = "" if count == 1 else "s"
    return Finding(True, f"requirements {path}: {count} requirement{plural}{hashed}")


# ---- inotify ---------------------------------------------------------------------------
def proc_sys() -> Path:
    """`/proc/sys`, or `$VENVSYNCD_PROC_SYS` (a testing knob)."""
    return Path(os.environ.get(PROC_SYS_ENV) or "/proc/sys")


def check_inotify(proc: Path, projects: int) -> list[Finding]:
    if not sys.platform.startswith("linux") and PROC_SYS_ENV not in os.environ:
        return []
    needs = {
        "max_user_watches": WATCHES_PER_PROJECT * projects,
        "max_user_instances": 1 if _shared_inotify() else WATCHES_PER_PROJECT * projects,
    }
    return [_limit_finding(proc, name, needed) for name, needed in needs.items()]


def _limit_finding(proc: Path, name: str, needed: int) -> Finding:
    path = proc / "fs" / "inotify" / name
    try:
        limit = int(path.read_text().strip())
    except (OSError, ValueError) as exc:
        return Finding(False, f"inotify: cannot read {path} ({exc})", _sysctl_fix(name, needed))
    if limit < needed:
        why = f"inotify: fs.inotify.{name} is {limit}, the configured projects need {needed}"
        return Finding(False, why, _sysctl_fix(name, needed))
    return Finding(True, f"inotify: fs.inotify.{name} = {limit} (projects need {needed})")


def _sysctl_fix(name: str, needed: int) -> str:
    value = max(SUGGESTED[name], 2 * needed)
    return (
        f"sudo sysctl fs.inotify.{name}={value}; to keep it after a reboot: "
        f"echo fs.inotify.{name}={value} | sudo tee -a {SYSCTL_FILE}"
    )


def _shared_inotify() -> bool:
    """watchdog 7 shares one inotify instance among its watches; older ones take one each."""
    try:
        from watchdog.observers import inotify_c
    except (ImportError, OSError):
        return True
    return hasattr(inotify_c, "InotifyFD")


# ---- service and daemon ----------------------------------------------------------------
_START = {
    "systemd": "; its log: journalctl --user -u venvsyncd",
    "launchd": "; its log: the launchd.*.log files in venvsyncd's log folder",
    "schtasks": "",
}


def check_service(state: ServiceState) -> Finding:
    name = f"service ({state.file})"
    if state.file_state == FOREIGN:
        fix = "look at it, then replace it: venvsyncd service install --force"
        return Finding(False, f"{name}: the file was not written by venvsyncd", fix)
    if not state.installed:
        return Finding(False, f"{name}: not installed", "venvsyncd service install")
    if state.active is None:
        fix = "run `venvsyncd service status` in your login session"
        if state.manager == "systemd":
            fix += " (on a machine without one: loginctl enable-linger $USER)"
        return Finding(False, f"{name}: installed; its state is unknown: {state.why}", fix)
    if not state.active:
        fix = "start it: venvsyncd service install" + _START.get(state.manager, "")
        return Finding(False, f"{name}: installed but not running", fix)
    return Finding(True, f"{name}: installed and active")


def check_daemon(socket: Path) -> Finding:
    from venvsyncd.wire import client

    try:
        pid = client.ping(socket)
    except VenvsyncdError as exc:
        return Finding(False, f"daemon: {exc.message}", exc.hint)
    if pid is None:
        fix = "start it: venvsyncd service install (or `venvsyncd run` in a terminal)"
        return Finding(False, f"daemon: none answers on {socket}", fix)
    return Finding(True, f"daemon: pid {pid} answers on {socket}")


def problems(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok]
