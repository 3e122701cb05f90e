"""Daemon logging: one line per action to stderr and to a rotating file in the user log dir."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure(level: str, log_dir: Path, verbosity: int = 0) -> Path:
    """Set up the `venvsyncd` logger; the log file's path.

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
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "venvsyncd.log"
    rotating = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    rotating.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(rotating)
    return path
