"""`timertui` with no subcommand: the TUI on this host; `--snapshot FILE` browses a snapshot (or a
CRIU image directory) offline; `--demo` starts the demo workload as a child for the session.

Textual is imported only when the app starts, so the other subcommands never pay for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


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
        "--demo",
        action="store_true",
        help="start the demo workload (timers 0, 1000000, 2000000 and a zoo) for this session",
    )


def run_app(args: argparse.Namespace) -> int:
    from timertui import demo, sources
    from timertui.tui.app import TimerTuiApp
    from timertui.tui.source import FrozenSource, LiveSource, ProcessSource

    source: ProcessSource
    if args.snapshot:
        snap = sources.open_source(args.snapshot)  # bad input: one line, exit 2, no app
        source = FrozenSource(snap, Path(args.snapshot).name)
    else:
        source = LiveSource()
    workload = demo.spawn_workload(demo.DEFAULT_IDS, zoo=True) if args.demo else None
    try:
        focus = demo.read_ready_pid(workload) if workload is not None else None
        app = TimerTuiApp(source, snapshot_dir=args.snapshot_dir, focus_pid=focus)
        app.run()
    finally:
        if workload is not None:
            demo.stop_workload(workload)
    return app.return_code or 0
