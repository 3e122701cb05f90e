"""224 real requirements files (../shared/corpus/realworld, read in place, never copied into
the repository): each read back byte for byte, read as pip 26.3 reads it (its oracle.json,
line by line and whole), and edited with only the lines an edit must touch changed.

The oracle records, for each line pip acts on, what pip made of it: a requirement (name,
specifier, extras, marker, editable, URL, hashes, options), an option line (its options) or
an error. venvsyncd's model is mapped to the same terms (`pip_view`); pip's refusals are
`problems()` (what the text decides) and `path_problems()` (what the disk decides, with the
files laid out as their projects have them: SOURCES.tsv `tree_path`).
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import posixpath
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name, parse_wheel_filename

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.edit import EnvDelta, apply_preserve
from venvsyncd.requirements.file import (
    LineKind,
    ReqLine,
    RequirementsFile,
    load_requirements,
    parse_requirements,
)
from venvsyncd.requirements.line import is_url

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "realworld"
ORACLE = json.loads((CORPUS / "oracle.json").read_text()) if CORPUS.is_dir() else {"files": {}}
FILES = sorted(ORACLE["files"])
# What the index would say of a release, for the hash-pinned files (requirements/hashed.py)
HASHES = ("sha256:" + "0" * 64, "sha256:" + "f" * 64)
ENV = {
    "implementation_name": "cpython", "implementation_version": "3.12.3", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython",
    "platform_release": "6.8.0", "platform_system": "Linux", "platform_version": "#1 SMP",
    "python_full_version": "3.12.3", "python_version": "3.12", "sys_platform": "linux",
}  # fmt: skip
NEW = "venvsyncd-corpus-probe"
MOVED_TO = "999.0"
# pip's option dests for venvsyncd's flags (`opts_of` in make_oracle.py)
DESTS = {
    "--requirement": "requirements", "--constraint": "constraints", "--editable": "editables",
    "--extra-index-url": "extra_index_urls", "--find-links": "find_links",
    "--trusted-host": "trusted_hosts", "--use-feature": "features_enabled",
}  # fmt: skip
ANNOTATION = re.compile(r"[ \t]+#")
SWITCHES = {"--pre", "--no-index", "--prefer-binary", "--require-hashes", "--no-require-hashes"}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def tree_paths() -> dict[str, str]:
    with open(CORPUS / "SOURCES.tsv", newline="") as sources:
        return {row["file"]: row["tree_path"] for row in csv.DictReader(sources, delimiter="\t")}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus laid out as its projects have it (a scratch copy outside the repository),
    with the local project folders its lines name: those the oracle made, and those pip read
    as a local folder (`file:<ROOT>/...`), each a Python project as in the real checkout."""
    root = tmp_path_factory.mktemp("tree")
    for name, tree_path in tree_paths().items():
        (root / tree_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / name, root / tree_path)
    folders = [root / made for made in ORACLE["made_dirs"]]
    for record in ORACLE["files"].values():
        project_root = root / record["tree_path"].split("/")[0]
        for line in record["lines"]:
            url = line.get("url") or ""
            if url.startswith("file:<ROOT>/") and (line["editable"] or line["name"] is None):
                folders.append(project_root / url.removeprefix("file:<ROOT>/"))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pyproject.toml").write_text("[project]\n")
    return root


def test_the_corpus_is_all_there() -> None:
    assert len(FILES) == 224
    assert ORACLE["pip_version"] == "26.3"
    assert set(tree_paths()) == set(FILES)


# --- 1. byte for byte --------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_round_trips_byte_for_byte(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    parsed = parse_requirements(data, CORPUS / name)
    assert parsed.to_bytes() == data
    assert (parsed.encoding.bom.hex() or None) == ORACLE["files"][name]["bom"]


# --- 2. as pip reads it --------------------------------------------------------------------------


def pip_options(line: ReqLine) -> dict[str, Any]:
    """A line's options as pip's option values that differ from the defaults."""
    found: dict[str, Any] = {}
    binary: dict[str, set[str]] = {"--no-binary": set(), "--only-binary": set()}
    for flag, value in line.options:
        if flag in SWITCHES:
            found[flag.removeprefix("--").replace("-", "_")] = True
        elif flag == "--index-url":
            found["index_url"] = value
        elif flag == "--hash":
            algo, _, digest = (value or "").partition(":")
            found.setdefault("hashes", {}).setdefault(algo, []).append(digest)
        elif flag in binary:
            (other,) = set(binary) - {flag}
            format_control(value or "", binary[flag], binary[other])
            no, only = binary["--no-binary"], binary["--only-binary"]
            found["format_control"] = f"FormatControl({no!r}, {only!r})"
        else:
            found.setdefault(DESTS[flag], []).append(value)
    return found


