"""Which version control holds an editable project, and the `-e` requirement pip makes of it.

Mirrors pip 26.3's `vcs` package as `operations/freeze.py` uses it. Each backend, in pip's
order (Bazaar, Git, Mercurial, Subversion), is asked for the repository root holding the
project folder; the innermost root wins, and of two with the same root the later backend.
Bazaar and Subversion look for `.bzr` / `.svn` in the folder itself; Git and Mercurial for
`.git` / `.hg` there, else they ask `git rev-parse --show-toplevel` / `hg root` (not run when
no folder above holds a `.git` / `.hg` at all: the tool could only fail). The requirement
is then made from what the tool says, as pip asks it. hg, svn and bzr answers are kept while
the checkout's control files (and hg's config files) are unchanged: hg and bzr take ~0.1 s
a run.
"""

# pip computes with path strings (abspath, normcase, printed as is): os.path, not pathlib.
# ruff: noqa: PTH110, PTH111, PTH112, PTH117, PTH118, PTH120

from __future__ import annotations

import os
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import NamedTuple

from venvsyncd.env.vcs_tools import (
    NoRemote,
    RemoteNotValid,
    ToolFailed,
    ToolMissing,
    file_stat,
    is_installable_dir,
    is_local_repository,
    nearest_holding,
    path_to_url,
    project_subdirectory,
    requirement_url,
    stats,
    tool_output,
    with_scheme,
)

_SCP_RE = re.compile(r"^(\w+@)?([^/:]+):(\w[^:]*)$")
_SVN_XML_URL = re.compile('url="([^"]+)"')
_SVN_XML_REV = re.compile(r'committed-rev="(\d+)"')
_SVN_INFO_URL = re.compile(r"<url>(.*)</url>")
_SVN_INFO_REV = re.compile(r'\s*revision="(\d+)"')
_HG_ENV = ("HGRCPATH", "HGPLAIN", "HGPLAINEXCEPT", "HGRCSKIPREPO", "HOME", "XDG_CONFIG_HOME")

__all__ = ["Backend", "NoRemote", "RemoteNotValid", "ToolFailed", "ToolMissing", "backend_for"]


class Backend(NamedTuple):
    label: str  # pip's class name, as its comments show it: "# Editable Git install ..."
    root: Callable[[str], str | None]  # the repository root holding a folder, or None
    requirement: Callable[[str, str], str]  # (folder, raw name) -> `git+URL@rev#egg=name`


def backend_for(location: str) -> Backend | None:
    """`VcsSupport.get_backend_for_dir`: the backend of the innermost repository."""
    roots: dict[str, Backend] = {}
    for backend in BACKENDS:
        root = backend.root(location)
        if root:
            roots[root] = backend
    return roots[max(roots, key=len)] if roots else None


def _root_by_tool(location: str, marker: str, tool: str, args: list[str]) -> str | None:
    """Git's and Mercurial's `get_repository_root`: the marker here, else the tool's answer."""
    if os.path.exists(os.path.join(location, marker)):
        return location
    holder = nearest_holding(location, marker, folder_only=tool == "hg")
    if holder is None:
        return None
    signature = _hg_signature(location) if tool == "hg" else None
    try:
        found = tool_output(tool, args, location, signature=signature)
    except (ToolMissing, ToolFailed):
        return None
    return os.path.normpath(found.rstrip("\r\n"))


# --- Git ------------------------------------------------------------------------------------


def _git_root(location: str) -> str | None:
    return _root_by_tool(location, ".git", "git", ["rev-parse", "--show-toplevel"])


