"""Daemon logging: one line per action to stderr and to a rotating file in the user log dir.

The log folder (and venvsyncd's folders above it) is the user's alone, 0700, and the log file
0600, opened without following a symlink, also when it is rotated: a log folder or file that is
another user's or a symlink is refused (`VenvsyncdError`) and the daemon does not start.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from venvsyncd.errors import VenvsyncdError
from venvsyncd.paths import own_root
from venvsyncd.system.private import NotPrivate, open_private_file, private_dir

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class PrivateLogFile(logging.handlers.RotatingFileHandler):
    """A rotating log file made 0600 and never opened through a symlink (`NotPrivate`)."""

    def _open(self) -> io.TextIOWrapper:
        fd = open_private_file(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        try:
            return open(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def configure(level: str, log_dir: Path, verbosity: int = 0) -> Path:
    """Set up the `venvsyncd` logger; the log file's path. A `VenvsyncdError` when the log
    folder or file is not the user's alone.

    Under systemd (`JOURNAL_STREAM` set) stderr lines carry no timestamp: journald adds its own.
    """
    logger = logging.getLogger("venvsyncd")
    logger.handlers.clear()
    chosen = LEVELS.get(level, logging.INFO)
    if verbosity > 0:
        chosen = logging.DEBUG
    elif verbosity < 0:
        chosen = logging.WARNING
    logger.setLevel(chosen)
    logger.propagate = False
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter(stamp + "%(levelname)s %(message)s"))
    logger.addHandler(stream)
    path = log_dir / "venvsyncd.log"
    try:
        private_dir(log_dir, own_root(log_dir))
        rotating = PrivateLogFile(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except NotPrivate as exc:
        raise VenvsyncdError(exc.message, hint=exc.hint) from None
    rotating.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(rotating)
    return path
