"""`timertui show PID`: one process's timers, decoded, with its ID gaps and legacy-walk cost."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="show one process's POSIX timers, decoded")
    p.add_argument("pid", type=int, help="process ID")
    p.add_argument(
        "--deep",
        action="store_true",
        help="also read each timer's remaining time, interval and overrun (ptrace injection)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import gaps
    from timertui.capture import describe, processes
    from timertui.commands import output
    from timertui.model import Access

    proc = processes.read_process(args.pid)
    refused = None
    if args.deep:
        from timertui.capture.inject import attach_values

        proc, refused = attach_values(proc)
    if proc.access is Access.GONE or (refused and processes.exited(args.pid)):
        raise processes.exited_meanwhile(args.pid)
    report = gaps.analyze(t.id for t in proc.timers)
    unreadable = proc.access is not Access.OK
    if args.json:
        view = describe.process_view(proc)
        view["gaps"] = output.gap_view(report)
        if args.deep:
            view["deep"] = {"refused": refused}
        output.print_json(view)
        return 1 if refused or unreadable else 0
    print(output.process_header(proc))
    if proc.timers:
        print(output.timers_table(proc.timers))
    for line in (
        [f"timers unreadable: {proc.access.value}"] if unreadable else output.gap_lines(report)
    ):
        print(line)
    if refused:
        print(f"deep capture refused: {refused}")
    return 1 if refused or unreadable else 0
