"""The argparse parser of the command line, built only when a command line needs it: argparse
and what it loads (gettext, locale, shutil) take ~5 ms, which `timertui restore` does without
(commands.restore.quick_args)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser(
    commands: Sequence[str],
    only: str | None = None,
    add_app_options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.ArgumentParser:
    """The parser of `commands`; with `only`, just that subcommand's (a command's start time
    counts). `add_app_options` adds the bare command's options (the app's)."""
    parser = Parser(
        prog="timertui",
        description="See, snapshot and replay the restore of POSIX timers of Linux processes.",
    )
    if add_app_options is not None:
        add_app_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in (only,) if only else commands:
        module = importlib.import_module(f"timertui.commands.{name}")
        module.register(sub)
    return parser
