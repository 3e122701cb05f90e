"""Where each service manager keeps venvsyncd's service, and the commands that install,
remove and query it: systemd (`systemctl --user`), launchd (`launchctl`) and the Windows
Task Scheduler (`schtasks`).

The plans are pure and take the manager as an argument, so all three are tested on Linux.
`install`, `uninstall` and `query` write, remove and run; every command goes through
`env.commands.run_command`. A command that fails stops the run: the `StepsRun` names it, says why,
and lists what is left to run by hand (the file is written or removed all the same).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from venvsyncd.env.commands import CommandError, run_command
from venvsyncd.errors import VenvsyncdError
from venvsyncd.service.units import (
    LAUNCHD,
    LAUNCHD_LABEL,
    SYSTEMD,
    TASK_NAME,
    TASK_SCHEDULER,
    UNIT_NAME,
    ServiceSpec,
    is_ours,
    render,
)
from venvsyncd.system.files import atomic_write

COMMAND_TIMEOUT = 120.0  # `enable --now` waits for READY=1
ABSENT, OURS, FOREIGN = "absent", "ours", "foreign"


@dataclass(frozen=True)
class UserPlaces:
    home: Path
    config_home: Path  # $XDG_CONFIG_HOME or ~/.config: systemd's user units are under it
    state_dir: Path  # venvsyncd's: the Windows task's XML is kept there
    uid: int  # launchd's gui/<uid> domain


class Step(NamedTuple):
    argv: tuple[str, ...]
    may_fail: bool = False  # expected to fail at times (stopping what is not running)


class ServicePlan(NamedTuple):
    manager: str
    file: Path
    content: bytes
    steps: tuple[Step, ...]
    folders: tuple[Path, ...] = ()  # created before the steps run (launchd's log folder)


class StepsRun(NamedTuple):
    done: tuple[Step, ...] = ()
    failed: Step | None = None
    why: str | None = None  # the failed command's own words
    todo: tuple[Step, ...] = ()  # to run by hand: the failed step and the ones after it


class ServiceState(NamedTuple):
    manager: str
    file: Path
    file_state: str  # ABSENT, OURS or FOREIGN
    enabled: bool | None  # None: the service manager could not be asked
    active: bool | None
    why: str | None = None  # why it could not be asked

    @property
    def installed(self) -> bool:
        return self.file_state == OURS


# ---- plans (pure) ----------------------------------------------------------------------
def service_file(manager: str, places: UserPlaces) -> Path:
    if manager == SYSTEMD:
        return places.config_home / "systemd" / "user" / UNIT_NAME
    if manager == LAUNCHD:
        return places.home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
    return places.state_dir / "venvsyncd-task.xml"


def install_plan(
    manager: str, spec: ServiceSpec, places: UserPlaces, replacing: bool
) -> ServicePlan:
    """Write the file, then enable and start it (restart it when it replaces one)."""
    file = service_file(manager, places)
    folders = (Path(spec.log_dir),) if manager == LAUNCHD and spec.log_dir else ()
    steps = _install_steps(manager, file, places.uid, replacing)
    return ServicePlan(manager, file, render(manager, spec), steps, folders)


def _install_steps(manager: str, file: Path, uid: int, replacing: bool) -> tuple[Step, ...]:
    if manager == SYSTEMD:
        start = (_systemctl("enable", UNIT_NAME), _systemctl("restart", UNIT_NAME))
        now = (_systemctl("enable", "--now", UNIT_NAME),)
        return (_systemctl("daemon-reload"), *(start if replacing else now))
    if manager == LAUNCHD:
        out = (_launchctl_bootout(uid, may_fail=True),) if replacing else ()
        enable = Step(("launchctl", "enable", f"gui/{uid}/{LAUNCHD_LABEL}"))
        return (*out, enable, Step(("launchctl", "bootstrap", f"gui/{uid}", str(file))))
    end = (_schtasks("/End", may_fail=True),) if replacing else ()
    create = Step(("schtasks", "/Create", "/XML", str(file), "/TN", TASK_NAME, "/F"))
    return (*end, create, _schtasks("/Run"))


def uninstall_steps(manager: str, uid: int) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """The steps before the file is removed, and after."""
    if manager == SYSTEMD:
        return (_systemctl("disable", "--now", UNIT_NAME),), (_systemctl("daemon-reload"),)
    if manager == LAUNCHD:
        return (_launchctl_bootout(uid, may_fail=True),), ()
    return (_schtasks("/End", may_fail=True), _schtasks("/Delete", "/F")), ()


def leftover_steps(manager: str, uid: int) -> tuple[Step, ...]:
    """What is left to run by hand once the file is gone and the manager was unreachable."""
    if manager == SYSTEMD:
        return _systemctl("stop", UNIT_NAME), _systemctl("daemon-reload")
    return uninstall_steps(manager, uid)[0]


def status_steps(manager: str, uid: int) -> tuple[Step, ...]:
    if manager == SYSTEMD:
        return _systemctl("is-enabled", UNIT_NAME), _systemctl("is-active", UNIT_NAME)
    if manager == LAUNCHD:
        return (Step(("launchctl", "print", f"gui/{uid}/{LAUNCHD_LABEL}")),)
    return _schtasks("/XML", "ONE"), _schtasks("/FO", "CSV", "/NH")


def command_line(step: Step) -> str:
    """A step as the user would type it (cmd.exe quoting for schtasks)."""
    if step.argv[0] == "schtasks":
        return subprocess.list2cmdline(step.argv)
    return shlex.join(step.argv)


def _systemctl(*args: str) -> Step:
    return Step(("systemctl", "--user", *args))


def _launchctl_bootout(uid: int, may_fail: bool) -> Step:
    return Step(("launchctl", "bootout", f"gui/{uid}/{LAUNCHD_LABEL}"), may_fail)


def _schtasks(verb: str, *args: str, may_fail: bool = False) -> Step:
    if verb in ("/XML", "/FO"):  # the two queries
        return Step(("schtasks", "/Query", "/TN", TASK_NAME, verb, *args), may_fail)
    return Step(("schtasks", verb, "/TN", TASK_NAME, *args), may_fail)


# ---- doing it --------------------------------------------------------------------------
def file_state(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ABSENT
    return OURS if is_ours(data) else FOREIGN


def foreign_file(
    path: Path, hint: str = "`venvsyncd service install --force` replaces it"
) -> VenvsyncdError:
    return VenvsyncdError(
        f"{path} exists and was not written by venvsyncd; leaving it as it is",
        hint=f"look at it; {hint}",
    )


def install(plan: ServicePlan, force: bool) -> StepsRun:
    """Write the plan's file (never over one venvsyncd did not write, unless `force`), run."""
    if file_state(plan.file) == FOREIGN and not force:
        raise foreign_file(plan.file)
    for folder in (plan.file.parent, *plan.folders):
        folder.mkdir(parents=True, exist_ok=True)
    atomic_write(plan.file, plan.content)
    return run_steps(plan.steps)


