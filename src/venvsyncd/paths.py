"""Where venvsyncd keeps its config, state, logs and socket (platformdirs, all overridable).

venvsyncd's own folders (from `own_root` down) are the user's alone, 0700; what lies above them
($XDG_STATE_HOME, ~/Library/Logs) is the user's choice (`system/private.py`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

APP_NAME = "venvsyncd"
CONFIG_ENV = "VENVSYNCD_CONFIG"


class Locations(NamedTuple):
    config_file: Path
    state_dir: Path
    log_dir: Path
    runtime_dir: Path

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "venvsyncd.sock"


def default_config_file() -> Path:
    """`$VENVSYNCD_CONFIG`, else the platform's user config dir + `venvsyncd/config.toml`."""
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def locations(config_file: Path | None = None) -> Locations:
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Locations(
        config_file=config_file if config_file is not None else default_config_file(),
        state_dir=Path(dirs.user_state_dir),
        log_dir=Path(dirs.user_log_dir),
        runtime_dir=Path(dirs.user_runtime_dir),
    )


def own_root(folder: Path) -> Path:
    """venvsyncd's top folder holding `folder`: the nearest one named `venvsyncd` (platformdirs
    puts the app name there: `~/.local/state/venvsyncd/log`, `~/Library/Logs/venvsyncd`,
    `%LOCALAPPDATA%\\venvsyncd\\Logs`), else `folder` itself."""
    for candidate in (folder, *folder.parents):
        if candidate.name == APP_NAME:
            return candidate
    return folder