def _git_requirement(location: str, raw_name: str) -> str:
    """`Git.get_src_requirement`: remote `origin` first, `HEAD`, the project's subfolder."""
    remotes = tool_output("git", ["config", "--get-regexp", r"remote\..*\.url"], location, (0, 1))
    lines = remotes.splitlines()
    if not lines:
        raise NoRemote
    found = next((ln for ln in lines if ln.startswith("remote.origin.url ")), lines[0])
    url = _git_remote_to_pip_url([*found.split(" "), ""][1].strip())
    # pip asks `rev-parse HEAD`, then `rev-parse --git-dir`: one call, same failures.
    answer = tool_output("git", ["rev-parse", "HEAD", "--git-dir"], location)
    head, git_dir = (*answer.splitlines(), "", "")[:2]
    git_dir = git_dir.strip()
    if not os.path.isabs(git_dir):
        git_dir = os.path.join(location, git_dir)
    subdir = project_subdirectory(location, os.path.abspath(os.path.join(git_dir, "..")))
    return requirement_url(with_scheme("git", url, always=True), head.strip(), raw_name, subdir)


def _git_remote_to_pip_url(url: str) -> str:
    """URL as is, an existing local path as a file: URL, the SCP form as ssh://. (pip takes a
    relative path from its working folder, which the daemon does not know: absolute only.)"""
    if re.match(r"\w+://", url):
        return url
    if os.path.isabs(url) and os.path.exists(url):
        return Path(url).as_uri()
    match = _SCP_RE.match(url)
    if match:
        return match.expand(r"ssh://\1\2/\3")
    raise RemoteNotValid(url)


# --- Mercurial ------------------------------------------------------------------------------


def _hg_root(location: str) -> str | None:
    return _root_by_tool(location, ".hg", "hg", ["root"])


def _hg_requirement(location: str, raw_name: str) -> str:
    """`Mercurial.get_src_requirement`: `paths.default`, the working parent's node, the
    project's subfolder of `hg root`."""
    signature = _hg_signature(location)

    def hg(*args: str) -> str:
        return tool_output("hg", list(args), location, signature=signature)

    url = hg("showconfig", "paths.default").strip()
    if is_local_repository(url):
        url = path_to_url(url)
    node = hg("parents", "--template={node}").strip()
    repo_root = hg("root").strip()
    if not os.path.isabs(repo_root):
        repo_root = os.path.abspath(os.path.join(location, repo_root))
    subdir = project_subdirectory(location, repo_root)
    return requirement_url(with_scheme("hg", url.strip()), node, raw_name, subdir)


def _hg_signature(location: str) -> Hashable:
    """What hg's answers in `location` depend on: the repository's `.hg` entries (the
    dirstate holds the working parent, hgrc the paths), a share's source config, and the
    user's and system's config files."""
    root = nearest_holding(location, ".hg", folder_only=True)
    if root is None:
        return None
    control = os.path.join(root, ".hg")
    shared = None
    try:
        with open(os.path.join(control, "sharedpath"), encoding="utf-8") as source:
            shared = file_stat(os.path.join(source.read().strip(), "hgrc"))
    except (OSError, UnicodeDecodeError):
        pass
    home = os.path.expanduser("~")
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    user = [os.path.join(home, ".hgrc"), os.path.join(config_home, "hg", "hgrc")]
    system = ["/etc/mercurial/hgrc"]
    return (
        root,
        stats(control),
        shared,
        tuple(file_stat(path) for path in [*user, *system]),
        stats("/etc/mercurial/hgrc.d"),
        tuple(os.environ.get(name) for name in _HG_ENV),
    )


# --- Subversion -----------------------------------------------------------------------------


def _svn_root(location: str) -> str | None:
    return location if os.path.exists(os.path.join(location, ".svn")) else None


def _svn_requirement(location: str, raw_name: str) -> str:
    """`Subversion.get_src_requirement`: `svn+URL@revision#egg=name`."""
    project = location
    while not is_installable_dir(project):
        parent = os.path.dirname(project)
        if parent == project:
            raise NoRemote
        project = parent
    url, _ = _svn_url_rev(project)
    if url is None:
        raise NoRemote
    return requirement_url(
        with_scheme("svn", url, always=True), _svn_revision(location), raw_name, None
    )


