"""The requirements-file model: every line form pip accepts, byte-exact round trips, includes."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from venvsyncd.errors import ProjectError
from venvsyncd.requirements.file import (
    Include,
    LineKind,
    ReqLine,
    RequirementsFile,
    load_requirements,
    parse_requirements,
)

SOURCE = Path("/project/requirements.txt")
CORPUS = Path(__file__).parents[1] / "corpus"
CORPUS_FILES = sorted(CORPUS.glob("*.txt"))
BOM = codecs.BOM_UTF8


def parse(text: str | bytes) -> RequirementsFile:
    return parse_requirements(text.encode() if isinstance(text, str) else text, SOURCE)


def one(text: str) -> ReqLine:
    lines = parse(text).lines
    assert len(lines) == 1, lines
    return lines[0]


def fields(line: ReqLine) -> dict[str, Any]:
    """The parsed meaning of a line, as plain values for table comparison."""
    return {
        "kind": line.kind.value,
        "name": line.name,
        "raw_name": line.raw_name,
        "extras": sorted(line.extras),
        "specifier": str(line.specifier),
        "marker": None if line.marker is None else str(line.marker),
        "url": line.url,
        "editable": line.editable,
        "hashes": list(line.hashes),
        "comment": line.comment,
    }


def req(name: str | None, raw_name: str | None = None, **given: Any) -> dict[str, Any]:
    """Expected fields of a requirement line; unnamed fields take their empty values."""
    expected: dict[str, Any] = {
        "kind": "requirement",
        "name": name,
        "raw_name": raw_name if raw_name is not None else name,
        "extras": [],
        "specifier": "",
        "marker": None,
        "url": None,
        "editable": False,
        "hashes": [],
        "comment": None,
    }
    expected.update(given)
    return expected


# --- requirement lines -----------------------------------------------------------------------

REQUIREMENT_LINES: list[tuple[str, dict[str, Any]]] = [
    ("alpha", req("alpha")),
    ("alpha==1.0", req("alpha", specifier="==1.0")),
    ("alpha===1.0", req("alpha", specifier="===1.0")),
    ("alpha~=1.0", req("alpha", specifier="~=1.0")),
    ("alpha!=1.1", req("alpha", specifier="!=1.1")),
    ("alpha (>=1.0, <2.0)", req("alpha", specifier="<2.0,>=1.0")),
    ("  alpha == 1.1  ", req("alpha", specifier="==1.1")),
    ("\tbeta\t>=1.0", req("beta", specifier=">=1.0")),
    (
        "Foo_Bar [x] >= 1.0 , <2",
        req("foo-bar", "Foo_Bar", extras=["x"], specifier="<2,>=1.0"),
    ),
    ("Foo_Bar[x,y]>=1.0", req("foo-bar", "Foo_Bar", extras=["x", "y"], specifier=">=1.0")),
    ("zeta.dots==1.0", req("zeta-dots", "zeta.dots", specifier="==1.0")),
    ("ZETA_DOTS", req("zeta-dots", "ZETA_DOTS")),
    (
        'alpha ; python_version < "3.12"',
        req("alpha", marker='python_version < "3.12"'),
    ),
    (
        "gamma[fast]>=1;python_version<'3.12' # why",
        req(
            "gamma",
            extras=["fast"],
            specifier=">=1",
            marker='python_version < "3.12"',
            comment="# why",
        ),
    ),
    ("alpha==1.0 # pinned", req("alpha", specifier="==1.0", comment="# pinned")),
    ("alpha==1.0\t#tab", req("alpha", specifier="==1.0", comment="#tab")),
    ("alpha==1.0  # a # b", req("alpha", specifier="==1.0", comment="# a # b")),
    (
        "foo @ https://x.invalid/foo-1.0.tar.gz",
        req("foo", url="https://x.invalid/foo-1.0.tar.gz"),
    ),
    (
        'foo[x] @ file:///w/foo ; python_version >= "3"',
        req("foo", extras=["x"], url="file:///w/foo", marker='python_version >= "3"'),
    ),
    ("./pkg", req(None, url="./pkg")),
    ("./pkg[fast]", req(None, url="./pkg", extras=["fast"])),
    ("../up/pkg", req(None, url="../up/pkg")),
    ("/abs/pkg", req(None, url="/abs/pkg")),
    ("alpha-1.0-py3-none-any.whl", req("alpha", url="alpha-1.0-py3-none-any.whl")),
    ("./dist/foo-1.0.tar.gz", req(None, url="./dist/foo-1.0.tar.gz")),
    (
        "https://x.invalid/w/Foo_Bar-1.0-py3-none-any.whl",
        req("foo-bar", "Foo_Bar", url="https://x.invalid/w/Foo_Bar-1.0-py3-none-any.whl"),
    ),
    ("https://x.invalid/w/foo-1.0.tar.gz", req(None, url="https://x.invalid/w/foo-1.0.tar.gz")),
    (
        "git+https://h.invalid/r.git#egg=zeta.dots",
        req("zeta-dots", "zeta.dots", url="git+https://h.invalid/r.git#egg=zeta.dots"),
    ),
    (
        "git+https://h.invalid/r.git@v1; python_version >= '3'",
        req(None, url="git+https://h.invalid/r.git@v1", marker='python_version >= "3"'),
    ),
    (
        "alpha==1.0 --hash=sha256:aa --hash sha256:bb",
        req("alpha", specifier="==1.0", hashes=["sha256:aa", "sha256:bb"]),
    ),
    (
        "alpha @ ${BASE}/alpha-1.0-py3-none-any.whl",
        req("alpha", url="${BASE}/alpha-1.0-py3-none-any.whl"),
    ),
    ("-e ./pkg", req(None, url="./pkg", editable=True)),
    ("--editable=./pkg[fast]", req(None, url="./pkg", extras=["fast"], editable=True)),
    ("-e '/path with space/pkg'", req(None, url="/path with space/pkg", editable=True)),
    (
        "-e git+https://h.invalid/r.git@main#egg=gamma",
        req("gamma", url="git+https://h.invalid/r.git@main#egg=gamma", editable=True),
    ),
    (
        "-e git://h.invalid/r.git#egg=gamma",
        req("gamma", url="git+git://h.invalid/r.git#egg=gamma", editable=True),
    ),
    (
        "-e 'gamma[fast] @ file:///w/gamma'",
        req("gamma", extras=["fast"], url="file:///w/gamma", editable=True),
    ),
    # unquoted, pip's shlex split leaves `-e gamma[fast]`: a path named gamma
    ("-e gamma[fast] @ file:///w/gamma", req(None, url="gamma", extras=["fast"], editable=True)),
    (
        "-e file:///w/pkg#egg=Foo_Bar",
        req("foo-bar", "Foo_Bar", url="file:///w/pkg#egg=Foo_Bar", editable=True),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), REQUIREMENT_LINES, ids=[t for t, _ in REQUIREMENT_LINES]
)
def test_requirement_line(text: str, expected: dict[str, Any]) -> None:
    line = one(text + "\n")
    assert fields(line) == expected
    assert line.lineno == 1
    assert line.raw == text + "\n"
    assert line.error is None


# --- blank, comment, option and unparsable lines ----------------------------------------------

OTHER_LINES: list[tuple[str, LineKind, str | None]] = [
    ("", LineKind.BLANK, None),
    ("   \t ", LineKind.BLANK, None),
    ("# a comment", LineKind.COMMENT, "# a comment"),
    ("   # indented", LineKind.COMMENT, "# indented"),
    ("#alpha==1.0", LineKind.COMMENT, "#alpha==1.0"),
    ("## double", LineKind.COMMENT, "## double"),
]


@pytest.mark.parametrize(("text", "kind", "comment"), OTHER_LINES)
def test_blank_and_comment_lines(text: str, kind: LineKind, comment: str | None) -> None:
    line = one(text + "\n")
    assert (line.kind, line.comment, line.name, line.text) == (kind, comment, None, "")


OPTION_LINES: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("-r base.txt", [("--requirement", "base.txt")]),
    ("--requirement base.txt", [("--requirement", "base.txt")]),
    ("--requirement=base.txt", [("--requirement", "base.txt")]),
    ("-rbase.txt", [("--requirement", "base.txt")]),
    ("-c constraints.txt", [("--constraint", "constraints.txt")]),
    ("--constraint=constraints.txt", [("--constraint", "constraints.txt")]),
    ("-i https://pypi.invalid/simple", [("--index-url", "https://pypi.invalid/simple")]),
    ("--index-url=https://pypi.invalid/simple", [("--index-url", "https://pypi.invalid/simple")]),
    ("--extra-index-url https://e.invalid/s", [("--extra-index-url", "https://e.invalid/s")]),
    ("--extra-index https://e.invalid/s", [("--extra-index-url", "https://e.invalid/s")]),
    ("--no-index", [("--no-index", None)]),
    ("-f ./wheels", [("--find-links", "./wheels")]),
    ("--find-links=./wheels", [("--find-links", "./wheels")]),
    ("--pre", [("--pre", None)]),
    ("--trusted-host h.invalid", [("--trusted-host", "h.invalid")]),
    ("--no-binary :all:", [("--no-binary", ":all:")]),
    ("--only-binary=:all:", [("--only-binary", ":all:")]),
    ("--prefer-binary", [("--prefer-binary", None)]),
    ("--require-hashes", [("--require-hashes", None)]),
    ("--use-feature=fast-deps", [("--use-feature", "fast-deps")]),
    ("--pre --prefer-binary", [("--pre", None), ("--prefer-binary", None)]),
    ("--extra-index-url ${PRIVATE_INDEX}", [("--extra-index-url", "${PRIVATE_INDEX}")]),
    ("-r base.txt  # shared pins", [("--requirement", "base.txt")]),
]


@pytest.mark.parametrize(("text", "options"), OPTION_LINES)
def test_option_line(text: str, options: list[tuple[str, str | None]]) -> None:
    line = one(text + "\n")
    assert line.kind is LineKind.OPTION
    assert list(line.options) == options
    assert line.name is None


UNPARSABLE_LINES = [
    "alpha=1.0",
    "bad line here",
    "alpha#nospace",
    "--no-such-option",
    "-i",
    "alpha==1.0 --hash=md5:00",
    "alpha==1.0 --hash=nocolon",
    "-e git+https://h.invalid/r.git",
    "-e https://h.invalid/x.tar.gz",
    "-e ''",
    "https://x.invalid/.whlx-1.0-py3-none-any.whl",
    "alpha ; python_version <<< '3'",
    "--requirement 'unclosed",
    "https://x.invalid/not_a-valid-wheel.whl",
]


@pytest.mark.parametrize("text", UNPARSABLE_LINES)
def test_unparsable_line_is_kept_and_reported(text: str) -> None:
    parsed = parse(f"alpha\n{text}\nbeta\n")
    assert parsed.lines[1].kind is LineKind.UNPARSABLE
    assert parsed.lines[1].raw == text + "\n"
    assert [number for number, _ in parsed.problems()] == [2]
    assert text.split()[0] in parsed.problems()[0][1]
    assert parsed.to_bytes() == f"alpha\n{text}\nbeta\n".encode()


# --- physical and logical lines --------------------------------------------------------------

R, B, C = LineKind.REQUIREMENT, LineKind.BLANK, LineKind.COMMENT
LOGICAL_LINES: list[tuple[str, list[tuple[int, LineKind, str]]]] = [
    ("alpha \\\n  ==1.0\nbeta\n", [(1, R, "alpha   ==1.0"), (3, R, "beta")]),
    ("alpha==1.0 \\\r\n  --hash=sha256:aa\r\n", [(1, R, "alpha==1.0   --hash=sha256:aa")]),
    ("alpha \\\n# ends it\nbeta\n", [(1, R, "alpha"), (3, R, "beta")]),
    ("alpha \\\n\nbeta\n", [(1, R, "alpha"), (3, R, "beta")]),
    ("# comment \\\nbeta\n", [(1, C, ""), (2, R, "beta")]),
    ("alpha # c \\\nbeta\n", [(1, R, "alpha")]),
    ("gamma\\\n[fast]\\\n==1.0\n", [(1, R, "gamma[fast]==1.0")]),
    ("alpha\nbeta \\", [(1, R, "alpha"), (2, R, "beta")]),
    ("a\rb\r\nc\n", [(1, R, "a"), (2, R, "b"), (3, R, "c")]),
    ("\n\nalpha", [(1, B, ""), (2, B, ""), (3, R, "alpha")]),
    ("a\x0cb\x85c\u2028d\n", [(1, R, "a"), (2, R, "b"), (3, R, "c"), (4, R, "d")]),
]


@pytest.mark.parametrize(("text", "expected"), LOGICAL_LINES)
def test_logical_lines_follow_pip(text: str, expected: list[tuple[int, LineKind, str]]) -> None:
    parsed = parse(text)
    assert [(line.lineno, line.kind, line.text) for line in parsed.lines] == expected
    assert parsed.to_bytes() == text.encode()


def test_continuation_requirement_fields() -> None:
    line = one("alpha==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n")
    assert (line.name, str(line.specifier)) == ("alpha", "==1.0")
    assert line.hashes == ("sha256:aa", "sha256:bb")
    assert line.physical == [
        "alpha==1.0 \\\n",
        "    --hash=sha256:aa \\\n",
        "    --hash=sha256:bb\n",
    ]


# --- whole-file properties -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "newline", "bom"),
    [
        (b"alpha\nbeta\r\n", "\n", False),
        (b"alpha\r\nbeta\n", "\r\n", False),
        (b"alpha\rbeta\n", "\r", False),
        (BOM + b"alpha\r\n", "\r\n", True),
        (b"alpha", "\n", False),
        (b"", "\n", False),
        (BOM, "\n", True),
    ],
)
def test_newline_and_bom(data: bytes, newline: str, bom: bool) -> None:
    parsed = parse(data)
    assert (parsed.newline, parsed.bom, parsed.to_bytes()) == (newline, bom, data)


def test_file_helpers() -> None:
    parsed = parse(
        "-r base.txt\n--constraint=../c.txt\n-r https://x.invalid/r.txt\n"
        "--index-url https://i.invalid/simple\n--extra-index-url=https://e.invalid/s\n"
        "-f ./wheels\n--find-links /abs/wheels\n--pre\n--trusted-host h.invalid\n--no-index\n"
        "# comment\nbeta\nalpha==1.0\n-e ./pkg\n"
    )
    assert parsed.includes() == [
        Include("base.txt", Path("/project/base.txt"), False, 1),
        Include("../c.txt", Path("/c.txt"), True, 2),
        Include("https://x.invalid/r.txt", None, False, 3),
    ]
    assert parsed.options() == [
        "--index-url", "https://i.invalid/simple",
        "--extra-index-url", "https://e.invalid/s",
        "--find-links", "/project/wheels",
        "--find-links", "/abs/wheels",
        "--pre",
        "--trusted-host", "h.invalid",
        "--no-index",
    ]  # fmt: skip
    assert [line.name for line in parsed.requirements()] == ["beta", "alpha", None]
    assert not parsed.has_hashes()
    assert not parsed.sorted_requirements()
    assert parsed.problems() == []


@pytest.mark.parametrize(
    ("text", "in_order"),
    [
        ("alpha\nbeta\ngamma\n", True),
        ("# x\nAlpha\n\n-r x.txt\nbeta\n./pkg\nZETA.dots\n", True),
        ("foo_bar\nFoo-Bar==1\n", True),
        ("beta\nalpha\n", False),
        ("", True),
        ("# only comments\n", True),
    ],
)
def test_sorted_requirements(text: str, in_order: bool) -> None:
    assert parse(text).sorted_requirements() is in_order


def test_has_hashes() -> None:
    assert parse("alpha==1.0 \\\n  --hash=sha256:aa\n").has_hashes()
    assert not parse("alpha==1.0  # --hash=sha256:aa\n").has_hashes()


def test_location_of_url_and_path_lines() -> None:
    parsed = parse("./pkg\n-e ../other\nfoo @ https://x.invalid/f.whl#sha256=00\nalpha\n")
    assert [parsed.location(line) for line in parsed.lines] == [
        "file:///project/pkg",
        "file:///other",
        "https://x.invalid/f.whl",
        None,
    ]


@pytest.mark.parametrize(
    ("data", "offset", "lineno"),
    [
        (b"alpha\nbeta\xff\n", 10, 2),
        (BOM + b"alpha\r\n\xc3(\n", 10, 2),
        (b"\xfe\xff\xd8\x00", 2, 1),  # a lone surrogate after a UTF-16 BE BOM
    ],
)
def test_invalid_utf8_is_a_project_error(data: bytes, offset: int, lineno: int) -> None:
    with pytest.raises(ProjectError) as info:
        parse_requirements(data, SOURCE)
    assert str(SOURCE) in info.value.message
    assert f"byte {offset} (line {lineno})" in info.value.message
    assert info.value.hint


# --- byte-exact round trips ------------------------------------------------------------------

FRAGMENTS = [
    "", "alpha", "alpha==1.0", "Foo_Bar [x] >= 1.0 , <2", "gamma[fast]~=1.0",
    'eta ; python_version < "3.12"', "zeta.dots===1.0", "beta!=1.1", "# comment",
    "alpha  # inline", "-r base.txt", "--requirement=other.txt", "-c constraints.txt",
    "-i https://i.invalid/simple", "--extra-index-url=https://e.invalid/s", "--no-index",
    "-f ./wheels", "--pre", "--trusted-host h", "--prefer-binary", "--only-binary=:all:",
    "-e ./pkg", "--editable=git+https://h.invalid/r#egg=gamma", "./pkg[fast]",
    "https://x.invalid/alpha-1.0-py3-none-any.whl", "foo @ file:///w/foo",
    "alpha==1.0 --hash=sha256:abcd", "${VAR}", "bad line here", "Abhängigkeit # ü",
]  # fmt: skip


@st.composite
def requirements_files(draw: st.DrawFn) -> bytes:
    """Realistic files: fragments with random spacing, endings, continuations, BOM."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        text = draw(st.sampled_from(FRAGMENTS))
        text = draw(st.sampled_from(["", " ", "\t", "   "])) + text
        text += draw(st.sampled_from(["", " ", "\t "]))
        if " " in text.strip() and draw(st.booleans()):
            cut = text.index(" ", len(text) - len(text.lstrip()))
            text = text[:cut] + " \\" + draw(st.sampled_from(["\n", "\r\n"])) + text[cut:]
        lines.append(text + draw(st.sampled_from(["\n", "\r\n", "\r"])))
    text = "".join(lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return (BOM if draw(st.booleans()) else b"") + text.encode()


@given(requirements_files())
@settings(max_examples=400)
def test_round_trip_realistic(data: bytes) -> None:
    parsed = parse_requirements(data, SOURCE)
    assert parsed.to_bytes() == data
    numbers = [line.lineno for line in parsed.lines]
    assert numbers == sorted(set(numbers))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@given(st.binary(max_size=300).filter(_is_utf8))
@settings(max_examples=400)
def test_round_trip_any_utf8_bytes(data: bytes) -> None:
    assert parse_requirements(data, SOURCE).to_bytes() == data


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
@settings(max_examples=400)
def test_round_trip_any_text(text: str) -> None:
    data = text.encode("utf-8")
    parsed = parse_requirements(data, SOURCE)
    assert parsed.to_bytes() == data
    assert "".join(line.raw for line in parsed.lines) == text.removeprefix("\ufeff")


# --- loading with includes -------------------------------------------------------------------


def test_load_follows_includes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "requirements.txt").write_text("-r sub/base.txt\n-c c.txt\nalpha\n")
    (tmp_path / "sub" / "base.txt").write_text("-r ../common.txt\nbeta\n")
    (tmp_path / "common.txt").write_text("gamma\n")
    (tmp_path / "c.txt").write_text("-r common.txt\nalpha==1.0\n")
    main, included = load_requirements(tmp_path / "requirements.txt")
    assert [line.name for line in main.requirements()] == ["alpha"]
    assert [(f.source.relative_to(tmp_path).as_posix(), f.constraint) for f in included] == [
        ("sub/base.txt", False),
        ("common.txt", False),
        ("c.txt", True),
    ]


