"""`timertui ps`: processes with POSIX timers (or all), with their ID gaps and legacy-walk cost.

The same processes and column names as the app's process table: processes whose timers we may
not read are listed too (as "no access"), and the columns say HIGHEST ID and WALK COST. The JSON
keys are describe.process_view's, unchanged. CONTAINER, there when a listed process is in a
container, is the container's name (or short id), with its pod in front for Kubernetes';
`--container` keeps the processes of the containers whose name, Kubernetes name, pod or id (or id
prefix) it gives."""

from __future__ import annotations

import argparse
from typing import Any

from timertui.commands.hosts import add_host_argument


def register(sub: Any) -> None:
    p = sub.add_parser("ps", help="list processes with POSIX timers")
    p.add_argument("--all", action="store_true", help="list every process, with or without timers")
    p.add_argument(
        "--container",
        metavar="NAME|ID",
        help="only processes of this container (name, pod, or id prefix)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    add_host_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.host is not None:
        from timertui.commands.hosts import remote

        with remote(args) as there:  # ssh connects while the rest loads
            procs = there.scan(include_all=args.all, include_unreadable=True)
        return _list(args, procs)
    from timertui.capture import processes

    # As the app lists them.
    return _list(args, processes.scan(include_all=args.all, include_unreadable=True))


def _list(args: argparse.Namespace, procs: list[Any]) -> int:
    from timertui import gaps
    from timertui.capture import describe
    from timertui.commands.output import print_json, print_table

    if args.container is not None:
        procs = [
            p for p in procs if p.container is not None and _named(p.container, args.container)
        ]
    if args.json:
        print_json([describe.process_view(p) for p in procs])
        return 0
    # A host without containers keeps the app's columns; with one, each row says where it runs.
    contained = any(p.container is not None for p in procs)
    # Timerfds the same way: a column once a listed process has one (interval timers take a
    # deep capture, which ps does not do: `show --deep`).
    with_fds = any(p.timerfds for p in procs)
    rows = []
    for p in procs:
        ids = [t.id for t in p.timers]
        report = gaps.analyze(ids) if ids else None
        container = ("" if p.container is None else p.container.label,) if contained else ()
        rows.append(
            (
                p.pid,
                p.user,
                len(p.tids),
                len(ids) if p.access.value == "ok" else p.access.value,
                *((len(p.timerfds),) if with_fds else ()),
                f"{max(ids):,}" if ids else "",
                len(report.gaps) if report else "",
                f"{report.walk.creates:,}" if report else "",
                *container,
                p.command[:80],
            )
        )
    print_table(
        (
            "PID",
            "USER",
            "THR",
            "TIMERS",
            *(("TIMERFDS",) if with_fds else ()),
            "HIGHEST ID",
            "GAPS",
            "WALK COST",
            *(("CONTAINER",) if contained else ()),
            "COMMAND",
        ),
        rows,
        right="PID,THR,TIMERS,TIMERFDS,HIGHEST ID,GAPS,WALK COST",
    )
    return 0


def _named(container: Any, wanted: str) -> bool:
    """Whether `wanted` names the container: its name, Kubernetes name, pod or label, or a
    prefix (of 3 or more characters) of its id."""
    names = (container.name, container.k8s_name, container.pod, container.label)
    return wanted in names or (len(wanted) >= 3 and container.id.startswith(wanted))
