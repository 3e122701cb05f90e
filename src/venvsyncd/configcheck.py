"""The checks of the config's values: each names the file, the key path and what to write.

Used by `config.py` (and, through it, by `add`'s command-line values). Pure.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from venvsyncd.errors import ConfigError


@dataclass(frozen=True)
class Loc:
    """Where a value sits: the file (None for a command-line value) and its key path."""

    file: str | None
    key: str

    def error(self, problem: str, hint: str) -> ConfigError:
        prefix = f"{self.file}: " if self.file is not None else ""
        return ConfigError(f"{prefix}{self.key}: {problem}", hint=hint)

    def child(self, key: str) -> Loc:
        return Loc(self.file, f"{self.key}.{quote_key(key)}" if self.key else quote_key(key))


Check = Callable[[object, Loc], object]


def choice(allowed: tuple[str, ...]) -> Check:
    def check(value: object, loc: Loc) -> object:
        listed = ", ".join(f"'{a}'" for a in allowed)
        hint = f"set {loc.key} to one of: {', '.join(allowed)}"
        if not isinstance(value, str):
            raise loc.error(f"expected a string, one of {listed}, got {toml_type(value)}", hint)
        if value not in allowed:
            raise loc.error(f"{value[:40]!r} is not one of {listed}", hint)
        return value

    return check


def boolean(value: object, loc: Loc) -> object:
    if not isinstance(value, bool):
        raise loc.error(
            f"expected a boolean, got {toml_type(value)}", f"set {loc.key} to true or false"
        )
    return value


def seconds(value: object, loc: Loc) -> object:
    hint = f"set {loc.key} to a number of seconds >= 0, such as 1.0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise loc.error(f"expected a number, got {toml_type(value)}", hint)
    try:
        seconds = float(value)
    except OverflowError:
        raise loc.error("is too large", hint) from None
    if not math.isfinite(seconds):
        raise loc.error(f"{value} is not a finite number", hint)
    if seconds < 0:
        raise loc.error(f"{value} is negative", hint)
    return seconds


def whole_number(low: int, high: int, example: int) -> Check:
    def check(value: object, loc: Loc) -> object:
        hint = f"set {loc.key} to a whole number from {low} to {high}, such as {example}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise loc.error(f"expected an integer, got {toml_type(value)}", hint)
        shown = f"{value} " if abs(value) < 10**15 else ""  # not hundreds of digits
        if value < low:
            raise loc.error(f"{shown}is less than {low}", hint)
        if value > high:
            raise loc.error(f"{shown}is more than {high}", hint)
        return value

    return check


def string(example: str, optional: bool) -> Check:
    def check(value: object, loc: Loc) -> object:
        hint = f"set {loc.key} to a non-empty string, such as {json.dumps(example)}"
        if optional:
            hint += ", or leave it out for the default"
        if not isinstance(value, str):
            raise loc.error(f"expected a string, got {toml_type(value)}", hint)
        if not value:
            raise loc.error("is an empty string", hint)
        if "\0" in value:
            raise loc.error("contains a NUL character", hint)
        return value

    return check


def strings(example: str, at_least: int = 0) -> Check:
    """An array of non-empty strings (at least `at_least` of them), as a tuple; with
    `at_least` 1, a single string stands for an array of one."""

    def check(value: object, loc: Loc) -> object:
        hint = f"set {loc.key} to an array of strings, such as [{json.dumps(example)}]"
        wanted = "an array of strings"
        if at_least:
            hint = f"set {loc.key} to a string, such as {json.dumps(example)}, or {wanted}"
            wanted = f"a string or {wanted}"
            value = [value] if isinstance(value, str) else value
        if not isinstance(value, list):
            raise loc.error(f"expected {wanted}, got {toml_type(value)}", hint)
        if len(value) < at_least:
            raise loc.error(f"needs at least {at_least} entry", hint)
        one = string(example, optional=False)
        return tuple(one(item, Loc(loc.file, f"{loc.key}[{n}]")) for n, item in enumerate(value))

    return check


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def quote_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def toml_type(value: object) -> str:
    if isinstance(value, date | time):  # datetime is a date
        return "a date-time"
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names.update({dict: "a table", list: "an array"})
    return names.get(type(value), type(value).__name__)
