"""The `pip freeze` lines of distributions installed from a URL, a path or in editable mode.

Mirrors pip 26.3: `direct_url.json` is read and validated as `packaging.direct_url` does
(anything invalid counts as absent) and turned into `Name @ URL` as
`utils/direct_url_helpers.py` does; editables get the lines of `operations/freeze.py`'s
`_get_editable_info` with git asked the questions pip's `vcs/git.py` asks. Only git is
known: a project under Mercurial, Subversion or Bazaar shows as having no version control.
"""

# pip and site.py compute with path strings (abspath without following symlinks, normcase,
# string comparison, printed as is), and this runs on every freeze: os.path, not pathlib.
# ruff: noqa: PTH110, PTH117, PTH118, PTH120, PTH121

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

GIT_TIMEOUT = 10.0  # seconds, per git command
_SCP_RE = re.compile(r"^(\w+@)?([^/:]+):(\w[^:]*)$")
_NO_LOCATION = "## !! Could not determine repository location"


class DirectUrl(NamedTuple):
    """The parts of a valid PEP 610 `direct_url.json` that freeze prints."""

    url: str
    kind: str  # "vcs", "archive" or "dir"
    vcs: str | None = None
    commit_id: str | None = None
    first_hash: str | None = None  # "sha256=..." from archive_info
    editable: bool = False
    subdirectory: str | None = None


class EditableLines(NamedTuple):
    comments: tuple[str, ...]
    requirement: str  # what follows `-e `
    url: str  # the requirement as a URL: the VCS URL, or the project folder's file: URL


class _Invalid(Exception):
    """direct_url.json does not follow PEP 610 (pip then ignores it)."""


class _NoRemote(Exception):
    """pip's RemoteNotFoundError."""


class _RemoteNotValid(Exception):
    """pip's RemoteNotValidError; the argument is the remote's URL."""


class _GitMissing(Exception):
    """pip's BadCommand: no git (or no such folder to run it in)."""


class _GitFailed(Exception):
    """pip's InstallationError: git exited with an error, or timed out."""


def parse_direct_url(text: str) -> DirectUrl | None:
    """A `direct_url.json`'s content as `DirectUrl`, or None when pip would ignore it."""
    try:
        data = json.loads(text)
        return _direct_url(data) if isinstance(data, dict) else None
    except (ValueError, _Invalid):
        return None


def _get(data: Mapping[str, Any], kind: type, key: str) -> Any:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise _Invalid(key)
    return value


def _direct_url(data: Mapping[str, Any]) -> DirectUrl:
    url = _get(data, str, "url")
    vcs_info = _get(data, dict, "vcs_info")
    archive_info = _get(data, dict, "archive_info")
    dir_info = _get(data, dict, "dir_info")
    subdirectory = _get(data, str, "subdirectory")
    if (
        url is None
        or (vcs_info is not None) + (archive_info is not None) + (dir_info is not None) != 1
    ):
        raise _Invalid("url")
    if vcs_info is not None:
        vcs, commit = _get(vcs_info, str, "vcs"), _get(vcs_info, str, "commit_id")
        _get(vcs_info, str, "requested_revision")
        if vcs is None or commit is None:
            raise _Invalid("vcs_info")
        return DirectUrl(url, "vcs", vcs=vcs, commit_id=commit, subdirectory=subdirectory)
    if archive_info is not None:
        first = _first_hash(archive_info)
        return DirectUrl(url, "archive", first_hash=first, subdirectory=subdirectory)
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "file" or not parsed.path.startswith("/"):
        raise _Invalid("url")
    editable = bool(_get(dir_info, bool, "editable"))
    return DirectUrl(url, "dir", editable=editable, subdirectory=subdirectory)


def _first_hash(archive_info: Mapping[str, Any]) -> str | None:
    """The first of `hashes`, else the legacy `hash` (which must agree with `hashes`)."""
    hashes = _get(archive_info, dict, "hashes")
    if hashes is not None and not all(isinstance(v, str) for v in hashes.values()):
        raise _Invalid("hashes")
    legacy = _get(archive_info, str, "hash")
    if legacy is not None:
        algorithm, sep, value = legacy.partition("=")
        if not sep or (hashes is not None and hashes.get(algorithm, None) != value):
            raise _Invalid("hash")
        if hashes is None:
            hashes = {algorithm: value}
    if not hashes:
        return None
    algorithm, value = next(iter(hashes.items()))
    return f"{algorithm}={value}"


def direct_reference(direct: DirectUrl) -> str:
    """What follows `Name @ ` in the freeze line (`direct_url_as_pep440_direct_reference`)."""
    fragments = []
    if direct.kind == "vcs":
        text = f"{direct.vcs}+{direct.url}@{direct.commit_id}"
    else:
        text = direct.url
        if direct.first_hash:
            fragments.append(direct.first_hash)
    if direct.subdirectory:
        fragments.append("subdirectory=" + direct.subdirectory)
    return text + ("#" + "&".join(fragments) if fragments else "")


