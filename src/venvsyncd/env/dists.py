"""Values describing what is installed in a venv, shared by freeze, the editor and the planner."""

from __future__ import annotations

from typing import NamedTuple


class FrozenDist(NamedTuple):
    """One installed distribution as `pip freeze` sees it.

    `lines` are exactly the lines `pip freeze` prints for it, without newlines: one line
    (`Name==1.0`, `Name @ file:///...`, `-e git+...#egg=Name`) or two for editables without a
    VCS remote (the `# Editable ... (Name==v)` comment, then `-e /abs/path`).
    """

    name: str  # canonical (PEP 503) name: "foo-bar"
    raw_name: str  # as METADATA spells it: "Foo_Bar"
    version: str  # normalized when valid PEP 440, else raw
    lines: tuple[str, ...]
    editable: bool = False
    url: str | None = None  # the direct URL (file:, VCS) when installed from one
