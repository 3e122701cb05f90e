"""The editor in hash mode: moved and new pins get their release's hashes in the file's own
layout, a removed pin takes its hashes and its `# via` line (requirements/hashed.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.edit import EnvDelta, apply_preserve
from venvsyncd.requirements.file import parse_requirements
from venvsyncd.requirements.hashed import DEFAULT_SEPARATOR, separator

SOURCE = Path("/project/requirements.txt")
ENV = {"python_version": "3.11", "python_full_version": "3.11.9", "sys_platform": "linux"}
A, B, C = ("sha256:" + ch * 64 for ch in "abc")
NEW = {"alpha": (B, C), "beta": (C,)}  # what the index says of the releases the delta has


def dist(raw_name: str, version: str) -> FrozenDist:
    return FrozenDist(canonicalize_name(raw_name), raw_name, version, (f"{raw_name}=={version}",))


def edit(before: str, delta: EnvDelta) -> str:
    req = parse_requirements(before.encode(), SOURCE)
    return apply_preserve(req, delta, ENV, NEW).to_bytes().decode()


MOVED = EnvDelta(changed=(dist("alpha", "2.0"),))
ADDED = EnvDelta(added=(dist("beta", "1.0"),))
REMOVED = EnvDelta(removed=("alpha",))

CASES: list[tuple[str, str, EnvDelta, str]] = [
    ("pip-compile", f"alpha==1.0 \\\n    --hash={A}\n    # via x\n", MOVED,
     f"alpha==2.0 \\\n    --hash={B} \\\n    --hash={C}\n    # via x\n"),
    ("two hashes", f"alpha==1.0 \\\n    --hash={A} \\\n    --hash={A}\n", MOVED,
     f"alpha==2.0 \\\n    --hash={B} \\\n    --hash={C}\n"),
    ("inline", f"alpha==1.0 --hash={A}\n", MOVED, f"alpha==2.0 --hash={B} --hash={C}\n"),
    ("two spaces", f"alpha==1.0  \\\n  --hash={A}\n", MOVED,
     f"alpha==2.0  \\\n  --hash={B}  \\\n  --hash={C}\n"),
    ("crlf", f"alpha==1.0 \\\r\n    --hash={A}\r\n", MOVED,
     f"alpha==2.0 \\\r\n    --hash={B} \\\r\n    --hash={C}\r\n"),
    ("marker", f'alpha==1.0 ; python_version >= "3" \\\n    --hash={A}\n', MOVED,
     f'alpha==2.0 ; python_version >= "3" \\\n    --hash={B} \\\n    --hash={C}\n'),
    ("comment", f"alpha==1.0 \\\n    --hash={A}  # pinned\n", MOVED,
     f"alpha==2.0 \\\n    --hash={B} \\\n    --hash={C}  # pinned\n"),
    ("no final newline", f"alpha==1.0 \\\n    --hash={A}", MOVED,
     f"alpha==2.0 \\\n    --hash={B} \\\n    --hash={C}"),
    ("option after", f"alpha==1.0 --hash={A} --config-settings=k=v\n", MOVED,
     f"alpha==2.0 --hash={B} --hash={C} --config-settings=k=v\n"),
    # older pip-compile: the via note is the last line of the pin's continuation
    ("via in the line", f"alpha==1.0 \\\n    --hash={A} \\\n    # via x\n", MOVED,
     f"alpha==2.0 \\\n    --hash={B} \\\n    --hash={C} \\\n    # via x\n"),
    ("satisfied", f"alpha==2.0 \\\n    --hash={A}\n", MOVED, f"alpha==2.0 \\\n    --hash={A}\n"),
    ("a line without hashes gets them", f"alpha==1.0  # mine\nzeta==1 --hash={A}\n", MOVED,
     f"alpha==2.0 --hash={B} --hash={C}  # mine\nzeta==1 --hash={A}\n"),
    ("new, sorted", f"alpha==1.0 \\\n    --hash={A}\n    # via x\ngamma==1 \\\n    --hash={A}\n",
     ADDED, f"alpha==1.0 \\\n    --hash={A}\n    # via x\nbeta==1.0 \\\n    --hash={C}\n"
     f"gamma==1 \\\n    --hash={A}\n"),
    ("new, inline", f"alpha==1.0 --hash={A}\n", ADDED,
     f"alpha==1.0 --hash={A}\nbeta==1.0 --hash={C}\n"),
    ("removed with via",
     f"alpha==1.0 \\\n    --hash={A}\n    # via\n    #   x\nzeta==1 --hash={A}\n",
     REMOVED, f"zeta==1 --hash={A}\n"),
    ("removed, via in line",
     f"alpha==1.0 \\\n    --hash={A} \\\n    # via x\nzeta==1 --hash={A}\n",
     REMOVED, f"zeta==1 --hash={A}\n"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "delta", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hash_mode_edits(before: str, delta: EnvDelta, after: str) -> None:
    assert edit(before, delta) == after
    edited = parse_requirements(after.encode(), SOURCE)
    assert not edited.problems()


def test_the_separator_of_a_file_without_a_hashed_line_is_pip_compiles() -> None:
    assert separator(parse_requirements(b"alpha==1\n", SOURCE)) == DEFAULT_SEPARATOR
    crlf = separator(parse_requirements(b"alpha==1\r\n", SOURCE))
    assert crlf == DEFAULT_SEPARATOR.replace("\n", "\r\n")


def test_a_release_without_known_hashes_is_refused_by_name() -> None:
    req = parse_requirements(f"alpha==1.0 --hash={A}\n".encode(), SOURCE)
    with pytest.raises(ProjectError) as info:
        apply_preserve(req, EnvDelta(added=(dist("Omega", "3.0"),)), ENV, NEW)
    assert "Omega 3.0" in info.value.message
    assert str(SOURCE) in info.value.message
