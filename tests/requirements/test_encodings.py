"""Encodings: UTF-8 with or without BOM, UTF-16 with BOM (PowerShell 5's `pip freeze >`), read
as pip reads them and written back in the same encoding, BOM and line endings, byte for byte.

The real files of ../shared/corpus/realworld are read where they are (skipped when absent).
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.edit import EnvDelta, apply_pip_style, apply_preserve
from venvsyncd.requirements.encoding import UTF8, Encoding, encode_kept
from venvsyncd.requirements.file import LineKind, parse_requirements, parse_text

SOURCE = Path("/project/requirements.txt")
REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "realworld"
ENV = {"python_version": "3.11", "python_full_version": "3.11.9", "sys_platform": "win32"}

UTF8_BOM = Encoding("utf-8", codecs.BOM_UTF8)
UTF16_LE = Encoding("utf-16-le", codecs.BOM_UTF16_LE)
UTF16_BE = Encoding("utf-16-be", codecs.BOM_UTF16_BE)
UTF32_LE = Encoding("utf-32-le", codecs.BOM_UTF32_LE)
STORED = {"utf-8": UTF8, "utf-8-bom": UTF8_BOM, "utf-16-le": UTF16_LE, "utf-16-be": UTF16_BE}


def stored(text: str, encoding: Encoding) -> bytes:
    """`text` as a file in `encoding` holds it: the BOM, then the encoded text."""
    return encoding.bom + text.encode(encoding.codec)


def dist(raw_name: str, version: str, *lines: str) -> FrozenDist:
    name = canonicalize_name(raw_name)
    return FrozenDist(name, raw_name, version, lines or (f"{raw_name}=={version}",))


# --- reading: what the file says, whatever it is stored in --------------------------------

FREEZE = "# pip freeze > requirements.txt, 2026-11-22\r\nalpha==1.0\r\nbeta==1.0  # web\r\n"

READ_CASES: list[tuple[str, bytes, Encoding, str]] = [
    ("utf-8-lf", stored(FREEZE.replace("\r\n", "\n"), UTF8), UTF8, "\n"),
    ("utf-8-crlf", stored(FREEZE, UTF8), UTF8, "\r\n"),
    ("utf-8-bom-lf", stored(FREEZE.replace("\r\n", "\n"), UTF8_BOM), UTF8_BOM, "\n"),
    ("utf-8-bom-crlf", stored(FREEZE, UTF8_BOM), UTF8_BOM, "\r\n"),
    ("utf-16-le-crlf", stored(FREEZE, UTF16_LE), UTF16_LE, "\r\n"),
    ("utf-16-le-lf", stored(FREEZE.replace("\r\n", "\n"), UTF16_LE), UTF16_LE, "\n"),
    ("utf-16-be-crlf", stored(FREEZE, UTF16_BE), UTF16_BE, "\r\n"),
    ("utf-16-be-lf", stored(FREEZE.replace("\r\n", "\n"), UTF16_BE), UTF16_BE, "\n"),
    ("utf-32-le-crlf", stored(FREEZE, UTF32_LE), UTF32_LE, "\r\n"),  # pip reads it too
    ("utf-16-le-no-final-newline", stored(FREEZE.rstrip(), UTF16_LE), UTF16_LE, "\r\n"),
    ("declared-cp1252", b"# -*- coding: cp1252 -*-\r\n" + stored(FREEZE, Encoding("cp1252")),
     Encoding("cp1252"), "\r\n"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "encoding", "newline"), [c[1:] for c in READ_CASES],
                         ids=[c[0] for c in READ_CASES])  # fmt: skip
def test_read_as_pip_reads_and_round_trip(data: bytes, encoding: Encoding, newline: str) -> None:
    parsed = parse_requirements(data, SOURCE)
    assert parsed.encoding == encoding
    assert (parsed.newline, parsed.bom) == (newline, bool(encoding.bom))
    assert [(line.name, str(line.specifier)) for line in parsed.requirements()] == [
        ("alpha", "==1.0"),
        ("beta", "==1.0"),
    ]
    comments = [line for line in parsed.lines if line.kind is LineKind.COMMENT]
    assert [line.raw.rstrip("\r\n") for line in comments][-1] == (
        "# pip freeze > requirements.txt, 2026-11-22"
    )
    assert parsed.to_bytes() == data
    body = data[len(encoding.bom) :].decode(encoding.codec)
    assert parsed.text == ("\ufeff" if encoding.bom else "") + body


@pytest.mark.parametrize("encoding", [UTF8, UTF8_BOM, UTF16_LE, UTF16_BE, UTF32_LE],
                         ids=lambda e: e.label)  # fmt: skip
def test_any_character_round_trips(encoding: Encoding) -> None:
    """Comments in any script, a character beyond the BMP (a UTF-16 surrogate pair), CR."""
    text = "# Abhängigkeiten ✓ 依存 🐍\r\nalpha==1.0  # ü\rbeta\n\n  \t\r\n"
    text += "gamma[fast] ; sys_platform == 'win32'"
    data = stored(text, encoding)
    parsed = parse_requirements(data, SOURCE)
    assert parsed.to_bytes() == data
    assert [line.name for line in parsed.requirements()] == ["alpha", "beta", "gamma"]


def test_a_bom_alone_is_an_empty_file() -> None:
    for encoding in (UTF8_BOM, UTF16_LE, UTF16_BE):
        parsed = parse_requirements(encoding.bom, SOURCE)
        assert (parsed.lines, parsed.encoding, parsed.to_bytes()) == ((), encoding, encoding.bom)


def test_a_coding_comment_on_line_two_counts_and_a_bom_wins_over_it() -> None:
    data = b"#!/not/a/script\n# vim: set fileencoding=latin-1 :\n# caf\xe9\nalpha\n"
    assert parse_requirements(data, SOURCE).encoding == Encoding("iso8859-1")
    declared = stored("# coding: cp1252\r\nalpha\r\n", UTF16_LE)
    assert parse_requirements(declared, SOURCE).encoding == UTF16_LE
    third = b"\n\n# coding: latin-1\n# caf\xe9\n"  # line 3: pip does not look there
    with pytest.raises(ProjectError, match="not valid UTF-8"):
        parse_requirements(third, SOURCE)


# --- edits keep the encoding, the BOM and the line endings --------------------------------

HEAD = "# PowerShell: pip freeze > requirements.txt\r\n"
BEFORE = HEAD + "alpha==1.0\r\ngamma==1.0  # ü\r\n"
EDITS: list[tuple[str, EnvDelta, str]] = [
    ("pin-moved", EnvDelta(changed=(dist("alpha", "2.0"),)),
     HEAD + "alpha==2.0\r\ngamma==1.0  # ü\r\n"),
    ("line-added", EnvDelta(added=(dist("beta", "1.0"),)),
     HEAD + "alpha==1.0\r\nbeta==1.0\r\ngamma==1.0  # ü\r\n"),
    ("line-removed", EnvDelta(removed=("gamma",)), HEAD + "alpha==1.0\r\n"),
    ("all-three", EnvDelta(added=(dist("beta", "1.0"),), removed=("alpha",),
                           changed=(dist("gamma", "3.0"),)),
     HEAD + "beta==1.0\r\ngamma==3.0  # ü\r\n"),
]  # fmt: skip


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("stored_as", sorted(STORED))
@pytest.mark.parametrize(("delta", "after"), [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_edit_keeps_encoding_bom_and_line_endings(
    delta: EnvDelta, after: str, stored_as: str, newline: str
) -> None:
    encoding = STORED[stored_as]
    before = stored(BEFORE.replace("\r\n", newline), encoding)
    edited = apply_preserve(parse_requirements(before, SOURCE), delta, ENV)
    assert edited.encoding == encoding
    assert edited.to_bytes() == stored(after.replace("\r\n", newline), encoding)


def test_edit_in_a_declared_encoding_keeps_it() -> None:
    text = "# -*- coding: cp1252 -*-\r\n# café €\r\nalpha==1.0\r\n"
    before = text.encode("cp1252")
    edited = apply_preserve(
        parse_requirements(before, SOURCE), EnvDelta(changed=(dist("alpha", "2.0"),)), ENV
    )
    assert edited.to_bytes() == text.replace("1.0", "2.0").encode("cp1252")


def test_an_edit_the_declared_encoding_cannot_hold_is_refused() -> None:
    before = "# -*- coding: cp1252 -*-\r\nalpha==1.0\r\n".encode("cp1252")
    url = "file:///C:/Users/用户/omega-1.0-py3-none-any.whl"
    delta = EnvDelta(added=(dist("omega", "1.0", f"omega @ {url}"),))
    with pytest.raises(ProjectError) as info:
        apply_preserve(parse_requirements(before, SOURCE), delta, ENV)
    assert "cp1252" in info.value.message and "U+7528" in info.value.message
    assert "UTF-8" in (info.value.hint or "")


@pytest.mark.parametrize("stored_as", sorted(STORED))
def test_pip_style_keeps_a_bom_encoding_and_the_line_ending(stored_as: str) -> None:
    encoding = STORED[stored_as]
    like = parse_requirements(stored(BEFORE, encoding), SOURCE)
    data = apply_pip_style([dist("alpha", "2.0"), dist("beta", "1.0")], like)
    assert data == stored("alpha==2.0\r\nbeta==1.0\r\n", encoding)
    assert apply_pip_style([dist("alpha", "2.0")]) == b"alpha==2.0\n"  # no file yet: UTF-8, LF


def test_kept_text_goes_back_in_the_file_s_encoding_when_it_fits() -> None:
    assert encode_kept("\ufeffalpha\r\n", UTF16_LE) == stored("alpha\r\n", UTF16_LE)
    assert encode_kept("alpha\n", UTF8) == b"alpha\n"
    assert encode_kept("\ufeffalpha\n", UTF8) == codecs.BOM_UTF8 + b"alpha\n"  # BOMs disagree
    assert encode_kept("alpha\n", UTF16_BE) == b"alpha\n"
    assert encode_kept("# €\n", Encoding("iso8859-1")) == "# €\n".encode()  # no room for €


@pytest.mark.parametrize("data", [c[1] for c in READ_CASES], ids=[c[0] for c in READ_CASES])
def test_a_kept_text_parses_to_the_same_lines(data: bytes) -> None:
    """What a snapshot keeps (`text`) models the same lines, whatever the file was stored in."""
    parsed = parse_requirements(data, SOURCE)
    again = parse_text(parsed.text, SOURCE)
    assert again.lines == parsed.lines and again.bom == parsed.bom
    cp1252 = parse_requirements("# coding: cp1252\n# Á\nalpha\n".encode("cp1252"), SOURCE)
    assert parse_text(cp1252.text, SOURCE).lines == cp1252.lines


# --- undecodable files: the message names what the file looks like ------------------------

UNDECODABLE: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("utf-16-le-without-bom", "alpha==1.0\r\nbeta\r\n".encode("utf-16-le"),
     ("looks like UTF-16 LE without a BOM",)),
    ("utf-16-be-without-bom", "alpha==1.0\nbeta\n".encode("utf-16-be"),
     ("looks like UTF-16 BE without a BOM",)),
    ("utf-16-le-without-bom-accents", "# café\r\nalpha\r\n".encode("utf-16-le"),
     ("looks like UTF-16 LE without a BOM",)),
    ("utf-32-le-without-bom", "alpha\n".encode("utf-32-le"),
     ("looks like UTF-32 LE without a BOM",)),
    ("cp1252", "alpha\r\n# café \u2013 ok\r\n".encode("cp1252"),
     ("is not valid UTF-8: byte 12 (line 2)", "Latin-1/cp1252")),
    ("latin-1-c1", b"alpha\n# \x81\xe9\n", ("is not valid UTF-8: byte 8 (line 2)", "Latin-1")),
    ("binary", bytes(range(256)) * 4,
     ("not valid UTF-8: byte 128 (line 8)", "not look like a text file")),
    ("utf-8-bom-then-latin-1", codecs.BOM_UTF8 + b"alpha\n# caf\xe9\n",
     ("UTF-8 byte-order mark", "not valid UTF-8: byte 14 (line 2)")),
    ("utf-16-le-bom-odd-length", stored("alpha\nbeta\n", UTF16_LE) + b"x",
     ("UTF-16 LE byte-order mark", "not valid UTF-16 LE: byte 24 (line 3)")),
    ("utf-16-be-bom-lone-surrogate", stored("alpha\n", UTF16_BE) + b"\xd8\x00\x00a",
     ("not valid UTF-16 BE: byte 14 (line 2)",)),
    ("declared-ascii", b"# coding: ascii\n# caf\xe9\n",
     ("not valid ascii", "coding comment", "byte 21 (line 2)")),
    ("declared-unknown", b"# -*- coding: klingon -*-\nalpha\n", ("line 1", "'klingon'")),
    ("declared-not-text", b"# vim: fileencoding=rot13\n", ("'rot13'", "not a text encoding")),
    ("declared-no-round-trip", b"# coding: utf-8-sig\nalpha\n", ("byte for byte",)),
]  # fmt: skip


@pytest.mark.parametrize(("data", "wanted"), [c[1:] for c in UNDECODABLE],
                         ids=[c[0] for c in UNDECODABLE])  # fmt: skip
def test_undecodable_file_names_the_encoding_and_what_to_do(
    data: bytes, wanted: tuple[str, ...]
) -> None:
    with pytest.raises(ProjectError) as info:
        parse_requirements(data, SOURCE)
    message = info.value.message
    assert message.startswith(str(SOURCE))
    for part in wanted:
        assert part in message
    assert "UTF-8" in (info.value.hint or "")


def test_nul_bytes_that_are_not_utf16_stay_a_line_problem() -> None:
    """A stray NUL in a UTF-8 file is read as pip reads it: the line is reported, not the file."""
    parsed = parse_requirements(b"alpha==1.0\n\x00\x01\x02\x03 binary but valid UTF-8\n", SOURCE)
    assert parsed.encoding == UTF8
    assert [number for number, _ in parsed.problems()] == [2]
    assert parse_requirements(b"a\x00", SOURCE).encoding == UTF8  # too short to tell


# --- the real PowerShell files: read as pip read them, written back byte for byte ---------


def _realworld_with_bom() -> list[str]:
    oracle = REALWORLD / "oracle.json"
    if not oracle.is_file():
        return []
    files = json.loads(oracle.read_text(encoding="utf-8"))["files"]
    return sorted(name for name, record in files.items() if record.get("bom"))


REALWORLD_BOM = _realworld_with_bom()


@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REALWORLD / "oracle.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.skipif(not REALWORLD_BOM, reason=f"no real-world corpus at {REALWORLD}")
def test_realworld_corpus_holds_utf16_files() -> None:
    utf16 = [
        n for n in REALWORLD_BOM if (REALWORLD / n).read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    ]
    assert len(utf16) >= 2


@pytest.mark.skipif(not REALWORLD_BOM, reason=f"no real-world corpus at {REALWORLD}")
@pytest.mark.parametrize("name", REALWORLD_BOM or ["absent"])
def test_realworld_file_with_a_bom_reads_as_pip_read_it(name: str, oracle: dict[str, Any]) -> None:
    record = oracle["files"][name]
    data = (REALWORLD / name).read_bytes()
    parsed = parse_requirements(data, REALWORLD / name)
    assert parsed.to_bytes() == data
    assert parsed.encoding.bom.hex() == record["bom"]
    acted_on = [
        line for line in parsed.lines if line.kind not in (LineKind.BLANK, LineKind.COMMENT)
    ]
    assert [line.lineno for line in acted_on] == [item["lineno"] for item in record["lines"]]
    for line, item in zip(acted_on, record["lines"], strict=True):
        assert line.text == item["text"]
        if item["kind"] != "requirement":
            continue
        assert line.kind is LineKind.REQUIREMENT
        assert line.name == item["name"]
        assert sorted(str(s) for s in line.specifier) == item["specifier"]
        assert sorted(line.extras) == item["extras"]
        assert (str(line.marker) if line.marker else None) == item["marker"]
    if record["full"]["ok"] and not parsed.includes():
        assert len(parsed.requirements()) == record["full"]["requirements"]
