"""A project's last in-sync state as a few lines a whole `venvsyncd sync --check` process can
verify with the standard library alone, before it imports the engine.

When a sync ends in sync, the engine writes `insync.txt` beside the snapshot: the sha256 of
the config file (its absence counts), of the snapshot, and of each requirements file the sync
read (the file, its includes, its dev files), the mtime of the venv's site-packages
folder (pip and uv create, rename and delete whole `.dist-info` folders there, so an install
or uninstall changes it), and the sha256 of the venv's pyvenv.cfg (which says whether the
system's site-packages count). A later `sync --check` that finds every one of them unchanged gives
the answer the engine gave: the same inputs make the same decision. Anything else (a
mismatch, no record, a line it does not know) sends it the full way.

The engine writes no record for a venv whose freeze depends on more than site-packages'
entries (editable installs, whose version control state lives elsewhere; the system's
site-packages; `.pth` files that add folders), nor leaves one standing when a later sync
does not end in sync (the snapshot's digest changes, or the record is removed).
"""

# str paths and os calls on purpose: importing pathlib costs `sync --check` a third of its time.
# ruff: noqa: PTH113, PTH116, PTH118

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing costs `sync --check` a fifth of its time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

RECORD = "insync.txt"
FREEZE_RECORDS = "freeze"  # the state dir's folder of `freeze` records of venvs in no project
_HEADER = "venvsyncd in-sync record 3"
_FREEZE_HEADER = "venvsyncd freeze record 2"
_FREEZE = "freeze"  # the line after which the freeze follows
_ALL = ("config", "snapshot", "site", "file", "cfg")
_DIGESTS = ("config", "snapshot", "file", "cfg")  # the kinds whose value is a sha256


_sha256_made: list[Any] = []  # the constructor, once found (a failed import costs a path search)


def _sha256(data: bytes) -> Any:
    """hashlib's sha256, from the built-in module when there is one: `import hashlib` loads
    OpenSSL, a quarter of a whole `sync --check`."""
    if not _sha256_made:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # 3.12+
        except ImportError:
            try:
                from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
            except ImportError:
                from hashlib import sha256
        _sha256_made.append(sha256)
    return _sha256_made[0](data)


def sha256_hex(data: bytes) -> str:
    return str(_sha256(data).hexdigest())


def state_folder_name(project: str) -> str:
    """The project's folder name in the state dir's `projects/` (`<name>-<hash of path>`)."""
    key = sha256_hex(project.encode("utf-8", "surrogateescape"))[:16]
    return f"{os.path.basename(project) or 'root'}-{key}"  # noqa: PTH119


def digest_of(path: str) -> str:
    """sha256 of a file's bytes, or "-" when it cannot be read (missing counts as a state)."""
    try:
        with open(path, "rb") as stream:
            return sha256_hex(stream.read())
    except OSError:
        return "-"


def site_mark(site_packages: str) -> str:
    try:
        return str(os.stat(site_packages).st_mtime_ns)
    except OSError:
        return "-"


QUIET_NS = 20_000_000  # coarser than the clock a folder's mtime is stamped with (1-10 ms)


def settled_mark(site_packages: str) -> str | None:
    """The site mark to record for a freeze read right after it: None when site-packages
    changed within the last `QUIET_NS` (a change landing in the same clock tick would leave
    the same mtime, and the freeze read might not hold it) or cannot be read."""
    import time

    try:
        changed = os.stat(site_packages).st_mtime_ns
    except OSError:
        return None
    return None if time.time_ns() - changed < QUIET_NS else str(changed)


def record_text(
    config_file: str,
    snapshot: str,
    files: Mapping[str, str],
    site_packages: str,
    mark: str,
    freeze: str,
) -> str:
    """The record: `files` maps each requirements file the sync read to its sha256; `freeze`
    is the venv's `pip freeze` output then (what `venvsyncd freeze` prints while the config
    and site-packages stand); `mark` is site-packages' `settled_mark` taken before that
    freeze was read, so that a change landing after the read makes the record not hold."""
    lines = [
        _HEADER,
        f"config {digest_of(config_file)} {config_file}",
        f"snapshot {digest_of(snapshot)} {snapshot}",
        f"site {mark} {site_packages}",
        _cfg_line(site_packages),
        *(f"file {sha} {path}" for path, sha in sorted(files.items())),
        _FREEZE,
    ]
    return "".join(line + "\n" for line in lines) + freeze


