"""`timertui snapshot PID... -o FILE`: capture processes' timers into a snapshot file."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("snapshot", help="save processes' timers to a snapshot file")
    p.add_argument("pids", type=int, nargs="+", metavar="PID", help="processes to capture")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="snapshot file to write")
    p.add_argument(
        "--deep",
        action="store_true",
        help="also save each timer's remaining time, interval and overrun (ptrace injection)",
    )
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import snapshot
    from timertui.capture import host, processes
    from timertui.commands.output import print_json
    from timertui.model import Access, Snapshot

    procs = tuple(processes.read_process(pid) for pid in dict.fromkeys(args.pids))
    refusals: dict[int, str] = {}
    if args.deep:
        from timertui.commands.deep import attach_values

        captured = []
        for read in procs:
            deep, refused = attach_values(read)
            captured.append(deep)
            if refused:
                refusals[read.pid] = refused
        procs = tuple(captured)
    for p in procs:
        # One that exited on the way is not saved half-read: nothing is written.
        if p.access is Access.GONE or (p.pid in refusals and processes.exited(p.pid)):
            raise processes.exited_meanwhile(p.pid)
    unreadable = [p for p in procs if p.access is not Access.OK]
    snap = Snapshot(host=host.host_facts(), times=host.capture_times(), processes=procs)
    snapshot.save(snap, args.output)
    timers = sum(len(p.timers) for p in procs)
    if args.json:
        print_json(
            {
                "file": args.output,
                "processes": [
                    {
                        "pid": p.pid,
                        "timers": len(p.timers),
                        "access": p.access.value,
                        "deep_refused": refusals.get(p.pid),
                    }
                    for p in procs
                ],
                "timers": timers,
            }
        )
    else:
        print(f"wrote {args.output}: {len(procs)} process(es), {timers} timer(s)")
        for p in unreadable:
            print(f"  pid {p.pid}: {p.access.value} (saved without timers)")
        for pid, reason in refusals.items():
            print(f"  pid {pid}: deep capture refused: {reason} (saved without values)")
    return 1 if unreadable or refusals else 0
