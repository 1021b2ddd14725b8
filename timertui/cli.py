"""The command line: the TUI by default, and scriptable subcommands (every one takes --json).

Subcommand modules import only what their parser needs at module level, so starting one command
does not pay for the others (restore's end-to-end time counts interpreter start).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from timertui.errors import InputError

COMMANDS = ("ps", "show", "snapshot", "inspect", "check", "restore", "calibrate", "demo_workload")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that subcommand's (a command's start time counts)."""
    parser = _Parser(
        prog="timertui",
        description="See, snapshot and replay the restore of POSIX timers of Linux processes.",
    )
    if not only:
        # The bare command's options (the app's) come before any subcommand, so a command
        # named first never needs them, nor the app module (pathlib) they load.
        from timertui.commands import app

        app.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in (only,) if only else COMMANDS:
        module = importlib.import_module(f"timertui.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = argv[0].replace("-", "_") if argv else ""
    # Start-up allocates thousands of objects and frees few: collecting meanwhile is ~10% of
    # it (a command's start counts). The command itself runs with the collector on.
    gc.disable()
    try:
        if name in COMMANDS:
            _start_early(name)
        parser = build_parser(name if name in COMMANDS else None)
        args = parser.parse_args(argv)
    finally:
        gc.enable()
    try:
        if args.command is None:
            from timertui.commands import app

            return app.run_app(args)
        # SIGTERM/SIGHUP end a command the way Ctrl-C does, through its finally blocks: a
        # ptrace window or a held restore target is never left behind by them.
        for signo in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signo, _terminate)
        status: int = args.func(args)
        return status
    except InputError as exc:
        # One line whatever the input held (a path may contain a line break).
        text = str(exc).replace("\r", "\\r").replace("\n", "\\n")
        print(f"timertui: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours.
        sys.stderr.close()
        return 0


def _start_early(name: str) -> None:
    """A command's work that need not wait for its arguments: restore's worker process, which
    then loads its modules on the other core while the arguments are parsed."""
    module = importlib.import_module(f"timertui.commands.{name}")
    start = getattr(module, "start_early", None)
    if start is not None:
        start()


def _terminate(signo: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signo)


def entry() -> NoReturn:
    sys.exit(main())
