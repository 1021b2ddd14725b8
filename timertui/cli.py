"""The command line: the TUI by default (timertui.tui.launch), and scriptable subcommands
(timertui.commands; every one takes --json). The entry point, so the one module above both.

Subcommand modules import only what their parser needs at module level, so starting one command
does not pay for the others (restore's end-to-end time counts interpreter start), and a command
whose module has `quick_args` parses a plain command line without argparse.
"""

from __future__ import annotations

import _signal  # signal's enums cost ~0.7 ms of every command's start; the handlers need none
import atexit
import gc
import os
import sys

from timertui.errors import InputError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

COMMANDS = (
    "ps",
    "show",
    "snapshot",
    "inspect",
    "log",
    "check",
    "restore",
    "verify",
    "calibrate",
    "demo_workload",
    "serve",
    "deep_values",
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name = _command(argv)
    # Start-up allocates thousands of objects and frees few: collecting meanwhile is ~10% of
    # it (a command's start counts). The command itself runs with the collector on.
    gc.disable()
    try:
        args = _quick_args(name, argv[1:]) if name else None
        if args is None:
            from timertui.commands.parsing import build_parser

            if name:
                parser = build_parser(COMMANDS, name)
            else:
                # Only the bare command has the app's options: a command named first needs
                # neither them nor the module (pathlib) they load.
                from timertui.tui.launch import add_arguments

                parser = build_parser(COMMANDS, add_app_options=add_arguments)
            args = parser.parse_args(argv)
    finally:
        gc.enable()
    try:
        if args.command is None:
            from timertui.tui.launch import run_app

            return run_app(args)
        # SIGTERM/SIGHUP end a command the way Ctrl-C does, through its finally blocks: a
        # ptrace window or a held restore target is never left behind by them.
        for signo in (_signal.SIGTERM, _signal.SIGHUP):
            _signal.signal(signo, _terminate)
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


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand module named first in `argv`, if any."""
    name = argv[0].replace("-", "_") if argv else ""
    return name if name in COMMANDS else None


def _quick_args(name: str, rest: list[str]) -> Any:
    """Start the command's early work (restore's worker process, which then loads its modules
    on the other core while we parse) and parse `rest` with its quick_args if it has one:
    None when argparse must parse."""
    # __import__, not importlib.import_module: the importlib package adds ~0.2 ms to the start.
    qualified = f"timertui.commands.{name}"
    __import__(qualified)
    module = sys.modules[qualified]
    start = getattr(module, "start_early", None)
    if start is not None:
        start(rest)
    quick = getattr(module, "quick_args", None)
    return quick(rest) if quick is not None else None


def _terminate(signo: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signo)


def entry() -> NoReturn:
    status = main()
    if _command(sys.argv[1:]):
        _leave(status)
    sys.exit(status)


def _leave(status: int) -> NoReturn:
    """End a subcommand without the interpreter's teardown (it frees every module and object:
    ~10 ms of a `timertui restore`). The command's finally blocks have run and its workers are
    reaped (none runs threads that outlive it); what exit still does is done here: the atexit
    handlers and flushing the standard streams. Should a flush fail, exit the usual way."""
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None and not stream.closed:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(status)
    os._exit(status)
