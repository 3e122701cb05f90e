"""Running git, hg, svn and bzr as pip 26.3 runs them for `pip freeze`, and the helpers its
`vcs/versioncontrol.py` shares between them.

A tool that cannot be started is pip's `BadCommand` (`ToolMissing`); one that exits with an
unexpected code, or hangs past `TOOL_TIMEOUT`, is its `InstallationError` (`ToolFailed`).
An answer can be kept while a caller-given signature of the files it depends on holds: hg and
bzr are Python programs that take about 0.1 s a run.
"""

# pip computes with path strings (abspath, normcase, printed as is): os.path, not pathlib.
# ruff: noqa: PTH116, PTH118, PTH120, PTH121

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Hashable
from pathlib import Path

TOOL_TIMEOUT = 10.0  # seconds, per command
_KEPT_ANSWERS = 256


class NoRemote(Exception):
    """pip's RemoteNotFoundError."""


class RemoteNotValid(Exception):
    """pip's RemoteNotValidError; the argument is the remote's URL."""


class ToolMissing(Exception):
    """pip's BadCommand: the tool is not installed (or the folder to run it in is gone)."""


class ToolFailed(Exception):
    """pip's InstallationError: the tool exited with an error, or timed out."""


_answers: dict[tuple[str, tuple[str, ...], str | None, Hashable], tuple[int, str]] = {}


def tool_output(
    tool: str,
    args: list[str],
    cwd: str | None,
    ok: tuple[int, ...] = (0,),
    signature: Hashable = None,
) -> str:
    """`tool args` run in `cwd`: its stdout; kept for the same `signature` when one is given
    (and the same program on PATH: a tool removed since is missing, as pip would find it)."""
    if signature is not None:
        signature = (signature, shutil.which(tool))
    key = (tool, tuple(args), cwd, signature)
    answer = _answers.get(key) if signature is not None else None
    if answer is None:
        answer = _run(tool, args, cwd)
        if signature is not None:
            if len(_answers) >= _KEPT_ANSWERS:
                _answers.clear()
            _answers[key] = answer
    code, stdout = answer
    if code not in ok:
        raise ToolFailed(tool)
    return stdout


def _run(tool: str, args: list[str], cwd: str | None) -> tuple[int, str]:
    """Not `commands.run_command`: stdout must stay apart from stderr here."""
    env = dict(os.environ)
    if tool == "git":  # no GIT_DIR and friends of the daemon's; never ask for a password
        env = {k: v for k, v in env.items() if not k.startswith("GIT_")}
        env["GIT_TERMINAL_PROMPT"] = "0"
    try:
        proc = subprocess.run(
            [tool, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="backslashreplace",
            timeout=TOOL_TIMEOUT,
            check=False,
        )
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        raise ToolMissing(tool) from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolFailed(tool) from exc
    return proc.returncode, proc.stdout


def with_scheme(tool: str, url: str, always: bool = False) -> str:
    """`should_add_vcs_url_prefix`: `tool+` in front unless the URL starts with `tool:`."""
    if always or not url.lower().startswith(f"{tool}:"):
        return f"{tool}+{url}"
    return url


def requirement_url(repo_url: str, rev: str, project_name: str, subdir: str | None) -> str:
    """`make_vcs_requirement_url`: `URL@rev#egg=name` (+ `&subdirectory=`)."""
    egg = project_name.replace("-", "_")
    req = f"{repo_url}@{urllib.parse.quote(rev, '/')}#egg={egg}"
    return req + (f"&subdirectory={subdir}" if subdir else "")


def is_local_repository(repo: str) -> bool:
    """An absolute path (POSIX) or one with a drive (Windows)."""
    return repo.startswith(os.path.sep) or bool(os.path.splitdrive(repo)[0])


def path_to_url(path: str) -> str:
    """pip's `path_to_url`: absolute, normalised, quoted."""
    path = os.path.normpath(os.path.abspath(path))
    return urllib.parse.urljoin("file://", urllib.request.pathname2url(path))


def project_subdirectory(location: str, repo_root: str) -> str | None:
    """`find_path_to_project_root_from_repo_root`: the project folder relative to the repo."""
    folder = location
    while not is_installable_dir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    try:
        if os.path.samefile(repo_root, folder):
            return None
    except OSError:
        pass
    return os.path.relpath(folder, repo_root)


def is_installable_dir(folder: str) -> bool:
    path = Path(folder)
    return path.is_dir() and ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file())


def nearest_holding(location: str, marker: str, *, folder_only: bool) -> str | None:
    """The nearest folder at or above `location` (with symlinks resolved, as a tool's working
    folder is, else as given) that holds `marker`, as a tool searching upwards finds it."""
    exists = os.path.isdir if folder_only else os.path.exists
    for start in dict.fromkeys((os.path.realpath(location), location)):
        folder = start
        while True:
            if exists(os.path.join(folder, marker)):
                return folder
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return None


def stats(folder: str) -> tuple[tuple[str, int, int, int], ...]:
    """(name, mtime_ns, size, inode) of each entry in `folder`: changes when any is rewritten."""
    try:
        with os.scandir(folder) as entries:
            found = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
    except OSError:
        return ()
    return tuple(sorted((n, s.st_mtime_ns, s.st_size, s.st_ino) for n, s in found))


def file_stat(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino
