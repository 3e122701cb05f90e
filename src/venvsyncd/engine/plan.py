"""The three-way decision: given the snapshot, the env and the file now, what to do. Pure.

Rules (README, "How a sync decides"): an env change is carried into the file; a file change
is carried into the env (install what was added or changed, uninstall what was removed);
changes on both sides to different packages are both applied, to the same package they are a
conflict and nothing is touched. With no snapshot, the first sync follows `--from`, else the
`initial` setting; "ask" leaves a project whose sides differ in `drift`.

Two guards keep a file change from doing harm on its own: a removed line uninstalls its
package only when no remaining installed package requires it (the plan says who keeps it),
and a change that empties the file or would uninstall most of what it named is `held` until
the user allows it (`venvsyncd allow`) or takes it back (`venvsyncd undo`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from venvsyncd.engine.explain import Kept, accounted_for, still_needed
from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.edit import EnvDelta
from venvsyncd.requirements.wanted import PROTECTED, Wanted, applies, installed_for, satisfied


@dataclass(frozen=True)
class Inputs:
    frozen: tuple[FrozenDist, ...]  # the env now, as pip freeze lists it
    installed: Mapping[str, FrozenDist]  # the env now, everything (pip and setuptools too)
    wanted: tuple[Wanted, ...] | None  # the file now (and its includes); None: no file
    snapshot_frozen: tuple[FrozenDist, ...] | None  # None: no snapshot
    snapshot_wanted: tuple[Wanted, ...]
    requires: Mapping[str, tuple[str, ...]]  # installed name -> names it depends on
    marker_env: Mapping[str, str]
    mode: str = "both"
    initial: str = "ask"
    force: str | None = None  # `sync --from env|file`
    allow: bool = False  # the user approved what a hold would stop (`venvsyncd allow`)
    file_blank: bool = False  # the requirements file is empty or holds only whitespace


@dataclass(frozen=True)
class Plan:
    state: str  # "in-sync" (nothing to do), "act", "drift", "conflict", "held", "error"
    install: tuple[Wanted, ...] = ()
    uninstall: tuple[str, ...] = ()
    edit: EnvDelta = field(default_factory=lambda: EnvDelta((), (), ()))
    create_file: bool = False
    conflicts: tuple[str, ...] = ()
    message: str | None = None
    kept: tuple[Kept, ...] = ()  # removed lines whose package stays: others require it

    @property
    def touches_env(self) -> bool:
        return bool(self.install or self.uninstall)

    @property
    def touches_file(self) -> bool:
        return self.create_file or bool(self.edit.added or self.edit.removed or self.edit.changed)


NOTHING = Plan("in-sync")


def env_delta(before: Sequence[FrozenDist], after: Sequence[FrozenDist]) -> EnvDelta:
    old = {d.name: d for d in before}
    new = {d.name: d for d in after}
    changed = tuple(d for n, d in new.items() if n in old and old[n] != d)
    return EnvDelta(
        added=tuple(d for n, d in new.items() if n not in old),
        removed=tuple(n for n in old if n not in new),
        changed=changed,
        previous=tuple(old[d.name] for d in changed),
    )


def _delta_names(delta: EnvDelta) -> set[str]:
    return {d.name for d in delta.added} | set(delta.removed) | {d.name for d in delta.changed}


def _restrict(delta: EnvDelta, keep: set[str]) -> EnvDelta:
    return replace(
        delta,
        added=tuple(d for d in delta.added if d.name in keep),
        removed=tuple(n for n in delta.removed if n in keep),
        changed=tuple(d for d in delta.changed if d.name in keep),
    )


def _by_key(wanted: Iterable[Wanted]) -> dict[str, Wanted]:
    return {w.key: w for w in wanted}


def file_delta(before: Sequence[Wanted], after: Sequence[Wanted]) -> tuple[set[str], set[str]]:
    """Keys whose line was added or changed, and keys whose line was removed."""
    old, new = _by_key(before), _by_key(after)
    touched = {k for k, w in new.items() if old.get(k) != w}
    return touched, {k for k in old if k not in new}


def decide(inp: Inputs) -> Plan:
    if inp.wanted is None:
        return _no_file(inp)
    if inp.snapshot_frozen is None:
        return _held(_first_sync(inp, inp.wanted), inp)
    return _held(_three_way(inp, inp.wanted, inp.snapshot_frozen), inp)


def _held(plan: Plan, inp: Inputs) -> Plan:
    """`plan` made `held` when it uninstalls for an emptied file or uninstalls most of what
    the file named; the user decides (`allow`, or `undo`). `sync --from file` decides too."""
    if plan.state != "act" or not plan.uninstall or inp.allow or inp.force == "file":
        return plan
    named = max(_count_named(inp.snapshot_wanted), _count_named(inp.wanted or ()))
    count = len(plan.uninstall)
    if inp.file_blank:
        why = "the requirements file was emptied"
    elif count >= 2 and 2 * count > named:
        why = f"the file change would uninstall {count} of the {named} packages it named"
    else:
        return plan
    return replace(
        plan,
        state="held",
        message=f"{why}, so venvsyncd uninstalled nothing ({_listed(plan.uninstall)}). "
        "Run `venvsyncd allow` to apply it, or `venvsyncd undo` to put the previous file back",
    )


def _count_named(wanted: Iterable[Wanted]) -> int:
    return len({w.name for w in wanted if w.name is not None})


def _listed(names: Sequence[str], most: int = 5) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return "would uninstall " + ", ".join(names[:most]) + more


def _no_file(inp: Inputs) -> Plan:
    if inp.snapshot_frozen is not None and inp.snapshot_wanted and inp.force != "env":
        return Plan(
            "error",
            message="the requirements file was deleted; nothing was uninstalled. Restore it "
            "(git checkout, or `venvsyncd undo`), or write it from the venv with "
            "`venvsyncd sync --from env`",
        )
    if inp.mode == "install":
        return Plan("error", message='no requirements file, and mode = "install" never writes one')
    return Plan("act", edit=EnvDelta(inp.frozen, (), ()), create_file=True)


def _first_sync(inp: Inputs, wanted: tuple[Wanted, ...]) -> Plan:
    unmet = tuple(w for w in wanted if not satisfied(w, inp.installed, inp.marker_env))
    explained = accounted_for(wanted, inp.installed, inp.requires)
    extra = tuple(d for d in inp.frozen if d.name not in explained)
    if not unmet and not extra:
        return NOTHING
    direction = inp.force or (None if inp.initial == "ask" else inp.initial)
    if direction is None and not inp.frozen and inp.mode != "freeze":
        direction = "file"  # an empty venv is filled from the file, as a new one would be
    if direction is None:
        return Plan("drift", message=_drift_message(unmet, extra))
    refused = _refused_direction(direction, inp.mode)
    if refused is not None:
        return refused
    if direction == "file":
        removable = [d.name for d in extra if d.name not in PROTECTED]
        leaving, kept = still_needed(removable, inp.installed, inp.requires)
        return Plan("act", install=unmet, uninstall=leaving, kept=kept)
    named = {w.name for w in wanted if w.name is not None}
    return Plan(
        "act",
        edit=EnvDelta(
            added=tuple(d for d in inp.frozen if d.name not in named),
            removed=tuple(w.key for w in unmet if w.name and w.name not in inp.installed),
            changed=tuple(d for w in unmet if (d := installed_for(w, inp.installed)) is not None),
        ),
    )


def _refused_direction(direction: str, mode: str) -> Plan | None:
    if direction == "file" and mode == "freeze":
        return Plan("error", message='mode = "freeze" never installs; use `--from env`')
    if direction == "env" and mode == "install":
        return Plan("error", message='mode = "install" never writes the file; use `--from file`')
    return None


def _drift_message(unmet: Sequence[Wanted], extra: Sequence[FrozenDist]) -> str:
    parts = []
    if unmet:
        parts.append("the file asks for " + ", ".join(" ".join(w.args) for w in unmet[:5]))
    if extra:
        parts.append("the venv has " + ", ".join(d.lines[-1] for d in extra[:5]))
    return (
        "; ".join(parts) + " (first sync). Run `venvsyncd sync --from env` to write the venv "
        "into the file, or `venvsyncd sync --from file` to make the venv follow the file"
    )


def _three_way(inp: Inputs, wanted: tuple[Wanted, ...], snap: tuple[FrozenDist, ...]) -> Plan:
    env = env_delta(snap, inp.frozen)
    touched, removed = file_delta(inp.snapshot_wanted, wanted)
    now, old = _by_key(wanted), _by_key(inp.snapshot_wanted)
    file_names = {k for k in touched | removed}
    both = _delta_names(env) & file_names
    agreed = {n for n in both if _sides_agree(n, now, inp)}
    conflicts = tuple(sorted(both - agreed))
    if conflicts and inp.force is None:
        return Plan("conflict", conflicts=conflicts, message=_conflict_message(conflicts, now, inp))
    env_wins = set(conflicts) if inp.force == "env" else set()
    plan = Plan("act", conflicts=conflicts)
    if inp.mode != "install":
        env_side = _delta_names(env) - (file_names - env_wins)
        plan = _with_edit(plan, _restrict(env, env_side), wanted)
    if inp.mode != "freeze":
        skip = agreed | env_wins
        install = tuple(
            now[k]
            for k in sorted(touched - skip)
            if not satisfied(now[k], inp.installed, inp.marker_env)
        )
        candidates = _uninstalls(sorted(removed - skip), old, wanted, inp)
        uninstall, kept = still_needed(candidates, inp.installed, inp.requires)
        plan = Plan(plan.state, install, uninstall, plan.edit, conflicts=conflicts, kept=kept)
    return plan if plan.touches_env or plan.touches_file or plan.kept else NOTHING


def _sides_agree(name: str, now: Mapping[str, Wanted], inp: Inputs) -> bool:
    line = now.get(name)
    if line is None:
        return name not in inp.installed
    return satisfied(line, inp.installed, inp.marker_env)


def _with_edit(plan: Plan, delta: EnvDelta, wanted: Sequence[Wanted]) -> Plan:
    """Added dists the file already names are pin moves, not new lines."""
    named = {w.name for w in wanted if w.name is not None}
    fresh = tuple(d for d in delta.added if d.name not in named)
    moved = delta.changed + tuple(d for d in delta.added if d.name in named)
    edit = replace(delta, added=fresh, changed=moved)
    return Plan(plan.state, edit=edit, conflicts=plan.conflicts)


def _uninstalls(
    keys: Iterable[str], old: Mapping[str, Wanted], wanted: Sequence[Wanted], inp: Inputs
) -> tuple[str, ...]:
    still = {w.name for w in wanted if w.name is not None}
    names = []
    for key in keys:
        if not applies(old[key], inp.marker_env):
            continue
        dist = installed_for(old[key], inp.installed)
        if dist is not None and dist.name not in still and dist.name not in PROTECTED:
            names.append(dist.name)
    return tuple(names)


def _conflict_message(conflicts: Sequence[str], now: Mapping[str, Wanted], inp: Inputs) -> str:
    described = []
    for name in conflicts[:5]:
        line = " ".join(now[name].args) if name in now else "(line removed)"
        dist = inp.installed.get(name)
        described.append(f"{name}: file {line}, venv {dist.version if dist else 'uninstalled'}")
    return (
        "changed on both sides since the last sync: "
        + "; ".join(described)
        + ". Run `venvsyncd sync --from file` or `venvsyncd sync --from env` to settle it"
    )
