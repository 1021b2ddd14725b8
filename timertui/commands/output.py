"""Plain-text tables and JSON for the subcommands."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timertui.gaps import GapReport
    from timertui.model import Container, IntervalTimer, ProcessTimers, Timer, TimerFd


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: str = "") -> str:
    """Columns sized to their content; headers named in `right` are right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    aligned = [h in right.split(",") for h in headers]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, aligned, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in cells)])


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: str = "") -> None:
    print(format_table(headers, rows, right))


def _ns(ns: int) -> str:
    return f"{ns / 1e9:.6f}s"


def timers_table(timers: Sequence[Timer]) -> str:
    """One row per timer, decoded; value columns only when some timer has deep values."""
    from timertui.capture.describe import clock_text, notify_text, signal_text

    deep = any(t.values is not None for t in timers)
    headers = ["ID", "CLOCK", "NOTIFY", "SIGNAL", "SIGVAL"]
    if deep:
        headers += ["REMAINING", "INTERVAL", "OVERRUN"]
    rows = []
    for t in timers:
        row: list[object] = [t.id, clock_text(t), notify_text(t), signal_text(t), f"0x{t.sigval:x}"]
        if deep:
            v = t.values
            row += (
                ["-", "-", "-"]
                if v is None
                else [_ns(v.remaining_ns), _ns(v.interval_ns), v.overrun]
            )
        rows.append(row)
    return format_table(headers, rows, right="ID,REMAINING,INTERVAL,OVERRUN")


def timerfds_table(timerfds: Sequence[TimerFd]) -> str:
    """One row per timerfd: its fd, clock, pending ticks, flags and times."""
    from timertui.capture.describe import timerfd_flags_text
    from timertui.clocks import decode_clock

    rows = [
        [
            t.fd,
            decode_clock(t.clock).name,
            t.ticks,
            timerfd_flags_text(t),
            _ns(t.remaining_ns),
            _ns(t.interval_ns),
            "stalled: fired, not read (CRIU #3162)" if t.stalled_periodic else "",
        ]
        for t in timerfds
    ]
    headers = ("FD", "CLOCK", "TICKS", "FLAGS", "REMAINING", "INTERVAL", "NOTE")
    return format_table(headers, rows, right="FD,TICKS,REMAINING,INTERVAL")


def itimers_table(itimers: Sequence[IntervalTimer]) -> str:
    """One row per interval timer, its timeval fields as the kernel keeps them."""
    rows = [
        [t.name, f"{t.value_s}.{t.value_us:06d}s", f"{t.interval_s}.{t.interval_us:06d}s"]
        for t in itimers
    ]
    return format_table(("ITIMER", "VALUE", "INTERVAL"), rows, right="VALUE,INTERVAL")


def kinds_lines(proc: ProcessTimers) -> list[str]:
    """A process's timerfds, interval timers (when read) and what could not be read of them."""
    lines = []
    if proc.timerfds:
        lines += [f"timerfds: {len(proc.timerfds)}", timerfds_table(proc.timerfds)]
    if proc.itimers is not None:
        armed = [t for t in proc.itimers if t.armed]
        lines.append(f"interval timers: {len(armed)} armed")
        if armed:
            lines.append(itimers_table(armed))
    return lines + [f"unreadable: {problem}" for problem in proc.problems]


def gap_view(report: GapReport) -> dict[str, Any]:
    walk = report.walk
    largest = report.largest_gap
    return {
        "ids": list(report.ids),
        "gaps": [{"start": g.start, "length": g.length} for g in report.gaps],
        "largest_gap": None
        if largest is None
        else {"start": largest.start, "length": largest.length},
        "density": report.density,
        "walk": {
            "start_counter": walk.start_counter,
            "creates": walk.creates,
            "deletes": walk.deletes,
            "wrap_needed": walk.wrap_needed,
            "wrap_extra_creates": walk.wrap_extra_creates,
            "end_counter": walk.end_counter,
        },
    }


def gap_lines(report: GapReport) -> list[str]:
    """What the gaps cost, in words: the figures `show` and `inspect` print under the table."""
    from timertui.gaps import gap_map
    from timertui.words import counted

    if not report.ids:
        return ["no timers"]
    walk = report.walk
    lines = [f"ID map 0..{report.ids[-1]:,}: [{gap_map(report.ids)}]"]
    largest = report.largest_gap
    gaps = counted(len(report.gaps), "gap")
    if largest is not None:
        gaps += f", largest {largest.start:,}..{largest.end:,} ({counted(largest.length, 'ID')})"
    lines.append(f"{gaps}; density {report.density:.3g}")
    lines.append(
        f"legacy walk from counter {walk.start_counter:,}: {counted(walk.creates, 'create')}, "
        f"{counted(walk.deletes, 'delete')}"
        + (" (needs a wrap past INT_MAX)" if walk.wrap_needed else "")
    )
    return lines


def process_header(proc: ProcessTimers) -> str:
    limit = "" if proc.sigpending is None else f"  RLIMIT_SIGPENDING {proc.sigpending[0]}"
    state = "" if proc.access.value == "ok" else f"  [{proc.access.value}]"
    who = proc.user or proc.uid
    inner = "" if proc.ns_pid is None else f" (pid {proc.ns_pid} in its namespace)"
    container = "" if proc.container is None else f"\n  {container_text(proc.container)}"
    return (
        f"PID {proc.pid}{inner}  ppid {proc.ppid}  user {who}  threads {len(proc.tids)}  "
        f"timers {len(proc.timers)}{limit}{state}\n  {proc.command}{container}"
    )


def container_text(c: Container) -> str:
    """'podman container timers-ct (f6dd15e62e0f), image localhost/timers:1, runc', with the
    pod and namespace of a Kubernetes one."""
    parts = [f"{c.runtime} container {c.k8s_name or c.name or c.short_id} ({c.short_id})"]
    if c.pod:
        parts.append(f"pod {c.namespace + '/' if c.namespace else ''}{c.pod}")
    if c.image:
        parts.append(f"image {c.image}")
    if c.oci_runtime:
        parts.append(c.oci_runtime)
    return ", ".join(parts)