def url_to_path(url: str) -> str:
    """pip's `url_to_path` for a `file:` URL (a remote host gives "")."""
    _, netloc, path, _, _ = urllib.parse.urlsplit(url)
    if netloc not in ("", "localhost"):
        if os.name != "nt":
            return ""
        netloc = "\\\\" + netloc
    else:
        netloc = ""
    path = urllib.request.url2pathname(netloc + path)
    if (
        os.name == "nt"
        and not netloc
        and len(path) >= 3
        and path[0] == "/"
        and path[1] in string.ascii_letters
        and path[2:4] in (":", ":/")
    ):
        path = path[1:]
    return path


def editable_lines(project: str, raw_name: str, display: str) -> EditableLines:
    """The lines for an editable install of `project` (`_get_editable_info`).

    `display` is the dist's `Name==version` (or `Name===raw`) for the comment lines.
    """
    location = os.path.normcase(os.path.abspath(project))
    file_url = Path(location).as_uri()
    if not _in_git_repository(location):
        return EditableLines(
            (f"# Editable install with no version control ({display})",), location, file_url
        )
    try:
        requirement = _git_requirement(location, raw_name)
    except _NoRemote:
        comment = f"# Editable Git install with no remote ({display})"
        return EditableLines((comment,), location, file_url)
    except _RemoteNotValid as exc:
        comments = (
            f"# Editable Git install ({display}) with either a deleted local remote or"
            " invalid URI:",
            f"# '{exc.args[0]}'",
        )
        return EditableLines(comments, location, file_url)
    except _GitMissing:
        return EditableLines((), location, file_url)
    except _GitFailed:
        return EditableLines((_NO_LOCATION,), location, file_url)
    return EditableLines((), requirement, requirement)


def _in_git_repository(location: str) -> bool:
    """Git's `get_repository_root`: a `.git` here, else `git rev-parse --show-toplevel`."""
    if os.path.exists(os.path.join(location, ".git")):
        return True
    try:
        _git(["rev-parse", "--show-toplevel"], location)
    except (_GitMissing, _GitFailed):
        return False
    return True


def _git_requirement(location: str, raw_name: str) -> str:
    """`Git.get_src_requirement`: `git+URL@sha#egg=Name` (+ `&subdirectory=`)."""
    remotes = _git(["config", "--get-regexp", r"remote\..*\.url"], location, ok=(0, 1))
    lines = remotes.splitlines()
    if not lines:
        raise _NoRemote
    found = next((ln for ln in lines if ln.startswith("remote.origin.url ")), lines[0])
    url = _remote_to_pip_url([*found.split(" "), ""][1].strip())
    # pip asks `rev-parse HEAD`, then `rev-parse --git-dir`: one call, same failures.
    head, git_dir = (*_git(["rev-parse", "HEAD", "--git-dir"], location).splitlines(), "", "")[:2]
    git_dir = git_dir.strip()
    if not os.path.isabs(git_dir):
        git_dir = os.path.join(location, git_dir)
    repo_root = os.path.abspath(os.path.join(git_dir, ".."))
    subdir = _project_subdirectory(location, repo_root)
    egg = raw_name.replace("-", "_")
    requirement = f"git+{url}@{urllib.parse.quote(head.strip(), '/')}#egg={egg}"
    return requirement + (f"&subdirectory={subdir}" if subdir else "")


def _remote_to_pip_url(url: str) -> str:
    """`Git._git_remote_to_pip_url`: URL as is, local path as file: URL, SCP form as ssh://."""
    if re.match(r"\w+://", url):
        return url
    if os.path.isabs(url) and os.path.exists(url):
        return Path(url).as_uri()
    match = _SCP_RE.match(url)
    if match:
        return match.expand(r"ssh://\1\2/\3")
    raise _RemoteNotValid(url)


def _project_subdirectory(location: str, repo_root: str) -> str | None:
    """`find_path_to_project_root_from_repo_root`: the project folder relative to the repo."""
    folder = location
    while not _is_installable_dir(folder):
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


def _is_installable_dir(folder: str) -> bool:
    path = Path(folder)
    return path.is_dir() and ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file())


def _git(args: list[str], cwd: str, ok: tuple[int, ...] = (0,)) -> str:
    """Run git in `cwd` without the caller's GIT_* variables; its stdout.

    Not `commands.run_command`: git's stdout must stay apart from its stderr here.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise _GitMissing from exc
    except subprocess.TimeoutExpired as exc:
        raise _GitFailed from exc
    if proc.returncode not in ok:
        raise _GitFailed
    return proc.stdout
