"""How a requirements file's bytes become text, and the same text becomes the same bytes again.

pip (`req/req_file.py`, `_decode_req_file`) reads a requirements file in this order: a
byte-order mark (UTF-8, UTF-32, UTF-16), else a PEP 263 `coding:` comment on one of the
first two lines, else UTF-8, else the locale's encoding. venvsyncd follows the first three
and refuses the last, naming what the file looks like: the locale of a shell and of a daemon
differ, and a file read one way must be written back the same way. PowerShell 5's
`pip freeze > requirements.txt` writes UTF-16 LE with a BOM and CRLF endings.

`decode` returns the text and its `Encoding`; `Encoding.encode` of that text gives back the
bytes read, byte for byte (checked for declared encodings, whose codecs may not round-trip).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import NamedTuple

from venvsyncd.errors import ProjectError

__all__ = ["UTF8", "UTF8_BOM", "Encoding", "decode", "encode", "encode_kept"]


class Encoding(NamedTuple):
    """A Python codec and the byte-order mark written before the text (b"" for none)."""

    codec: str = "utf-8"
    bom: bytes = b""

    def encode(self, text: str) -> bytes:
        """`text` (without the BOM) as this file stores it; UnicodeEncodeError if it cannot."""
        return self.bom + text.encode(self.codec)

    @property
    def label(self) -> str:
        """How a person names it: "UTF-16 LE with a BOM", "UTF-8", "cp1252"."""
        name = _LABELS.get(self.codec, self.codec)
        return f"{name} with a BOM" if self.bom else name


UTF8 = Encoding()
UTF8_BOM = Encoding("utf-8", codecs.BOM_UTF8)

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one, as pip's order knows.
_BOMS = (
    UTF8_BOM,
    Encoding("utf-32-le", codecs.BOM_UTF32_LE),
    Encoding("utf-32-be", codecs.BOM_UTF32_BE),
    Encoding("utf-16-le", codecs.BOM_UTF16_LE),
    Encoding("utf-16-be", codecs.BOM_UTF16_BE),
)
_LABELS = {"utf-8": "UTF-8", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE"}
_LABELS |= {"utf-32-le": "UTF-32 LE", "utf-32-be": "UTF-32 BE"}
# What pip looks for in a line that starts with "#" (PEP 263's pattern, searched anywhere).
_CODING_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")
_PLAIN = frozenset(map(chr, range(0x20, 0x7F))) | {"\t", "\n", "\r"}
_MOSTLY_PLAIN = 0.9  # share of plain ASCII that makes a BOM-less guess a fair one...
_FEW_CHARACTERS = 4  # ...in a text no shorter than this


def decode(data: bytes, source: Path) -> tuple[str, Encoding]:
    """The text of `data` (BOM not included) and how it is stored, as pip would read it.

    A ProjectError, naming the encoding the file looks like and what to do, when pip would
    need the locale to read it, or when venvsyncd could not write the same bytes back.
    """
    encoding = next((e for e in _BOMS if data.startswith(e.bom)), None)
    declared = None if encoding is not None else _declared(data, source)
    if encoding is None and declared is None:
        _refuse_unmarked(data, source)
    encoding = encoding or declared or UTF8
    body = data[len(encoding.bom) :]
    try:
        text = body.decode(encoding.codec)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, source, encoding, exc, declared is not None) from exc
    if declared is not None and _encodes_back(text, encoding) != data:
        raise ProjectError(
            f"{source} declares its encoding as {encoding.codec}, in which venvsyncd cannot "
            "write it back byte for byte",
            hint="save the file as UTF-8 and drop the coding comment",
        )
    return text, encoding


def encode(text: str, encoding: Encoding, source: Path) -> bytes:
    """`text` in `encoding`, BOM first; a ProjectError when a character has no place in it."""
    try:
        return encoding.encode(text)
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start]
        raise ProjectError(
            f"{source} is kept in {encoding.label}, which cannot hold {char!r} "
            f"(U+{ord(char):04X}) that the edit needs; the file was not written",
            hint="save the file as UTF-8 (and drop its coding comment), then sync again",
        ) from exc


def encode_kept(text: str, encoding: Encoding) -> bytes:
    """A kept text (a snapshot's: a BOM as U+FEFF) as bytes: in `encoding`, the file's now, when
    the two agree on a BOM and it can hold the text; else in UTF-8 (U+FEFF as its BOM)."""
    has_bom = text.startswith("\ufeff")
    if has_bom == bool(encoding.bom):
        data = _encodes_back(text.removeprefix("\ufeff") if has_bom else text, encoding)
        if data is not None:
            return data
    return text.encode("utf-8", "surrogatepass")


def _encodes_back(text: str, encoding: Encoding) -> bytes | None:
    try:
        return encoding.encode(text)
    except UnicodeEncodeError:
        return None


def _declared(data: bytes, source: Path) -> Encoding | None:
    """The encoding a `# ... coding: NAME` comment on line 1 or 2 names, as pip reads it."""
    for number, line in enumerate(data.split(b"\n")[:2], start=1):
        found = _CODING_RE.search(line) if line.startswith(b"#") else None
        if found is None:
            continue
        name = found.group(1).decode("ascii")
        try:
            info = codecs.lookup(name)
        except LookupError:
            info = None
        if info is None or not getattr(info, "_is_text_encoding", True):  # rot13: pip fails too
            raise ProjectError(
                f"{source} line {number} declares the encoding {name!r}, which is not a "
                "text encoding Python knows",
                hint="fix the coding comment (e.g. `# -*- coding: cp1252 -*-`), or save the "
                "file as UTF-8 and drop it",
            )
        return Encoding(info.name)
    return None


def _refuse_unmarked(data: bytes, source: Path) -> None:
    """NUL bytes in a file that reads as plain ASCII text in UTF-16 or UTF-32: a BOM went
    missing. (Read as UTF-8, as pip reads it, it decodes, with NULs between the letters.)
    """
    if b"\0" not in data:
        return
    for codec in ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"):
        unit = 4 if "32" in codec else 2
        try:
            text = data[: len(data) - len(data) % unit].decode(codec)
        except UnicodeDecodeError:
            continue
        plain = sum(c in _PLAIN for c in text)
        if len(text) >= _FEW_CHARACTERS and plain >= _MOSTLY_PLAIN * len(text):
            raise ProjectError(
                f"{source} looks like {_LABELS[codec]} without a BOM; pip reads a file as "
                "UTF-16 or UTF-32 only after a BOM",
                hint=f"save the file as UTF-8, or as {_LABELS[codec]} with a BOM (PowerShell 5 "
                "writes that for `pip freeze > requirements.txt`)",
            )


def _undecodable(
    data: bytes, source: Path, encoding: Encoding, exc: UnicodeDecodeError, declared: bool
) -> ProjectError:
    offset = len(encoding.bom) + exc.start
    before = data[len(encoding.bom) : offset].decode(encoding.codec, "replace")
    line = len((before + "x").splitlines())  # numbered as pip numbers lines
    where = f"byte {offset} (line {line}) cannot be decoded"
    name = _LABELS.get(encoding.codec, encoding.codec)
    if encoding.bom:
        return ProjectError(
            f"{source} starts with a {name} byte-order mark but is not valid {name}: {where}",
            hint=f"save the file again as UTF-8, or as {name} with a BOM",
        )
    if declared:
        return ProjectError(
            f"{source} is not valid {name}, the encoding its coding comment declares: {where}",
            hint="fix the coding comment to the file's real encoding, or save the file as "
            "UTF-8 and drop the comment",
        )
    return ProjectError(
        f"{source} is not valid UTF-8: {where}; {_eight_bit_guess(data)}",
        hint="save the file as UTF-8, or name its encoding on its first line as pip allows "
        "(e.g. `# -*- coding: cp1252 -*-`)",
    )


def _eight_bit_guess(data: bytes) -> str:
    controls = sum(byte < 0x20 and byte not in b"\t\n\r\f" for byte in data)
    if controls * 20 > len(data):  # over 5%: binary data, not a text in any code page
        return "it does not look like a text file"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "it may be in an 8-bit code page such as Latin-1"
    return "it may be Latin-1/cp1252 (Windows' ANSI code page)"
