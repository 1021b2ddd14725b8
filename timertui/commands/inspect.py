"""`timertui inspect FILE|CRIU_DIR`: a snapshot's or CRIU image's timers, gaps and walk cost."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("inspect", help="show a snapshot file's or CRIU image directory's timers")
    p.add_argument(
        "source", metavar="FILE|CRIU_DIR", help="snapshot file, CRIU images or crit JSON"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import gaps, snapshot_file, sources
    from timertui.capture import describe
    from timertui.commands import output
    from timertui.words import counted

    snap = sources.open_source(args.source)
    problems = snapshot_file.validate(snap)
    # Analysis of a process needs valid IDs; a process with bad ones is reported, not analysed.
    bad_pids = {p.pid for p in snap.processes if _bad_ids(p.timers)}
    reports = {
        p.pid: gaps.analyze(t.id for t in p.timers) for p in snap.processes if p.pid not in bad_pids
    }
    if args.json:
        procs = []
        for p in snap.processes:
            view = describe.process_view(p)
            report = reports.get(p.pid)
            view["gaps"] = None if report is None else output.gap_view(report)
            procs.append(view)
        output.print_json(
            {
                "source": snap.source,
                "host": dataclasses.asdict(snap.host),
                "times": dataclasses.asdict(snap.times),
                "processes": procs,
                "problems": [{"path": pr.path, "message": pr.message} for pr in problems],
            }
        )
        return 1 if problems else 0
    print(f"{args.source}: {_origin(snap)}; {counted(len(snap.processes), 'process')}")
    for p in snap.processes:
        print()
        print(output.process_header(p))
        if p.timers:
            print(output.timers_table(p.timers))
        for line in output.kinds_lines(p):
            print(line)
        report = reports.get(p.pid)
        for line in output.gap_lines(report) if report else ["IDs invalid: see problems"]:
            print(line)
    if problems:
        print(f"\n{counted(len(problems), 'problem')}:")
        for pr in problems:
            print(f"  {pr}")
    return 1 if problems else 0


def _origin(snap: Any) -> str:
    """What the file holds, in words: a container's checkpoint, CRIU's images, or a snapshot with
    its host and time (a snapshot's `source` is "live", which named where it was taken from, not
    what it is now)."""
    from timertui.commands import output

    host = snap.host
    if snap.source.startswith("archive:"):
        container = snap.processes[0].container if snap.processes else None
        what = "container checkpoint" if container is None else output.container_text(container)
        return f"{what}, checkpointed {_when(snap.times.realtime_ns)}"
    if snap.source.startswith("criu:"):
        return "CRIU images" + (f" ({host.machine})" if host.machine else "")
    when = _when(snap.times.realtime_ns)
    return f"snapshot taken {when} on {host.hostname or '?'} (kernel {host.kernel_release or '?'})"


def _when(realtime_ns: int) -> str:
    import datetime

    taken = datetime.datetime.fromtimestamp(realtime_ns / 1e9) if realtime_ns else None
    return f"{taken:%Y-%m-%d %H:%M:%S}" if taken else "at an unknown time"


def _bad_ids(timers: Any) -> bool:
    from timertui.model import INT_MAX

    ids = [t.id for t in timers]
    return len(set(ids)) != len(ids) or any(not 0 <= i <= INT_MAX for i in ids)
