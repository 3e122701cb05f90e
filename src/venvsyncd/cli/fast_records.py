"""The fast paths that answer from a record in the state dir (`system/insync.py`; see
`fast.py`): a plain `sync --check [PATH]` from the project's in-sync record, and a plain
`freeze [PATH]` from that record or, for a venv in no project, from its own `freeze` record
(`<state dir>/freeze/<name>-<hash of its path>.txt`), each while what it names stands. A
freeze with no record standing is read with the freeze modules alone (no argparse,
platformdirs or config parser), and recorded for next time when only site-packages' entries
decide it.
"""

# str paths and os calls on purpose: importing pathlib would cost this path a third of its time.
# ruff: noqa: PTH111, PTH113, PTH117, PTH118

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: see fast.py
if TYPE_CHECKING:
    from pathlib import Path

APP_NAME = "venvsyncd"  # paths.APP_NAME, without importing paths (pathlib, platformdirs)
VENV_CANDIDATES = (".venv", "venv", "env")  # env.venvs.VENV_CANDIDATES, without importing it


def fast_check(path: str) -> int | None:
    """`sync --check [PATH]` when the record the last sync left (`system/insync.py`) still
    holds: the same config, snapshot, requirements files and site-packages."""
    from venvsyncd.system import insync

    found = record(path)
    if found is None or not insync.holds(found, config_file()):
        return None
    print("in sync")
    return 0


def record(path: str) -> str | None:
    """The in-sync record in the project's state folder (`engine/snapshot.project_state_dir`
    under platformdirs' Linux `user_state_dir`), if there is one."""
    from venvsyncd.system import insync

    name = insync.state_folder_name(os.path.abspath(os.path.expanduser(path)))
    return insync.read(os.path.join(state_home(), APP_NAME, "projects", name))


def state_home() -> str:
    """platformdirs' Linux `user_state_dir` root, without importing it."""
    state = os.environ.get("XDG_STATE_HOME", "")
    return state if state.strip() else os.path.expanduser("~/.local/state")


def config_file() -> str:
    """The config file as `paths.default_config_file` finds it on Linux."""
    config = os.environ.get("VENVSYNCD_CONFIG")
    if config:
        return os.path.expanduser(config)
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        base = os.path.expanduser("~/.config")
    return os.path.join(base, APP_NAME, "config.toml")


def fast_freeze(path: str) -> int | None:
    """`freeze [PATH]`: the freeze the last in-sync record kept while the config and the
    venv's site-packages stand, else the venv's (the first of `.venv`, `venv`, `env`)."""
    from venvsyncd.system import insync

    found = record(path)
    kept = None if found is None else insync.frozen(found, config_file())
    if kept is not None:
        sys.stdout.write(kept)
        return 0
    if _config_may_name_venvs():
        return None
    folder = os.path.abspath(os.path.expanduser(path))
    for name in VENV_CANDIDATES:
        if os.path.isfile(os.path.join(folder, name, "pyvenv.cfg")):
            break
    else:
        return None
    text = _venv_freeze(os.path.join(folder, name))
    if text is None:
        return None
    sys.stdout.write(text)
    return 0


def _venv_freeze(root: str) -> str | None:
    """The freeze of the venv at `root`: from its record in the state dir while its
    site-packages stands (`insync.kept_freeze`), else read, and recorded for next time when
    only site-packages decides it. None: no venv there that venvsyncd can read."""
    from venvsyncd.system import insync

    records = os.path.join(state_home(), APP_NAME, insync.FREEZE_RECORDS)
    name = insync.state_folder_name(root) + ".txt"
    found = insync.read(records, name)
    kept = None if found is None else insync.kept_freeze(found)
    if kept is not None:
        return kept
    from pathlib import Path

    from venvsyncd.env.freeze import freeze
    from venvsyncd.env.plainvenv import site_decides_freeze
    from venvsyncd.env.venvs import load_venv
    from venvsyncd.errors import VenvsyncdError

    try:
        venv = load_venv(Path(root))
        site = str(venv.site_packages)
        mark = insync.settled_mark(site)
        frozen = freeze(venv)
    except VenvsyncdError:
        return None
    text = "".join(line + "\n" for dist in frozen for line in dist.lines)
    if mark is not None and "\n" not in site and site_decides_freeze(venv, frozen):
        _keep_record(Path(records), name, insync.freeze_record_text(site, mark, text))
    return text


def _keep_record(folder: Path, name: str, text: str) -> None:
    """Write a record into the state dir's `folder`, made private; an optimisation only."""
    from venvsyncd.system import insync
    from venvsyncd.system.private import NotPrivate, private_dir

    try:
        private_dir(folder, folder.parent.parent)
        insync.write(str(folder), text, name)
    except (OSError, NotPrivate):
        pass


def _config_may_name_venvs() -> bool:
    """Does the config file (as `paths.default_config_file` finds it on Linux) exist and
    may it set a project's `venv`? Unreadable counts as yes."""
    try:
        with open(config_file(), "rb") as file:
            text = file.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return names_venv_key(text)


def names_venv_key(text: bytes) -> bool:
    """Could TOML `text` have a key `venv` (bare, quoted or dotted)? An escape in a quoted
    key could spell it too: any `\\u` counts as yes."""
    if b"\\u" in text or b"\\U" in text:
        return True
    at = text.find(b"venv")
    while at >= 0:
        before = text[at - 1 : at] if at else b"\n"
        after = text[at + 4 :].lstrip(b"\"'").lstrip(b" \t")
        if before in b" \t\r\n{,.\"'" and after.startswith(b"="):
            return True
        at = text.find(b"venv", at + 4)
    return False
