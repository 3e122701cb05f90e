"""What accounts for each installed package: the file, a package that requires it, or an
install of venvsyncd's own. Pure.

The file accounts for what it names and their dependencies (`accounted_for`); a package whose
line was removed stays while another installed package requires it (`still_needed`).

After venvsyncd installs, the env may hold more than its install did: a user's `pip install`
that ran at the same time (pip takes no lock), say. Recording the env as it is would swallow
that change into the snapshot, and it would never reach the file. So the snapshot after an
install keeps, for every package the install does not explain, the state it had before the
install; and for the env changes still owed to the file, the state of the old snapshot. The
next round of the sync then sees both as env changes and writes them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.edit import EnvDelta
from venvsyncd.requirements.wanted import Wanted, installed_for


class Kept(NamedTuple):
    """A package whose line left the file but which stays installed."""

    name: str
    required_by: tuple[str, ...]


def accounted_for(
    wanted: Sequence[Wanted],
    installed: Mapping[str, FrozenDist],
    requires: Mapping[str, tuple[str, ...]],
) -> set[str]:
    """Installed names the file explains: those it names, and what they depend on."""
    todo = [d.name for w in wanted if (d := installed_for(w, installed)) is not None]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(requires.get(name, ()))
    return seen


def still_needed(
    candidates: Iterable[str],
    installed: Mapping[str, FrozenDist],
    requires: Mapping[str, tuple[str, ...]],
) -> tuple[tuple[str, ...], tuple[Kept, ...]]:
    """Of the packages about to be uninstalled, those that may go, and those that stay
    because an installed package that stays requires them (with who requires each)."""
    leaving = dict.fromkeys(candidates)
    kept: dict[str, tuple[str, ...]] = {}
    changed = True
    while changed:
        changed = False
        for name in list(leaving):
            users = tuple(
                sorted(
                    user
                    for user, needs in requires.items()
                    if name in needs and user in installed and user not in leaving
                )
            )
            if users:
                del leaving[name]
                kept[name] = users
                changed = True
    return tuple(leaving), tuple(Kept(n, users) for n, users in sorted(kept.items()))


def explained(
    installed: Sequence[Wanted],
    uninstalled: Sequence[str],
    after: Mapping[str, FrozenDist],
    requires: Mapping[str, tuple[str, ...]],
) -> set[str]:
    """The packages an install of `installed` and uninstall of `uninstalled` account for: what
    they named, and what those depend on (an install brings and upgrades dependencies). A
    line that names no package (a URL, a path) installs from a source, not an index: every
    package installed from a source is taken as its (a VCS line's `@main` is not the
    commit the installed package records, so they cannot be matched)."""
    named = accounted_for(installed, after, requires)
    if any(w.name is None for w in installed):
        sourced = [Wanted(d.name, d.name, ()) for d in after.values() if d.url is not None]
        named |= accounted_for(sourced, after, requires)
    return named | set(uninstalled)


def agreed_env(
    before: Iterable[FrozenDist],
    after: Iterable[FrozenDist],
    explains: Collection[str],
    owed: Mapping[str, FrozenDist | None],
) -> tuple[FrozenDist, ...]:
    """The env to record after an install: `after`, with each change it does not `explain`
    taken back to `before`, and each name in `owed` (still to be written into the file)
    taken back to the state given there (None: not installed)."""
    old = {d.name: d for d in before}
    now = {d.name: d for d in after}
    agreed = dict(now)
    for name in set(old) | set(now):
        if old.get(name) != now.get(name) and name not in explains:
            _set(agreed, name, old.get(name))
    for name, dist in owed.items():
        _set(agreed, name, dist)
    return tuple(sorted(agreed.values(), key=lambda d: d.raw_name.lower()))


def _set(dists: dict[str, FrozenDist], name: str, dist: FrozenDist | None) -> None:
    if dist is None:
        dists.pop(name, None)
    else:
        dists[name] = dist


def owed_by(edit: EnvDelta, snapshot: Mapping[str, FrozenDist]) -> dict[str, FrozenDist | None]:
    """The env changes still to be written into the file (`edit`), at their snapshot state."""
    names = [d.name for d in (*edit.added, *edit.changed)] + list(edit.removed)
    return {name: snapshot.get(name) for name in names}
