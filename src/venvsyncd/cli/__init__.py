"""Command line: `venvsyncd COMMAND` (and `python -m venvsyncd`).

The cli package is the only place that prints or picks an exit code. Commands import what
they need lazily, so a client command such as `status` starts fast and never loads watchdog;
a plain `status` is answered before argparse is even imported (`fast.py`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: see fast.py
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from venvsyncd.cli.fast import fast_main

    words = sys.argv[1:] if argv is None else list(argv)
    try:
        answered = fast_main(words)
    except KeyboardInterrupt:
        print("venvsyncd: interrupted", file=sys.stderr)
        return 130  # Exit.INTERRUPTED
    if answered is not None:
        return answered
    return _full_main(words)


def _full_main(words: list[str]) -> int:
    from venvsyncd.cli.parser import build_parser, context_from
    from venvsyncd.errors import Exit, VenvsyncdError

    parser = build_parser(words)
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse: --help, --version, bad usage
        return exc.code if isinstance(exc.code, int) else Exit.USAGE
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return Exit.USAGE
    try:
        return int(args.handler(args, context_from(args)))
    except VenvsyncdError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("venvsyncd: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"venvsyncd: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return Exit.FAILED