def test_load_reports_missing_include_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("alpha\n\n-r missing.txt\n")
    with pytest.raises(ProjectError) as info:
        load_requirements(tmp_path / "requirements.txt")
    assert f"{tmp_path / 'requirements.txt'} line 3" in info.value.message
    assert "missing.txt" in info.value.message
    assert info.value.hint


def test_load_refuses_include_cycles(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("-r b.txt\nalpha\n")
    (tmp_path / "b.txt").write_text("-r a.txt\nbeta\n")
    with pytest.raises(ProjectError, match="again"):
        load_requirements(tmp_path / "a.txt")


def test_load_refuses_url_includes(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r https://x.invalid/r.txt\n")
    with pytest.raises(ProjectError, match="URL"):
        load_requirements(tmp_path / "requirements.txt")


def test_load_reports_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cannot read requirements file"):
        load_requirements(tmp_path / "nope.txt")


# --- the corpus ------------------------------------------------------------------------------

CORPUS_PACKAGES = {
    "alpha": ["1.0", "1.1", "2.0"], "beta": ["1.0"], "gamma": ["1.0"], "delta": ["1.0"],
    "epsilon": ["1.0"], "eta": ["1.0"], "foo-bar": ["1.0"], "zeta-dots": ["1.0"],
}  # fmt: skip


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS_FILES) >= 25
    assert all(path.name[:2].isdigit() and path.name[2] == "-" for path in CORPUS_FILES)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_round_trips_without_problems(path: Path) -> None:
    data = path.read_bytes()
    main, included = load_requirements(path)
    assert main.to_bytes() == data
    for parsed in (main, *included):
        assert parsed.problems() == []
        for line in parsed.requirements():
            assert line.name in CORPUS_PACKAGES
            if line.applies(None):
                versions = CORPUS_PACKAGES[line.name]
                assert any(line.specifier.contains(v, prereleases=True) for v in versions)


@pytest.mark.slow
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_installs_with_real_pip(path: Path, wheelhouse: Path, tmp_path: Path) -> None:
    """Real pip resolves every corpus file offline, and installs what our model asks for."""
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--no-index", "--find-links", str(wheelhouse), "--report", str(report), "-r", str(path)],
        check=True, cwd=tmp_path, capture_output=True,
    )  # fmt: skip
    installed = {
        canonicalize_name(item["metadata"]["name"])
        for item in json.loads(report.read_text())["install"]
    }
    main, included = load_requirements(path)
    asked = {
        line.name
        for parsed in (main, *included)
        if not parsed.constraint
        for line in parsed.requirements()
        if line.applies(None)
    }
    assert asked <= installed
