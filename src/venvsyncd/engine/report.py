"""Readable text for plans and differences (pure: values in, lines out)."""

from __future__ import annotations

from collections.abc import Mapping

from venvsyncd.engine.explain import accounted_for
from venvsyncd.engine.observe import EnvSide, FileSide
from venvsyncd.engine.plan import Plan, env_delta, file_delta
from venvsyncd.engine.snapshot import Snapshot
from venvsyncd.requirements.wanted import installed_for, satisfied


def plan_lines(plan: Plan, file_name: str) -> list[str]:
    """What a plan would do, one action a line (`sync --dry-run`)."""
    lines = [f"install {' '.join(w.args)}" for w in plan.install]
    lines += [f"uninstall {name}" for name in plan.uninstall]
    if plan.create_file:
        lines.append(f"create {file_name} from the venv ({len(plan.edit.added)} packages)")
    else:
        lines += [f"{file_name}: add {' / '.join(d.lines)}" for d in plan.edit.added]
        lines += [f"{file_name}: remove {name}" for name in plan.edit.removed]
        lines += [f"{file_name}: pin {d.lines[-1]}" for d in plan.edit.changed]
    lines += [f"keep {k.name} (required by {', '.join(k.required_by)})" for k in plan.kept]
    if plan.state in ("drift", "conflict", "held", "error") and plan.message:
        lines.append(f"{plan.state}: {plan.message}")
    return lines or ["nothing to do: file and venv agree"]


def diff_lines(
    env: EnvSide,
    file: FileSide | None,
    snapshot: Snapshot | None,
    requires: Mapping[str, tuple[str, ...]],
) -> list[str]:
    """How file and env differ now, and which side moved since the last sync."""
    lines = _since_snapshot(env, file, snapshot)
    if file is None:
        return [*lines, "the requirements file does not exist"]
    for wanted in file.wanted:
        if satisfied(wanted, env.installed, env.marker_env):
            continue
        dist = installed_for(wanted, env.installed)
        has = dist.lines[-1] if dist is not None else "not installed"
        lines.append(f"- {' '.join(wanted.args):40} file only (venv: {has})")
    explained = accounted_for(file.wanted, env.installed, requires)
    named = {w.name for w in file.wanted}
    for dist in env.frozen:
        if dist.name not in explained and dist.name not in named:
            lines.append(f"+ {dist.lines[-1]:40} venv only")
    return lines


def _since_snapshot(env: EnvSide, file: FileSide | None, snapshot: Snapshot | None) -> list[str]:
    if snapshot is None:
        return ["no earlier sync: the first sync decides (see `venvsyncd sync --help`)"]
    lines = []
    moved = env_delta(snapshot.installed, env.frozen)
    if moved.added or moved.removed or moved.changed:
        from venvsyncd.requirements.edit import render_change

        lines.append(f"venv changed since {snapshot.time}: {render_change(moved)}")
    if file is not None:
        touched, removed = file_delta(snapshot.wanted, file.wanted)
        if touched or removed:
            words = [f"+{k}" for k in sorted(touched)] + [f"-{k}" for k in sorted(removed)]
            lines.append(f"file changed since {snapshot.time}: {' '.join(words)}")
        elif snapshot.files != file.texts:
            lines.append(f"file edited since {snapshot.time} (no requirement changed)")
    return lines


def install_summary(plan: Plan, file_name: str) -> str:
    """`requirements.txt -> +beta -gamma (alpha stays: required by beta)`."""
    installed = " ".join("+" + " ".join(w.args) for w in plan.install)
    removed = " ".join(f"-{name}" for name in plan.uninstall)
    kept = "; ".join(f"{k.name} stays: required by {', '.join(k.required_by)}" for k in plan.kept)
    acted = " ".join(filter(None, (installed, removed)))
    text = f"{file_name} -> {acted}" if acted else ""
    if kept:
        text = f"{text} ({kept})" if text else f"{file_name}: {kept}"
    return text
