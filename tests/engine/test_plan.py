"""Table tests for the pure three-way decision (plan.decide)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from venvsyncd.engine.explain import Kept
from venvsyncd.engine.plan import Inputs, Plan, decide, env_delta
from venvsyncd.env.dists import FrozenDist
from venvsyncd.requirements.edit import EnvDelta
from venvsyncd.requirements.file import parse_requirements
from venvsyncd.requirements.wanted import Wanted, wanted_from

ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "x86_64",
    "platform_release": "",
    "platform_version": "",
    "implementation_version": "3.11.7",
}


def D(name: str, version: str) -> FrozenDist:
    return FrozenDist(name, name, version, (f"{name}=={version}",))


def W(text: str) -> tuple[Wanted, ...]:
    return tuple(wanted_from(parse_requirements(text.encode(), Path("/p/requirements.txt"))))


def env(spec: str) -> tuple[FrozenDist, ...]:
    return tuple(D(*item.split("==")) for item in spec.split())


def inputs(
    now: str, file: str | None, snap_env: str | None = None, snap_file: str = "", **kw: object
) -> Inputs:
    frozen = env(now)
    return Inputs(
        frozen=frozen,
        installed={d.name: d for d in frozen},
        wanted=None if file is None else W(file),
        snapshot_frozen=None if snap_env is None else env(snap_env),
        snapshot_wanted=W(snap_file),
        requires={"beta": ("alpha",)},
        marker_env=ENV,
        **kw,  # type: ignore[arg-type]
    )


def summary(plan: Plan) -> tuple[str, list[str], list[str], list[str], list[str], list[str]]:
    return (
        plan.state,
        [" ".join(w.args) for w in plan.install],
        list(plan.uninstall),
        [d.lines[0] for d in plan.edit.added],
        list(plan.edit.removed),
        [d.lines[0] for d in plan.edit.changed],
    )


FIRST_SYNC = [
    # (id, env now, file, extra inputs, expected (state, install, uninstall, add, remove, pin))
    ("agree", "alpha==1.0", "alpha==1.0\n", {}, ("in-sync", [], [], [], [], [])),
    ("dependency-explained", "alpha==1.0 beta==1.0", "beta\n", {}, ("in-sync", [], [], [], [], [])),
    (
        "false-marker-asks-nothing",
        "",
        'alpha ; python_version < "3"\n',
        {},
        ("in-sync", [], [], [], [], []),
    ),
    ("differ-ask-is-drift", "alpha==1.0 gamma==1.0", "alpha\n", {}, ("drift", [], [], [], [], [])),
    (
        "differ-initial-env",
        "alpha==1.0 gamma==1.0",
        "alpha\neta\n",
        {"initial": "env"},
        ("act", [], [], ["gamma==1.0"], ["eta"], []),
    ),
    (
        "differ-from-file",
        "alpha==1.0 gamma==1.0",
        "alpha==2.0\neta\n",
        {"force": "file"},
        ("act", ["alpha==2.0", "eta"], ["gamma"], [], [], []),
    ),
    (
        "from-env-moves-pin",
        "alpha==1.1",
        "alpha==1.0\n",
        {"force": "env"},
        ("act", [], [], [], [], ["alpha==1.1"]),
    ),
    (
        "freeze-mode-refuses-file",
        "alpha==1.1",
        "alpha==1.0\n",
        {"force": "file", "mode": "freeze"},
        ("error", [], [], [], [], []),
    ),
    (
        "protected-never-uninstalled",
        "pip==26.3 alpha==1.0",
        "alpha\n",
        {"force": "file"},
        ("act", [], [], [], [], []),
    ),
]


@pytest.mark.parametrize(
    ("now", "file", "extra", "expected"),
    [case[1:] for case in FIRST_SYNC],
    ids=[c[0] for c in FIRST_SYNC],
)
def test_first_sync(
    now: str, file: str, extra: dict[str, Any], expected: tuple[object, ...]
) -> None:
    assert summary(decide(inputs(now, file, **extra))) == expected


THREE_WAY = [
    # (id, env now, file now, env at snapshot, file at snapshot, extra, expected)
    (
        "nothing-changed",
        "alpha==1.0",
        "alpha==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "comment-only-edit",
        "alpha==1.0",
        "# hi\nalpha==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "user-installed",
        "alpha==1.0 gamma==1.0",
        "alpha==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("act", [], [], ["gamma==1.0"], [], []),
    ),
    (
        "user-uninstalled",
        "",
        "alpha==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("act", [], [], [], ["alpha"], []),
    ),
    (
        "user-upgraded",
        "alpha==2.0",
        "alpha==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("act", [], [], [], [], ["alpha==2.0"]),
    ),
    (
        "file-added",
        "alpha==1.0",
        "alpha==1.0\neta==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("act", ["eta==1.0"], [], [], [], []),
    ),
    (
        "file-bumped",
        "alpha==1.0",
        "alpha==2.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("act", ["alpha==2.0"], [], [], [], []),
    ),
    (
        "file-loosened-still-satisfied",
        "alpha==1.0",
        "alpha>=1\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "file-removed-keeps-deps",
        "alpha==1.0 beta==1.0",
        "alpha==1.0\n",
        "alpha==1.0 beta==1.0",
        "alpha==1.0\nbeta==1.0\n",
        {},
        ("act", [], ["beta"], [], [], []),
    ),
    (
        "file-removed-protected",
        "pip==26.3",
        "",
        "pip==26.3",
        "pip\n",
        {},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "both-different-packages",
        "alpha==1.0 gamma==1.0",
        "alpha==1.0\neta\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("act", ["eta"], [], ["gamma==1.0"], [], []),
    ),
    (
        "both-same-package-conflict",
        "alpha==1.1",
        "alpha==2.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("conflict", [], [], [], [], []),
    ),
    (
        "both-same-package-agree",
        "alpha==2.0",
        "alpha==2.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "conflict-from-file",
        "alpha==1.1",
        "alpha==2.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {"force": "file"},
        ("act", ["alpha==2.0"], [], [], [], []),
    ),
    (
        "conflict-from-env",
        "alpha==1.1",
        "alpha==2.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {"force": "env"},
        ("act", [], [], [], [], ["alpha==1.1"]),
    ),
    (
        "mode-freeze-ignores-file",
        "alpha==1.0",
        "alpha==2.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {"mode": "freeze"},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "mode-install-ignores-env",
        "alpha==1.0 gamma==1.0",
        "alpha==1.0\n",
        "alpha==1.0",
        "alpha==1.0\n",
        {"mode": "install"},
        ("in-sync", [], [], [], [], []),
    ),
    (
        "emptied-file-is-held",
        "alpha==1.0 beta==1.0 eta==1.0",
        "",
        "alpha==1.0 beta==1.0 eta==1.0",
        "alpha==1.0\nbeta==1.0\neta==1.0\n",
        {"file_blank": True},
        ("held", [], ["alpha", "beta", "eta"], [], [], []),
    ),
    (
        "emptied-file-of-one-is-held",
        "eta==1.0",
        "\n  \n",
        "eta==1.0",
        "eta==1.0\n",
        {"file_blank": True},
        ("held", [], ["eta"], [], [], []),
    ),
    (
        "emptied-file-allowed",
        "alpha==1.0 eta==1.0",
        "",
        "alpha==1.0 eta==1.0",
        "alpha==1.0\neta==1.0\n",
        {"file_blank": True, "allow": True},
        ("act", [], ["alpha", "eta"], [], [], []),
    ),
    (
        "emptied-file-from-file",
        "alpha==1.0 eta==1.0",
        "",
        "alpha==1.0 eta==1.0",
        "alpha==1.0\neta==1.0\n",
        {"file_blank": True, "force": "file"},
        ("act", [], ["alpha", "eta"], [], [], []),
    ),
    (
        "most-removed-is-held",
        "alpha==1.0 delta==1.0 eta==1.0 gamma==1.0",
        "# kept only gamma\ngamma==1.0\n",
        "alpha==1.0 delta==1.0 eta==1.0 gamma==1.0",
        "alpha==1.0\ndelta==1.0\neta==1.0\ngamma==1.0\n",
        {},
        ("held", [], ["alpha", "delta", "eta"], [], [], []),
    ),
    (
        "half-removed-acts",
        "alpha==1.0 delta==1.0 eta==1.0 gamma==1.0",
        "eta==1.0\ngamma==1.0\n",
        "alpha==1.0 delta==1.0 eta==1.0 gamma==1.0",
        "alpha==1.0\ndelta==1.0\neta==1.0\ngamma==1.0\n",
        {},
        ("act", [], ["alpha", "delta"], [], [], []),
    ),
    (
        "only-line-removed-acts",
        "eta==1.0",
        "# nothing needed\n",
        "eta==1.0",
        "eta==1.0\n",
        {},
        ("act", [], ["eta"], [], [], []),
    ),
    (
        "removed-but-required-stays",
        "alpha==1.0 beta==1.0",
        "beta==1.0\n",
        "alpha==1.0 beta==1.0",
        "alpha==1.0\nbeta==1.0\n",
        {},
        ("act", [], [], [], [], []),
    ),
    (
        "removed-with-its-user-both-go",
        "alpha==1.0 beta==1.0 eta==1.0",
        "eta==1.0\n",
        "alpha==1.0 beta==1.0 eta==1.0",
        "alpha==1.0\nbeta==1.0\neta==1.0\n",
        {"allow": True},
        ("act", [], ["alpha", "beta"], [], [], []),
    ),
    (
        "installed-package-already-named",
        "alpha==1.0 eta==1.0",
        "alpha==1.0\neta==2.0\n",
        "alpha==1.0",
        "alpha==1.0\neta==2.0\n",
        {},
        ("act", [], [], [], [], ["eta==1.0"]),
    ),
]


@pytest.mark.parametrize(
    ("now", "file", "snap_env", "snap_file", "extra", "expected"),
    [case[1:] for case in THREE_WAY],
    ids=[c[0] for c in THREE_WAY],
)
def test_three_way(
    now: str,
    file: str,
    snap_env: str,
    snap_file: str,
    extra: dict[str, object],
    expected: tuple[object, ...],
) -> None:
    assert summary(decide(inputs(now, file, snap_env, snap_file, **extra))) == expected


def test_a_removed_line_stays_installed_while_required_and_says_by_whom() -> None:
    plan = decide(
        inputs(
            "alpha==1.0 beta==1.0", "beta==1.0\n", "alpha==1.0 beta==1.0", "alpha==1.0\nbeta==1.0\n"
        )
    )
    assert plan.kept == (Kept("alpha", ("beta",)),) and not plan.touches_env


def test_held_message_says_what_would_go_and_both_commands() -> None:
    plan = decide(
        inputs(
            "alpha==1.0 eta==1.0",
            "",
            "alpha==1.0 eta==1.0",
            "alpha==1.0\neta==1.0\n",
            file_blank=True,
        )
    )
    assert plan.message is not None
    assert "alpha" in plan.message and "eta" in plan.message
    assert "venvsyncd allow" in plan.message and "venvsyncd undo" in plan.message


def test_first_sync_from_an_emptied_file_is_held() -> None:
    plan = decide(inputs("alpha==1.0 eta==1.0", "", initial="file", file_blank=True))
    assert plan.state == "held" and plan.uninstall == ("alpha", "eta")


def test_conflict_message_names_package_and_commands() -> None:
    plan = decide(inputs("alpha==1.1", "alpha==2.0\n", "alpha==1.0", "alpha==1.0\n"))
    assert plan.conflicts == ("alpha",)
    assert plan.message is not None
    assert (
        "alpha" in plan.message and "--from file" in plan.message and "--from env" in plan.message
    )


def test_drift_message_names_both_commands() -> None:
    plan = decide(inputs("alpha==1.0 gamma==1.0", "alpha\n"))
    assert (
        plan.message is not None and "--from env" in plan.message and "--from file" in plan.message
    )


def test_deleted_file_with_snapshot_is_error_and_uninstalls_nothing() -> None:
    plan = decide(inputs("alpha==1.0", None, "alpha==1.0", "alpha==1.0\n"))
    assert plan.state == "error" and not plan.touches_env


def test_missing_file_without_snapshot_is_created() -> None:
    plan = decide(inputs("alpha==1.0", None))
    assert plan.create_file and [d.name for d in plan.edit.added] == ["alpha"]


def test_env_delta() -> None:
    delta = env_delta(env("alpha==1.0 beta==1.0"), env("alpha==2.0 gamma==1.0"))
    assert delta == EnvDelta(
        (D("gamma", "1.0"),), ("beta",), (D("alpha", "2.0"),), previous=(D("alpha", "1.0"),)
    )
