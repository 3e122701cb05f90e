"""Whether a venv's freeze follows from site-packages' entries alone (`system/insync.py`'s
records rely on it: a change there moves site-packages' mtime)."""

from __future__ import annotations

from collections.abc import Iterable

from venvsyncd.env.dists import FrozenDist
from venvsyncd.env.sitepath import venv_sys_path
from venvsyncd.env.venvs import Venv


def site_decides_freeze(
    venv: Venv, frozen: Iterable[FrozenDist], entries: tuple[str, ...] | None = None
) -> bool:
    """Does only the list of site-packages' entries decide the freeze of `venv` (whose
    `frozen` dists these are)? Not with editables (their version control state is elsewhere),
    the system's site-packages, or `.pth`-added folders. (For `system/insync.py`'s records.)
    `entries`: the venv's path entries, when the caller has them."""
    if venv.include_system_site_packages or any(d.editable for d in frozen):
        return False
    entries = venv_sys_path(venv).entries if entries is None else entries
    return entries[-1:] == (str(venv.site_packages),)
