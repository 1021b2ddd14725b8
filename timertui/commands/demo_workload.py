"""`timertui demo-workload`: a process holding armed timers at chosen IDs, until killed."""

from __future__ import annotations

import argparse
from typing import Any

from timertui.choices import DEMO_IDS

_DEFAULT_IDS = ",".join(map(str, DEMO_IDS))


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo-workload",
        help="start a process that holds armed POSIX timers at chosen IDs",
        description="Hold armed POSIX timers at the given IDs (exact-ID mode when the kernel has"
        " it, else the create/delete walk), print the PID on the first line of stdout and stay"
        " until SIGTERM/SIGINT. SIGUSR2 prints the signal delivery counts as JSON.",
    )
    p.add_argument(
        "--ids",
        default=_DEFAULT_IDS,
        help=f"comma-separated timer IDs, each in 0..2147483647 (default {_DEFAULT_IDS})",
    )
    p.add_argument(
        "--zoo",
        action="store_true",
        help="a mix of clocks, notify modes and signals, with extra IDs 1,2,3,17 and"
        " 1500000..1500004 (and 8,9 for alarm clocks where the host supports them)",
    )
    p.add_argument(
        "--json", action="store_true", help='ready line as JSON {"pid": ..., "timers": [...]}'
    )
    # Forces a creation path, for tests and CI demos of the walk.
    p.add_argument("--mode", default="auto", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import demo

    demo.run_workload(demo.parse_id_list(args.ids), args.zoo, mode=args.mode, as_json=args.json)
    return 0
