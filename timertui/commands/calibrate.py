"""`timertui calibrate`: measure this host's restore costs for the simulator.

The measuring runs in a child process (the native layer's loops and a few native restores); the
result is stored for this kernel release, where `timertui restore --backend sim` finds it.
`--show` prints what is stored (or the built-in defaults) without measuring.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "calibrate",
        help="measure this host's timer syscall costs for the restore simulator",
        description="Time timer_create, timer_delete, exact-ID creates, timer_settime, the "
        "prctl and the restore worker's start on this host (in a child process), and store "
        "the figures for this kernel release; the simulator predicts restore times from them.",
    )
    p.add_argument("--show", action="store_true", help="print the stored figures, no measuring")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from timertui.commands.output import print_json, print_table
    from timertui.restore.calibrate import calibrate
    from timertui.restore.sim.costs import MEASURES, costs_path, load_costs

    if args.show:
        costs, path = load_costs(), costs_path()
    else:
        costs, path = calibrate()
    if args.json:
        print_json({**dataclasses.asdict(costs), "path": str(path)})
        return 0
    rows = [
        (name.removesuffix("_ns"), f"{getattr(costs, name):,.0f}", what) for name, what in MEASURES
    ]
    print_table(("MEASURE", "NS", "WHAT"), rows, right="NS")
    print(f"\n{costs.describe()}")
    if costs.source == "calibrated":
        print(f"stored in {path}")
    return 0