def format_control(value: str, target: set[str], other: set[str]) -> None:
    """pip's `FormatControl.handle_mutual_excludes` (`:all:` without a later `:none:` ends it)."""
    names = value.split(",")
    while ":all:" in names:
        other.clear()
        target.clear()
        target.add(":all:")
        names = names[names.index(":all:") + 1 :]
        if ":none:" not in names:
            return
    for name in names:
        if name == ":none:":
            target.clear()
        else:
            other.discard(canonicalize_name(name))
            target.add(canonicalize_name(name))


def pip_url(req: RequirementsFile, line: ReqLine, root: Path) -> str | None:
    """The URL pip's link holds: a URL as written, a local path as `file:<ROOT>/relative`."""
    if line.url is None or (is_url(line.url) and not line.url.lower().startswith("file:")):
        return line.url
    path = line.url
    if path.lower().startswith("file:"):
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
    where = os.path.relpath(os.path.normpath(req.source.parent / path), root)
    return "file:<ROOT>/" + posixpath.normpath(where.replace(os.sep, "/"))


def pip_specifier(line: ReqLine) -> list[str]:
    """A bare wheel URL or path pip reads as `name==version` of the wheel's file name."""
    filename = (line.url or "").split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    if line.url and line.text.startswith(line.url) and filename.endswith(".whl"):
        return [f"=={parse_wheel_filename(urllib.parse.unquote(filename))[1]}"]
    return sorted(str(spec) for spec in line.specifier)


def pip_view(req: RequirementsFile, line: ReqLine, refused: set[int], root: Path) -> dict[str, Any]:
    """A line in the oracle's terms."""
    if line.lineno in refused:
        return {"lineno": line.lineno, "kind": "error"}
    seen: dict[str, Any] = {"lineno": line.lineno, "kind": line.kind.value, "text": line.text}
    seen["options"] = pip_options(line)
    if line.kind is LineKind.REQUIREMENT:
        seen |= {
            "name": line.name, "specifier": pip_specifier(line), "extras": sorted(line.extras),
            "marker": None if line.marker is None else str(line.marker),
            "editable": line.editable, "url": pip_url(req, line, root),
            "hashes": {} if line.editable else hashes(line),
        }  # fmt: skip
    return seen


def hashes(line: ReqLine) -> dict[str, list[str]]:
    """The hashes pip checks for a requirement, each algorithm's digests sorted."""
    return {algo: sorted(found) for algo, found in pip_options(line).get("hashes", {}).items()}


def oracle_view(line: dict[str, Any]) -> dict[str, Any]:
    if line["kind"] == "error":
        return {"lineno": line["lineno"], "kind": "error"}
    keys = ["lineno", "kind", "text", "options"]
    if line["kind"] == "requirement":
        keys += ["name", "specifier", "extras", "marker", "editable", "url", "hashes"]
    return {key: line[key] for key in keys}


@pytest.mark.parametrize("name", FILES)
def test_agrees_with_pip_line_by_line(name: str, tree: Path) -> None:
    record = ORACLE["files"][name]
    path = tree / record["tree_path"]
    req = parse_requirements(path.read_bytes(), path)
    refused = {number for number, _ in (*req.problems(), *req.path_problems())}
    root = tree / record["tree_path"].split("/")[0]
    acted_on = [line for line in req.lines if line.kind not in (LineKind.BLANK, LineKind.COMMENT)]
    assert [pip_view(req, line, refused, root) for line in acted_on] == [
        oracle_view(line) for line in record["lines"]
    ]


@pytest.mark.parametrize("name", FILES)
def test_agrees_with_pip_on_the_whole_file(name: str, tree: Path) -> None:
    """With its includes: refused or not, and how many requirements and constraints."""
    record = ORACLE["files"][name]
    try:
        top, includes = load_requirements(tree / record["tree_path"])
    except ProjectError:
        assert not record["full"]["ok"]
        return
    files = (top, *includes)
    refused = any(f.problems() or f.path_problems() for f in files)
    assert (not refused) == record["full"]["ok"]
    if refused:
        return
    counts = {"requirements": 0, "constraints": 0}
    count_as_pip(top, {(os.path.realpath(f.source), f.constraint): f for f in files}, counts)
    assert {"ok": True, **counts} == record["full"]


