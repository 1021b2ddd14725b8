"""`timertui snapshot PID... [-o FILE]`: capture processes' timers into a snapshot file; by
default into the app's snapshot folder, named after the first process and the time."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

from timertui.commands.hosts import add_host_argument
from timertui.model import Access

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from timertui.capture.inject import DeepCapture
    from timertui.model import ProcessTimers


def register(sub: Any) -> None:
    p = sub.add_parser("snapshot", help="save processes' timers to a snapshot file")
    p.add_argument("pids", type=int, nargs="+", metavar="PID", help="processes to capture")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="snapshot file to write (default: PID-COMM-YYYYmmdd-HHMMSS.ttsnap in"
        " $XDG_DATA_HOME/timertui/snapshots, the app's snapshot folder)",
    )
    p.add_argument(
        "--deep",
        action="store_true",
        help="also save each timer's remaining time, interval and overrun (ptrace injection)",
    )
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_host_argument(p, deep=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import snapshot_file
    from timertui.capture import host, processes
    from timertui.commands.output import print_json
    from timertui.model import Snapshot
    from timertui.words import counted

    refusals: dict[int, str] = {}
    if args.host is not None:
        from timertui.commands.hosts import remote

        with remote(args) as there:
            snap = there.snapshot(args.pids)
            where = f" on {there.label}"
            procs = snap.processes
            if args.deep:  # by the timertui there
                procs = _deepen(procs, refusals, there.capture_values)
            _check_read(procs, refusals, there.exited, where)
        snap = dataclasses.replace(snap, processes=procs)
    else:
        from timertui.commands.hosts import refuse_stray_options

        refuse_stray_options(args)
        where = ""
        procs = tuple(processes.read_process(pid) for pid in dict.fromkeys(args.pids))
        if args.deep:
            procs = _deepen(procs, refusals)
        _check_read(procs, refusals, processes.exited, where)
        snap = Snapshot(host=host.host_facts(), times=host.capture_times(), processes=procs)
    unreadable = [p for p in procs if p.access is not Access.OK]
    path = args.output or str(_default_path(procs))
    snapshot_file.save(snap, path)
    timers = sum(len(p.timers) for p in procs)
    if args.json:
        print_json(
            {
                "file": path,
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
                "source": snap.source,
            }
        )
    else:
        print(f"wrote {path}: {counted(len(procs), 'process')}, {counted(timers, 'timer')}{where}")
        for p in unreadable:
            print(f"  pid {p.pid}: {p.access.value} (saved without timers)")
        for pid, reason in refusals.items():
            print(f"  pid {pid}: deep capture refused: {reason} (saved without values)")
    return 1 if unreadable or refusals else 0


def _deepen(
    procs: tuple[ProcessTimers, ...],
    refusals: dict[int, str],
    capture_with: Callable[..., DeepCapture] | None = None,
) -> tuple[ProcessTimers, ...]:
    """`procs` with their deep values; each refusal noted in `refusals` by pid."""
    from timertui.capture.inject import attach_values

    captured = []
    for read in procs:
        if read.access is Access.GONE:
            captured.append(read)  # _check_read refuses it: it exited
            continue
        deep, refused = attach_values(read, capture_with)
        captured.append(deep)
        if refused:
            refusals[read.pid] = refused
    return tuple(captured)


def _check_read(
    procs: tuple[ProcessTimers, ...],
    refusals: dict[int, str],
    exited: Callable[[int], bool],
    where: str,
) -> None:
    """One that exited on the way is not saved half-read: nothing is written."""
    from timertui.capture.processes import NoSuchProcess

    for p in procs:
        if p.access is Access.GONE or (p.pid in refusals and exited(p.pid)):
            raise NoSuchProcess(f"process {p.pid}{where} exited while it was being read")


def _default_path(procs: Any) -> Path:
    """A new file in the snapshot folder (made, private, if missing). Never an existing one:
    two snapshots of a process within a second get "-2", "-3" and so on."""
    from timertui import locations
    from timertui.snapshot_file import SnapshotError

    folder = locations.snapshot_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise SnapshotError(f"{folder}: cannot create: {exc.strerror or exc}") from None
    first = procs[0]
    name = locations.snapshot_name(first.pid, first.comm, len(procs) - 1)
    stem, suffix = name.removesuffix(locations.SNAPSHOT_SUFFIX), locations.SNAPSHOT_SUFFIX
    path, copy = folder / name, 1
    while path.exists():
        copy += 1
        path = folder / f"{stem}-{copy}{suffix}"
    return path