def _svn_revision(location: str) -> str:
    """`Subversion.get_revision`: the checkout root's revision (pip's walk skips the rest)."""
    if not os.path.isdir(os.path.join(location, ".svn")):
        return "0"
    if not os.path.exists(os.path.join(location, ".svn", "entries")):
        return "0"
    return str(_svn_url_rev(location)[1])


def _svn_url_rev(location: str) -> tuple[str | None, int]:
    """`Subversion._get_svn_url_rev`: from `.svn/entries` (before 1.7), else `svn info`."""
    try:
        with open(os.path.join(location, ".svn", "entries")) as entries_file:
            data = entries_file.read()
    except (OSError, ValueError):
        data = ""
    try:
        if data.startswith(("8", "9", "10")):
            entries = [entry.splitlines() for entry in data.split("\n\x0c\n")]
            del entries[0][0]
            revs = [int(d[9]) for d in entries if len(d) > 9 and d[9]]
            return entries[0][3], max([*revs, 0])
        if data.startswith("<?xml"):
            url = _SVN_XML_URL.search(data)
            if url is None:
                raise ToolFailed("svn")  # pip: ValueError("Badly formatted data")
            return url.group(1), max([*(int(rev) for rev in _SVN_XML_REV.findall(data)), 0])
    except (IndexError, ValueError) as exc:  # pip fails with a traceback here
        raise ToolFailed("svn") from exc
    holder = nearest_holding(location, ".svn", folder_only=True)
    signature = None if holder is None else (location, stats(os.path.join(holder, ".svn")))
    try:  # kept while the working copy's `.svn` (wc.db) is unchanged
        xml = tool_output("svn", ["info", "--xml", location], None, signature=signature)
    except ToolFailed:
        return None, 0
    match = _SVN_INFO_URL.search(xml)
    revs = [int(rev) for rev in _SVN_INFO_REV.findall(xml)]
    return (match.group(1) if match else None), max(revs, default=0)


# --- Bazaar ---------------------------------------------------------------------------------


def _bzr_root(location: str) -> str | None:
    return location if os.path.exists(os.path.join(location, ".bzr")) else None


def _bzr_requirement(location: str, raw_name: str) -> str:
    """`Bazaar.get_src_requirement`: the branch `bzr info` names, `bzr revno`."""
    signature = _bzr_signature(location)
    info = tool_output("bzr", ["info"], location, signature=signature)
    url = _bzr_branch(info)
    revno = tool_output("bzr", ["revno"], location, signature=signature)
    return requirement_url(
        with_scheme("bzr", url), (revno.splitlines() or [""])[-1], raw_name, None
    )


def _bzr_branch(info: str) -> str:
    for line in info.splitlines():
        line = line.strip()
        for label in ("checkout of branch: ", "parent branch: "):
            if line.startswith(label):
                repo = line.split(label)[1]
                return path_to_url(repo) if is_local_repository(repo) else repo
    raise NoRemote


def _bzr_signature(location: str) -> Hashable:
    """What `bzr info` and `bzr revno` depend on: the checkout's branch and checkout files,
    and for a lightweight checkout the branch it points at."""
    control = os.path.join(location, ".bzr")
    target = None
    try:
        with open(os.path.join(control, "branch", "location"), encoding="utf-8") as pointer:
            url = pointer.read().strip()
        if url.startswith("file:"):
            target = stats(
                os.path.join(
                    urllib.request.url2pathname(urllib.parse.urlsplit(url).path), ".bzr", "branch"
                )
            )
    except (OSError, UnicodeDecodeError):
        pass
    branch, checkout = os.path.join(control, "branch"), os.path.join(control, "checkout")
    return (location, stats(control), stats(branch), stats(checkout), target)


BACKENDS = (
    Backend("Bazaar", _bzr_root, _bzr_requirement),
    Backend("Git", _git_root, _git_requirement),
    Backend("Mercurial", _hg_root, _hg_requirement),
    Backend("Subversion", _svn_root, _svn_requirement),
)