def count_as_pip(
    req: RequirementsFile, read: dict[tuple[str, bool], RequirementsFile], counts: dict[str, int]
) -> None:
    """pip reads a file again each time it is included (venvsyncd keeps one reading)."""
    counts["constraints" if req.constraint else "requirements"] += len(req.requirements())
    for include in req.includes():
        assert include.path is not None
        count_as_pip(read[(os.path.realpath(include.path), include.constraint)], read, counts)


# --- 3. edited: an added, a moved and a removed requirement; no other line touched -------------


def candidates(req: RequirementsFile) -> list[ReqLine]:
    """Named index requirements that apply on ENV, the only such line of their name."""
    applying = [line for line in req.requirements() if line.applies(ENV) and line.error is None]
    names = [line.name for line in applying]
    return [
        line
        for line in applying
        if line.name is not None and line.url is None and not line.editable
        and names.count(line.name) == 1
    ]  # fmt: skip


def dist(raw_name: str, version: str) -> FrozenDist:
    return FrozenDist(canonicalize_name(raw_name), raw_name, version, (f"{raw_name}=={version}",))


def physical_indices(line: ReqLine | None) -> set[int]:
    """Where a logical line's physical lines are in the file, counted from 0."""
    return (
        set() if line is None else set(range(line.lineno - 1, line.lineno - 1 + len(line.physical)))
    )


def with_annotation(old: list[str], line: ReqLine | None) -> set[int]:
    """A requirement's physical lines and the indented comment lines right under it (the
    `# via` block pip-compile writes, which goes with the pin)."""
    found = physical_indices(line)
    while found and max(found) + 1 < len(old) and ANNOTATION.match(old[max(found) + 1]):
        found.add(max(found) + 1)
    return found


@pytest.mark.parametrize("name", FILES)
def test_edit_touches_only_the_lines_it_must(name: str) -> None:
    """The first named line that 999.0 moves (else the first named line) moves to 999.0, the
    last other one is uninstalled (with a single named line: in a second edit), and NEW is
    installed."""
    before = parse_requirements((CORPUS / name).read_bytes(), CORPUS / name)
    found = candidates(before)
    moved = next((c for c in found if not c.specifier.contains(MOVED_TO)), None)
    moved = moved or (found[0] if found else None)
    removed = next((c for c in reversed(found) if c is not moved), None)
    check_edit(before, moved, removed)
    if removed is None and moved is not None:
        check_edit(before, None, moved)


def check_edit(before: RequirementsFile, moved: ReqLine | None, removed: ReqLine | None) -> None:
    """Only the moved and removed lines change (and the removed pin's `# via` block), a last
    line without an ending may gain one (so that a line can follow it), NEW is added once."""
    delta = EnvDelta(
        added=(dist(NEW, "1.0"),),
        removed=(removed.name,) if removed and removed.name else (),
        changed=(dist(moved.raw_name or "", MOVED_TO),) if moved else (),
    )
    hashes = None
    if before.has_hashes():  # hash mode: the new and the moved pin get the index's hashes
        hashes = {d.name: HASHES for d in (*delta.added, *delta.changed)}
    after = apply_preserve(before, delta, ENV, hashes)
    old = before.text.removeprefix("\ufeff").splitlines(keepends=True)
    new = after.text.removeprefix("\ufeff").splitlines(keepends=True)
    changes = [
        op
        for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        if op[0] != "equal"
    ]
    touched = {i for _, i1, i2, _, _ in changes for i in range(i1, i2)}
    unended = {len(old) - 1} if old and old[-1] == old[-1].rstrip("\r\n") else set()
    assert touched <= physical_indices(moved) | with_annotation(old, removed) | unended
    written = [line for *_, j1, j2 in changes for line in new[j1:j2]]
    new_line = f"{NEW}==1.0" + (" \\" if hashes else "") + before.newline
    assert new_line in written
    assert sum(line.startswith(f"{NEW}==") for line in new) == 1
    kept = {line.name: line for line in after.requirements() if line.applies(ENV)}
    assert kept[NEW].specifier.contains("1.0")
    if hashes is not None:
        assert kept[NEW].hashes == tuple(h for h in HASHES)
    if moved is not None:
        assert kept[moved.name].specifier.contains(MOVED_TO)
        if hashes is not None:
            assert kept[moved.name].hashes == HASHES
        kept_as_is = moved.physical[0].rstrip("\r\n") in {line.rstrip("\r\n") for line in new}
        assert kept_as_is == moved.specifier.contains(MOVED_TO)
    if removed is not None:
        assert removed.name not in kept
        assert removed.lineno - 1 in touched
    assert after.encoding == before.encoding
