"""The per-user service's files, rendered from the templates in `templates/` beside this module.

Pure: a `ServiceSpec` (which interpreter runs `-m venvsyncd run`, with which config, where
launchd puts its output, which Windows account the task is for) goes in, the file's bytes
come out: a systemd user unit, a launchd agent plist, or a Task Scheduler task (UTF-16, as
`schtasks /Create /XML` wants it). Every file carries `MARKER`, so `service install` knows
the files it wrote from the ones it must not overwrite.
"""

from __future__ import annotations

import ntpath
import plistlib
import re
import shlex
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from string import Template
from xml.sax.saxutils import escape

from venvsyncd.errors import VenvsyncdError

MARKER = "Written by venvsyncd service install"
DOCUMENTATION = "https://pypi.org/project/venvsyncd/"
WATCHDOG_SECONDS = 60

SYSTEMD = "systemd"
LAUNCHD = "launchd"
TASK_SCHEDULER = "schtasks"

UNIT_NAME = "venvsyncd.service"
LAUNCHD_LABEL = "com.venvsyncd.agent"
TASK_NAME = "venvsyncd"


@dataclass(frozen=True)
class ServiceSpec:
    """What the service runs. Paths are text: a Windows task can be rendered anywhere."""

    python: str  # the absolute interpreter that has venvsyncd installed
    config_file: str | None = None  # passed as --config; None: the default config
    log_dir: str = ""  # launchd: where the agent's stdout and stderr go
    user: str = ""  # Task Scheduler: the account (DOMAIN\\user) whose logon starts it


def manager_for(platform: str) -> str:
    """The service manager of a `sys.platform` value."""
    if platform.startswith("linux"):
        return SYSTEMD
    if platform == "darwin":
        return LAUNCHD
    if platform in ("win32", "cygwin"):
        return TASK_SCHEDULER
    raise VenvsyncdError(
        f"venvsyncd has no service support for this platform ({platform})",
        hint="start `venvsyncd run` from your init system or login script",
    )


def daemon_argv(spec: ServiceSpec, command: str = "run") -> list[str]:
    """`<python> -m venvsyncd run [--config FILE]`."""
    config = ["--config", spec.config_file] if spec.config_file else []
    return [spec.python, "-m", "venvsyncd", command, *config]


def render(manager: str, spec: ServiceSpec) -> bytes:
    renderers = {SYSTEMD: render_systemd, LAUNCHD: render_launchd, TASK_SCHEDULER: render_task}
    return renderers[manager](spec)


def is_ours(data: bytes) -> bool:
    """Does a service file (UTF-8, or UTF-16 for a task) carry venvsyncd's marker?"""
    return MARKER.encode() in data or MARKER.encode("utf-16-le") in data


def file_text(data: bytes) -> str:
    """A rendered file as text (a task's UTF-16 decoded), to print."""
    if data.startswith(b"\xff\xfe"):
        return data.decode("utf-16")
    return data.decode("utf-8")


def _template(name: str) -> Template:
    return Template(files("venvsyncd.service").joinpath("templates", name).read_text("utf-8"))


# ---- systemd ---------------------------------------------------------------------------
def render_systemd(spec: ServiceSpec) -> bytes:
    text = _template("venvsyncd.service").substitute(
        marker=MARKER,
        documentation=DOCUMENTATION,
        exec_start=systemd_command_line(daemon_argv(spec, "run")),
        exec_reload=systemd_command_line(daemon_argv(spec, "reload")),
        watchdog_seconds=WATCHDOG_SECONDS,
    )
    return text.encode("utf-8")


_SYSTEMD_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def systemd_command_line(argv: list[str]) -> str:
    """`argv` as an `ExecStart=` value: quoted where needed, `%` and `$` escaped."""
    return " ".join(_systemd_word(arg) for arg in argv)


def _systemd_word(arg: str) -> str:
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if _SYSTEMD_PLAIN.fullmatch(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_exec_argv(unit: str, key: str = "ExecStart") -> list[str]:
    """The argv of a unit's `ExecStart=` (as written by `render_systemd`)."""
    for line in unit.splitlines():
        if line.startswith(f"{key}="):
            words = shlex.split(line.removeprefix(f"{key}="))
            return [w.replace("%%", "%").replace("$$", "$") for w in words]
    raise ValueError(f"no {key}= in the unit")


# ---- launchd ---------------------------------------------------------------------------
def render_launchd(spec: ServiceSpec) -> bytes:
    template = plistlib.loads(_template("venvsyncd.plist").template.encode("utf-8"))
    values = {"label": LAUNCHD_LABEL, "log_dir": spec.log_dir.rstrip("/")}
    agent = {k: _fill(v, values) for k, v in template.items()}
    agent["ProgramArguments"] = daemon_argv(spec, "run")
    data = plistlib.dumps(agent, fmt=plistlib.FMT_XML, sort_keys=False)
    head, doctype, rest = data.partition(b"<plist ")
    comment = f"<!-- {MARKER}; `venvsyncd service uninstall` removes it. -->\n".encode()
    return head + comment + doctype + rest


def _fill(value: object, values: dict[str, str]) -> object:
    if isinstance(value, str):
        return Template(value).substitute(values)
    return value


# ---- Task Scheduler --------------------------------------------------------------------
def render_task(spec: ServiceSpec) -> bytes:
    """The task XML, UTF-16 LE with a BOM: the only encoding `schtasks /Create /XML` takes."""
    pythonw = _pythonw(spec.python)
    arguments = daemon_argv(spec, "run")[1:]
    text = _template("venvsyncd-task.xml").substitute(
        marker=escape(MARKER),
        documentation=escape(DOCUMENTATION),
        user=escape(spec.user),
        command=escape(pythonw),
        arguments=escape(subprocess.list2cmdline(arguments)),
    )
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")


def _pythonw(python: str) -> str:
    """`pythonw.exe` next to `python.exe`: the same interpreter without a console window."""
    folder, name = ntpath.split(python)
    if name.lower() == "python.exe":
        return ntpath.join(folder, "pythonw.exe")
    return python
