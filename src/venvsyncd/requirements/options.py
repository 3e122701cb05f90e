"""The option part of a requirements line, parsed as pip parses it (shlex, then optparse with
pip's SUPPORTED_OPTIONS and SUPPORTED_OPTIONS_REQ). Pure."""

from __future__ import annotations

import functools
import optparse
import shlex
from typing import Any, NoReturn

_STRONG_HASHES = ("sha256", "sha384", "sha512")
# pip's --use-feature choices: its new features, and those now always on (a warning only)
_FEATURES: tuple[str, ...] = ("fast-deps", "inprocess-build-deps", "venv-isolation", "truststore")
_FEATURES += ("no-binary-enable-wheel-cache", "build-constraint")
# Options whose value pip takes as a list of names, refusing one that starts with "-"
_NAME_LISTS = ("--no-binary", "--only-binary", "--all-releases", "--only-final")


# pip's SUPPORTED_OPTIONS + SUPPORTED_OPTIONS_REQ: (flags, takes a value)
_OPTIONS: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("-i", "--index-url", "--pypi-url"), True),
    (("--extra-index-url",), True),
    (("--no-index",), False),
    (("-c", "--constraint"), True),
    (("-r", "--requirement"), True),
    (("-e", "--editable"), True),
    (("-f", "--find-links"), True),
    (("--no-binary",), True),
    (("--only-binary",), True),
    (("--prefer-binary",), False),
    (("--require-hashes",), False),
    (("--no-require-hashes",), False),
    (("--pre",), False),
    (("--all-releases",), True),
    (("--only-final",), True),
    (("--trusted-host",), True),
    (("--use-feature",), True),
    (("--hash",), True),
    (("-C", "--config-settings"), True),
)


LineOption = tuple[str, str | None]  # (long flag as pip names it, value; None for a switch)


class OptionError(ValueError):
    pass


class _OptionParser(optparse.OptionParser):
    def error(self, msg: str) -> NoReturn:
        raise OptionError(msg)


def split_args_options(line: str) -> tuple[str, str]:
    """pip's split: space-separated tokens up to the first one starting with `-` are args."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), " ".join(tokens[index:])
    return line, ""


@functools.cache
def _option_parser() -> _OptionParser:
    parser = _OptionParser(add_help_option=False)
    for flags, takes_value in _OPTIONS:
        parser.add_option(
            *flags,
            action="callback",
            callback=_record_option,
            type="string" if takes_value else None,
        )
    return parser


def _record_option(option: optparse.Option, flag: str, value: str | None, parser: Any) -> None:
    name = option.get_opt_string()
    if value is not None:
        _check_value(name, flag, value)
    parser.values.seen.append((name, value))


def _check_value(name: str, flag: str, value: str) -> None:
    """What pip's option callbacks and choices refuse (`cmdoptions`), `flag` as written."""
    if name == "--hash":
        algo, sep, _digest = value.partition(":")
        if not sep or algo not in _STRONG_HASHES:
            raise OptionError(f"--hash must be one of {', '.join(_STRONG_HASHES)}:digest")
    elif name == "--use-feature" and value not in _FEATURES:
        choices = ", ".join(_FEATURES)
        raise OptionError(
            f"option --use-feature: invalid choice: {value!r} (choose from {choices})"
        )
    elif name == "--config-settings" and "=" not in value:
        raise OptionError(f"Arguments to {flag} must be of the form KEY=VAL")
    elif name in _NAME_LISTS and value.startswith("-"):
        raise OptionError(f"{name} option requires 1 argument")


def parse_options(option_text: str) -> tuple[LineOption, ...]:
    if not option_text:
        return ()
    try:
        tokens = shlex.split(option_text)
    except ValueError as exc:
        raise OptionError(f"could not split options: {exc}") from exc
    values = optparse.Values({"seen": []})
    _option_parser().parse_args(tokens, values)
    return tuple(values.seen)