def holds(record: str, config_file: str, kinds: tuple[str, ...] = _ALL) -> bool:
    """Does everything of `kinds` that `record` names still stand as it says (for this config
    file)?"""
    lines = record.split("\n" + _FREEZE + "\n", 1)[0].splitlines()
    if not lines or lines[0] != _HEADER or len(lines) < 4:
        return False
    for line in lines[1:]:
        kind, _, rest = line.partition(" ")
        if kind not in kinds and kind in _ALL:
            continue
        value, _, path = rest.partition(" ")
        if kind == "config" and path != config_file:
            return False
        if kind in _DIGESTS:
            if digest_of(path) != value:
                return False
        elif kind != "site" or site_mark(path) != value:
            return False
    return True


def frozen(record: str, config_file: str) -> str | None:
    """The venv's freeze as the record keeps it, while its config and site-packages stand."""
    head, found, text = record.partition("\n" + _FREEZE + "\n")
    if not found or not holds(head + "\n", config_file, ("config", "site", "cfg")):
        return None
    return text


def freeze_record_text(site_packages: str, mark: str, freeze: str) -> str:
    """A venv's `freeze` record (a venv no project syncs): its site-packages' `settled_mark`,
    taken before `freeze` was read, and that freeze."""
    site = f"site {mark} {site_packages}"
    return f"{_FREEZE_HEADER}\n{site}\n{_cfg_line(site_packages)}\n{_FREEZE}\n{freeze}"


def kept_freeze(record: str) -> str | None:
    """The freeze a `freeze_record_text` record keeps, while its site-packages and the
    venv's pyvenv.cfg stand."""
    head, found, text = record.partition("\n" + _FREEZE + "\n")
    lines = head.splitlines()
    if not found or len(lines) != 3 or lines[0] != _FREEZE_HEADER:
        return None
    for line, kind in zip(lines[1:], ("site", "cfg"), strict=True):
        written, _, rest = line.partition(" ")
        value, _, path = rest.partition(" ")
        now = site_mark(path) if kind == "site" else digest_of(path)
        if written != kind or now != value:
            return None
    return text


def _cfg_line(site_packages: str) -> str:
    """The venv's pyvenv.cfg and its sha256 (`include-system-site-packages` and the Python
    it names decide the freeze too): two folders above site-packages on Windows
    (`Lib/site-packages`), three on POSIX (`lib/pythonX.Y/site-packages`)."""
    parent = os.path.dirname
    root = parent(parent(site_packages))
    if not os.path.isfile(os.path.join(root, "pyvenv.cfg")):
        root = parent(root)
    cfg = os.path.join(root, "pyvenv.cfg")
    return f"cfg {digest_of(cfg)} {cfg}"


def write(folder: str, text: str, name: str = RECORD) -> None:
    """Replace the record `name` in `folder` (0600, atomically)."""
    path = os.path.join(folder, name)
    temp = f"{path}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)  # not on Windows
    fd = os.open(temp, flags, 0o600)
    try:
        os.write(fd, text.encode("utf-8", "surrogateescape"))
    finally:
        os.close(fd)
    os.replace(temp, path)


def remove(folder: str) -> None:
    try:  # noqa: SIM105 (contextlib costs `sync --check` 2.7 ms to import)
        os.unlink(os.path.join(folder, RECORD))
    except OSError:  # none there (or the folder is not ours to write: nothing was written)
        pass


def read(folder: str, name: str = RECORD) -> str | None:
    """The record `name` in `folder`, when it and its folder are this user's alone (a record
    someone else could write is no record: the state dir's rule, `system/private.py`)."""
    try:
        fd = os.open(os.path.join(folder, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not (_mine(os.fstat(fd)) and _mine(os.stat(folder))):
            return None
        return os.read(fd, 1 << 20).decode("utf-8", "surrogateescape")
    except OSError:
        return None
    finally:
        os.close(fd)


def _mine(info: os.stat_result) -> bool:
    owner = getattr(os, "geteuid", lambda: info.st_uid)()
    return info.st_uid == owner and not info.st_mode & 0o022