def uninstall(manager: str, places: UserPlaces) -> StepsRun | None:
    """Stop and disable the service, remove its file; None when it is not installed."""
    file = service_file(manager, places)
    state = file_state(file)
    if state == FOREIGN:
        raise foreign_file(file, hint="remove it yourself if it is not needed")
    if state == ABSENT:
        return None
    before, after = uninstall_steps(manager, places.uid)
    first = run_steps(before)
    _remove(file, places)
    if first.failed is not None:
        return first._replace(todo=leftover_steps(manager, places.uid))
    second = run_steps(after)
    return second._replace(done=first.done + second.done)


def _remove(file: Path, places: UserPlaces) -> None:
    file.unlink(missing_ok=True)
    wanted_by = file.parent / "default.target.wants" / file.name  # systemd's `enable` link
    if wanted_by.is_symlink():
        wanted_by.unlink()
        _prune(wanted_by.parent, places.home)
    _prune(file.parent, places.home)


def _prune(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents while they are empty, up to (not including) `stop`."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def run_steps(steps: tuple[Step, ...]) -> StepsRun:
    done: list[Step] = []
    for index, step in enumerate(steps):
        try:
            run_command(step.argv, timeout=COMMAND_TIMEOUT)
        except CommandError as exc:
            if not (step.may_fail and exc.returncode != 127):
                return StepsRun(tuple(done), step, command_problem(exc), steps[index:])
        done.append(step)
    return StepsRun(tuple(done))


def command_problem(exc: CommandError) -> str:
    """A failed command's own words, on one line."""
    if exc.returncode == 127:
        return f"{exc.argv[0]} is not on PATH"
    return _one_line(exc.output) or f"it exited {exc.returncode}"


def _ask(step: Step) -> tuple[int, str]:
    try:
        return 0, run_command(step.argv, timeout=COMMAND_TIMEOUT)
    except CommandError as exc:
        return exc.returncode, exc.output if exc.returncode != 127 else command_problem(exc)


# ---- status ----------------------------------------------------------------------------
_ENABLED_WORDS = {"enabled": True, "enabled-runtime": True, "disabled": False}
_ENABLED_WORDS |= dict.fromkeys(("masked", "masked-runtime", "not-found", "linked"), False)
_ACTIVE_WORDS = {"active": True, "reloading": True}
_ACTIVE_WORDS |= dict.fromkeys(("inactive", "failed", "activating", "deactivating"), False)


def query(manager: str, places: UserPlaces) -> ServiceState:
    """Is the service installed (our file), enabled and active, as its manager says?"""
    file = service_file(manager, places)
    answers = [_ask(step) for step in status_steps(manager, places.uid)]
    reader = {SYSTEMD: _systemd_state, LAUNCHD: _launchd_state, TASK_SCHEDULER: _task_state}
    enabled, active, why = reader[manager](answers)
    return ServiceState(manager, file, file_state(file), enabled, active, why)


Answer = tuple[int, str]
Reading = tuple[bool | None, bool | None, str | None]


def _systemd_state(answers: list[Answer]) -> Reading:
    (_, enabled_out), (_, active_out) = answers
    enabled = _word(enabled_out, _ENABLED_WORDS)
    active = _word(active_out, _ACTIVE_WORDS)
    unknown = enabled_out if enabled is None else active_out if active is None else None
    return enabled, active, _one_line(unknown) if unknown is not None else None


def _word(output: str, words: dict[str, bool]) -> bool | None:
    lines = output.split()
    return words.get(lines[0]) if lines else None


def _launchd_state(answers: list[Answer]) -> Reading:
    ((code, output),) = answers
    if code == 0:
        return True, re.search(r"^\s*state = running", output, re.MULTILINE) is not None, None
    if code == 113 or "Could not find service" in output:
        return False, False, None
    return None, None, _one_line(output)


def _task_state(answers: list[Answer]) -> Reading:
    (xml_code, xml), (csv_code, csv) = answers
    if xml_code == 127:
        return None, None, _one_line(xml)
    if xml_code != 0:
        return False, False, None
    disabled = re.search(r"<Settings>.*?<Enabled>false</Enabled>", xml, re.DOTALL)
    return disabled is None, csv_code == 0 and '"Running"' in csv, None


def _one_line(output: str, keep: int = 3) -> str:
    """The last `keep` non-blank lines of a command's output, joined."""
    return "; ".join([line.strip() for line in output.splitlines() if line.strip()][-keep:])
