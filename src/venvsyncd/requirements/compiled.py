"""What pip-compile (pip-tools) writes into a requirements file, as the editor keeps it. Pure.

A pip-compile file opens with a header naming the command that made it (`#    pip-compile
--output-file=requirements.txt requirements.in`), lists each pin followed by its `# via` block
(indented comment lines saying what needs the pin, pip-tools' `--annotation-style=split`), and
may end with the "unsafe" section. `uv pip compile` writes the same blocks. The editor treats
a via block as part of the pin above it, and a new pin goes before the unsafe section.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePath

from venvsyncd.requirements.file import LineKind, RequirementsFile

# The first line of a via block, then its item lines ("    #   -r requirements.in").
_VIA_RE = re.compile(r"[ \t]+# ?via(?:\s|$)")
_VIA_ITEM_RE = re.compile(r"[ \t]+#[ \t]{2,}\S")
UNSAFE = "# The following packages are considered to be unsafe in a requirements file"
_COMMAND_RE = re.compile(r"#\s+(?:pip-compile|uv\s+pip\s+compile)(?:\s+(?P<args>.*?))?\s*$")
# pip-compile options written apart from their value (`-o out.txt`); `--flag=value` is one token.
_TAKES_VALUE = frozenset(
    {"-o", "--output-file", "-c", "--constraint", "-P", "--upgrade-package", "--unsafe-package"}
    | {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--extra", "--pip-args"}
    | {"--cache-dir", "--annotation-style", "--resolver", "--build-deps-for", "--max-rounds"}
    | {"--trusted-host", "--uploaded-prior-to", "--config", "--client-cert", "--cert"}
)
DEFAULT_SOURCE = "requirements.in"  # pip-compile's source when the command names none


def via_length(raws: Sequence[str], start: int) -> int:
    """How many of `raws` (physical lines, from `start`) are the via block of the pin just
    before `start`: a `# via` line and the item lines under it, or 0."""
    if start >= len(raws) or not is_via(raws[start]):
        return 0
    return 1 + via_items(raws, start + 1)


def is_via(raw: str) -> bool:
    """Is the physical line `raw` the `# via` line of a via block? (Older pip-compile wrote it
    as the last line of a hashed pin's continuation, so it belongs to the pin's logical line.)"""
    return _VIA_RE.match(raw) is not None


def via_items(raws: Sequence[str], start: int) -> int:
    """How many of `raws`, from `start`, are item lines of a via block (`#   package`)."""
    end = start
    while end < len(raws) and _VIA_ITEM_RE.match(raws[end]):
        end += 1
    return end - start


def new_line_index(raws: Sequence[str], names: Sequence[str | None], name: str) -> int:
    """Where a new requirement line for `name` goes among lines `raws` (the requirement
    lines' canonical `names`, None for others): in sorted position when the requirements
    are sorted, else after the last line; before pip-compile's unsafe section, and never
    between a pin and its via block."""
    end = _unsafe_start(raws)
    named = [i for i in range(end) if names[i] is not None]
    in_order = bool(named) and [names[i] for i in named] == sorted(names[i] or "" for i in named)
    if not in_order:
        return end
    before = [i for i in named if (names[i] or "") <= name]
    if not before:
        return named[0]
    return before[-1] + 1 + via_length(raws, before[-1] + 1)


def _unsafe_start(raws: Sequence[str]) -> int:
    """Where the unsafe section begins (with the blank lines before its heading), else the end:
    new pins go before it."""
    for index, raw in enumerate(raws):
        if raw.lstrip().startswith(UNSAFE):
            while index > 0 and not raws[index - 1].strip():
                index -= 1
            return index
    return len(raws)


def compiled_from(req: RequirementsFile) -> Path | None:
    """The `.in` file the header says `req` was compiled from, as a path next to `req`, or None.

    pip-compile writes its command as the user ran it, paths relative to the folder it ran in;
    that folder is found by taking the output file (`--output-file`, else the source's name
    with `.txt`) off the end of `req`'s own path. None when the command names no single `.in`
    source, or when its output file is not `req` (the file was renamed or copied).
    """
    args = _command(req)
    if args is None:
        return None
    sources, output = _sources_and_output(args)
    ins = [s for s in sources if s.endswith(".in")]
    if len(ins) != 1 and sources:
        return None
    source = ins[0] if ins else DEFAULT_SOURCE
    folder = _run_folder(req.source, output or source.removesuffix(".in") + ".txt")
    return None if folder is None else Path(os.path.normpath(folder / source))


def _command(req: RequirementsFile) -> list[str] | None:
    """The arguments of the pip-compile command in the header (the comments above any pin)."""
    for line in req.lines:
        if line.kind is LineKind.BLANK:
            continue
        if line.kind is not LineKind.COMMENT:
            return None
        match = _COMMAND_RE.match(line.raw.strip())
        if match:
            try:
                return shlex.split(match.group("args") or "")
            except ValueError:
                return None
    return None


def _sources_and_output(args: Sequence[str]) -> tuple[list[str], str | None]:
    sources: list[str] = []
    output = None
    index = 0
    while index < len(args):
        arg = args[index]
        flag, equals, value = arg.partition("=")
        if arg in _TAKES_VALUE and index + 1 < len(args):
            flag, value, index = arg, args[index + 1], index + 1
        elif arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--"):
            flag, value = "-o", arg[2:]
        elif arg == "-" or not arg.startswith("-"):  # "-": the source is stdin
            sources.append(arg)
        if flag in ("-o", "--output-file") and (value or equals):
            output = value
        index += 1
    return sources, output


def _run_folder(path: Path, output: str) -> PurePath | None:
    """The folder `output` (relative to it) names `path` from, or None when it does not."""
    written = PurePath(os.path.normpath(output)).parts
    if ".." in written or PurePath(output).is_absolute():
        return None
    here = path.parts
    if len(written) >= len(here) or tuple(here[-len(written) :]) != written:
        return None
    return PurePath(*here[: -len(written)])
