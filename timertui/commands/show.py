"""`timertui show PID`: one process's timers, decoded, with its ID gaps and legacy-walk cost."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="show one process's POSIX timers, decoded")
    p.add_argument("pid", type=int, help="process ID")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import gaps
    from timertui.capture import describe, processes
    from timertui.commands import output

    proc = processes.read_process(args.pid)
    report = gaps.analyze(t.id for t in proc.timers)
    if args.json:
        view = describe.process_view(proc)
        view["gaps"] = output.gap_view(report)
        output.print_json(view)
        return 0
    print(output.process_header(proc))
    if proc.timers:
        print(output.timers_table(proc.timers))
    for line in output.gap_lines(report):
        print(line)
    return 0
