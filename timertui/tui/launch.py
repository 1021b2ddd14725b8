"""`timertui` with no subcommand: the TUI on this host; `--snapshot FILE` browses a snapshot (or a
CRIU image directory) offline; `--demo` starts the demo workload as a child for the session.

The command line (timertui.cli) adds these options to its parser and calls run_app. Textual is
imported only when the app starts, so parsing a command line never pays for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from timertui.choices import DEMO_IDS
from timertui.errors import InputError

if TYPE_CHECKING:
    from timertui.tui.remote_source import RemoteSource

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)


def add_arguments(parser: Any) -> None:
    """The options of the bare `timertui` command (added to the top-level parser)."""
    parser.add_argument(
        "--snapshot",
        metavar="FILE|CRIU_DIR",
        help="browse a snapshot file, CRIU image directory or crit JSON instead of this host",
    )
    parser.add_argument(
        "--snapshot-dir",
        metavar="DIR",
        type=Path,
        help="where snapshots are saved and listed (default: $XDG_DATA_HOME/timertui/snapshots)",
    )
    parser.add_argument(
        "--host",
        metavar="[USER@]HOST[:PORT]",
        action="append",
        help="the processes of another host, over ssh (it needs python3 3.9+ only); more than "
        "once for several hosts (h goes to the next)",
    )
    parser.add_argument(
        "--remote-timertui",
        metavar="PATH",
        help="with --host: timertui there, for deep capture (default: on its PATH)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"start the demo workload (timers {', '.join(map(str, DEMO_IDS))} and a zoo) for "
        "this session",
    )
    parser.add_argument(
        "--no-native",
        action="store_true",
        help="no native restores and no deep capture (ptrace): the simulator and snapshots only"
        " (what `timertui serve --public` runs)",
    )


_SWITCH_INTERVAL_S = 0.0005
# Textual draws at most TEXTUAL_FPS frames a second, and after a pause it re-aligns to that grid
# one period late: a refresh right after a frame waits one to two periods (17-33 ms at its
# default 60). A key pressed just after the countdown's or a restore's redraw (ten a second)
# waited that long. Frames are still drawn only when something changed.
_FPS = "120"


def textual_environment() -> None:
    """What Textual reads from the environment when it is imported (a user's own settings
    stay): call before the app's modules load."""
    os.environ.setdefault("TEXTUAL_FPS", _FPS)


def run_app(args: argparse.Namespace) -> int:
    textual_environment()
    from timertui import demo, sources
    from timertui.tui.app import TimerTuiApp
    from timertui.tui.keymap import keymap_path
    from timertui.tui.process_sources import FrozenSource, LiveSource, ProcessSource

    source: ProcessSource
    remotes: list[RemoteSource] = []
    if args.host:
        from timertui.tui.remote_source import connect

        if args.snapshot or args.demo:
            raise InputError("--host reads another host: not with --snapshot or --demo")
        try:
            for host in dict.fromkeys(args.host):  # a host given twice is one connection
                # Cannot connect: one line, exit 2, no app.
                remotes.append(connect(host, args.remote_timertui))
        except InputError:
            for remote in remotes:
                remote.close()
            raise
        source = remotes[0]
    elif args.remote_timertui is not None:
        raise InputError("--remote-timertui goes with --host")
    elif args.snapshot:
        snap = sources.open_source(args.snapshot)  # bad input: one line, exit 2, no app
        source = FrozenSource(snap, Path(args.snapshot).name)
    else:
        source = LiveSource()
    before = _descendants()
    workload = None
    app: TimerTuiApp | None = None
    with _ExitOnSignal() as on_signal:
        try:
            _need_a_terminal()
            if args.demo:
                workload = demo.spawn_workload(DEMO_IDS, zoo=True)
            focus = demo.read_ready_pid(workload) if workload is not None else None
            app_class = TimerTuiApp
            if args.no_native:
                from timertui.tui.lockdown import NoNativeApp as app_class
            app = on_signal.app = app_class(
                source,
                snapshot_dir=args.snapshot_dir,
                focus_pid=focus,
                keymap_file=keymap_path(),
                hosts=tuple(remotes),
            )
            for remote in remotes:
                remote.attach(app)
            # The restore threads wait on pipes and answer in microseconds; at the default 5 ms
            # a busy event loop keeps them from the interpreter for milliseconds at each turn,
            # which the timing panel would show as the worker's start.
            sys.setswitchinterval(_SWITCH_INTERVAL_S)
            app.run()
        finally:
            if app is not None:
                app.close_restorer()  # its worker server, at once rather than at exit
            if workload is not None:
                demo.stop_workload(workload)
            for remote in remotes:
                remote.close()
            _end_new_descendants(before)
    return app.return_code or 0


def _need_a_terminal() -> None:
    """Refuse to start where keys cannot come: Textual's terminal driver reads standard input,
    and at its end (/dev/null, a closed pipe) spins a core forever. Under textual-serve (its
    driver in TEXTUAL_DRIVER) the keys come over a pipe, and that is fine."""
    if "TEXTUAL_DRIVER" not in os.environ and not os.isatty(0):
        raise InputError(
            "the app reads its keys from a terminal, and standard input is not one: run it in "
            "a terminal, or use a subcommand (timertui ps, show, snapshot, restore …)"
        )


class _ExitOnSignal:
    """While the session runs, SIGTERM, SIGHUP, SIGINT and SIGQUIT end it the way `q` does:
    app.exit on its event loop, so Textual's driver leaves the alternate screen, shows the cursor
    and resets the terminal's modes, and run_app's finally reaps the children. Before the app's
    loop runs, or at a second signal the loop has not answered (a busy loop), SystemExit unwinds
    by force instead. Python's own handlers come back afterwards."""

    def __init__(self) -> None:
        self.app: Any = None  # set once the app exists
        self.pending = False
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> _ExitOnSignal:
        self.saved = {signo: signal.signal(signo, self._handle) for signo in EXIT_SIGNALS}
        return self

    def __exit__(self, *_exc: object) -> None:
        for signo, handler in self.saved.items():
            signal.signal(signo, handler)

    def _handle(self, signo: int, _frame: FrameType | None) -> None:
        code = 128 + signo
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if signo == signal.SIGHUP and _hung_up(sys.__stderr__):
            # The terminal is gone: the app's last writes (leaving the alternate screen) would
            # fail or wait for a reader that will never come, and the app never end.
            _silence_terminal()
        if loop is None or self.app is None or self.pending:
            raise SystemExit(code)
        self.pending = True
        loop.call_soon_threadsafe(self.app.exit, None, code)


def _hung_up(stream: Any) -> bool:
    """Whether the terminal behind `stream` was hung up (its other side closed)."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLOUT)
        return any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _silence_terminal() -> None:
    """Point the standard streams at /dev/null: writes to them then succeed at once."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _descendants() -> dict[tuple[int, float], Any]:
    """This process's descendants now, keyed by pid and start time (a pid alone may be reused)."""
    import psutil

    found = {}
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            found[child.pid, child.create_time()] = child
    return found


def _end_new_descendants(before: dict[tuple[int, float], Any], timeout: float = 2.0) -> None:
    """A backstop: whatever the session started and left behind (a restore worker, a held
    target) ends with it. Processes that were there before the app are left alone."""
    import psutil

    new = [proc for key, proc in _descendants().items() if key not in before]
    for proc in new:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _gone, alive = psutil.wait_procs(new, timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout)
