"""`timertui show PID`: one process's timers, decoded, with its ID gaps and legacy-walk cost."""

from __future__ import annotations

import argparse
from typing import Any

from timertui.commands.hosts import add_host_argument


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="show one process's timers (POSIX, timerfd, interval), decoded")
    p.add_argument("pid", type=int, help="process ID")
    p.add_argument(
        "--deep",
        action="store_true",
        help="also read each timer's remaining time, interval and overrun, and the interval "
        "timers (ptrace injection)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    add_host_argument(p, deep=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import gaps
    from timertui.capture import describe, processes
    from timertui.commands import output
    from timertui.model import Access

    refused = None
    if args.deep:
        from timertui.capture.inject import attach_values
    if args.host is not None:
        from timertui.commands.hosts import remote

        with remote(args) as there:
            proc = there.read_process(args.pid)
            if proc.access is not Access.GONE and args.deep:
                proc, refused = attach_values(proc, there.capture_values)  # by timertui there
            if proc.access is Access.GONE or (refused and there.exited(args.pid)):
                raise processes.NoSuchProcess(
                    f"{there.label}: process {args.pid} exited while it was being read"
                )
    else:
        from timertui.commands.hosts import refuse_stray_options

        refuse_stray_options(args)
        proc = processes.read_process(args.pid)
        if args.deep:
            proc, refused = attach_values(proc)
        if proc.access is Access.GONE or (refused and processes.exited(args.pid)):
            raise processes.exited_meanwhile(args.pid)
    report = gaps.analyze(t.id for t in proc.timers)
    unreadable = proc.access is not Access.OK
    if args.json:
        view = describe.process_view(proc)
        if args.host is not None:
            view["host"] = there.label
        view["gaps"] = output.gap_view(report)
        if args.deep:
            view["deep"] = {"refused": refused}
        output.print_json(view)
        return 1 if refused or unreadable else 0
    if args.host is not None:
        print(f"host {there.label}")
    print(output.process_header(proc))
    if proc.timers:
        print(output.timers_table(proc.timers))
    for line in output.kinds_lines(proc):
        print(line)
    for line in (
        [f"timers unreadable: {proc.access.value}"] if unreadable else output.gap_lines(report)
    ):
        print(line)
    if refused:
        print(f"deep capture refused: {refused}")
    return 1 if refused or unreadable else 0
