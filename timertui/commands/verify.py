"""`timertui verify CHECKPOINT [PID...]`: a restore that really happened, checked against its
checkpoint (timertui.verify): every timer kind compared, each periodic timer watched for a few
seconds without disturbing the process, a table per process or --json. Exit 0 when everything
is equal and alive, 1 for any difference or dead timer, 2 for bad input."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timertui.verify.findings import Finding, ProcessVerdict, Report


def register(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="check live restored processes against their checkpoint, and that their timers run",
        description="Compare a checkpoint (snapshot, CRIU image directory, crit JSON or "
        "container checkpoint archive) with the live processes it was restored as: every POSIX "
        "timer, timerfd and interval timer, its clock, notify target, signal, flags, interval "
        "and time left; then watch each periodic timer (never reading its timerfd nor taking "
        "its signals) and call it dead when it neither advances nor counts expirations. Exit 0 "
        "all equal and alive, 1 any difference or dead timer, 2 bad input.",
    )
    p.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="snapshot, CRIU image directory or archive"
    )
    p.add_argument(
        "pids",
        type=int,
        nargs="*",
        metavar="PID",
        help="the live processes, in the checkpoint's order (default: the same pids, as CRIU "
        "restores in place, or the checkpoint's container)",
    )
    p.add_argument(
        "--watch",
        type=_seconds,
        metavar="SECONDS",
        help="watch periodic timers this long (default: two periods of the slowest, at most "
        "3 s; 0: no watch)",
    )
    p.add_argument(
        "--container",
        metavar="NAME|ID",
        help="the live container the checkpoint was restored into: its processes are found "
        "by the pid they have inside it (NSpid)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (the final report)")
    p.set_defaults(func=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be 0..3600 seconds, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    from timertui.commands import output
    from timertui.sources import open_source
    from timertui.verify.age import checkpoint_age
    from timertui.verify.engine import verify
    from timertui.verify.pairing import pair_processes

    snapshot = open_source(args.checkpoint)
    pairings = pair_processes(snapshot, args.pids, args.container)
    watch_ns = None if args.watch is None else int(args.watch * 1e9)
    progress = _Progress() if not args.json and sys.stderr.isatty() else None
    report = None
    for report in verify(pairings, checkpoint_age(snapshot), watch_ns):
        if progress is not None:
            progress.show(report)
    assert report is not None  # verify yields at least once
    if progress is not None:
        progress.clear()
    if args.json:
        output.print_json(as_json(report, args.checkpoint))
    else:
        for i, verdict in enumerate(report.processes):
            if i:
                print()
            for line in verdict_lines(verdict):
                print(line)
        if report.elapsed_source:
            from timertui.words import duration_text

            age = report.processes[0].elapsed_ns or 0
            print(f"\ncheckpoint {duration_text(age)} ago ({report.elapsed_source})")
    return 0 if report.ok else 1


class _Progress:
    """The watch's progress on a terminal's stderr, one line rewritten."""

    def show(self, report: Report) -> None:
        if report.watch_ns:
            from timertui.verify.findings import Liveness

            watching = sum(f.liveness is Liveness.WATCHING for f in report.findings)
            sys.stderr.write(
                f"\r\x1b[Kwatching {watching} timer(s): "
                f"{report.watched_ns / 1e9:.1f} of {report.watch_ns / 1e9:.1f} s"
            )
            sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def verdict_lines(verdict: ProcessVerdict) -> list[str]:
    """One process: a headline, then a table of its findings."""
    from timertui.commands.output import format_table
    from timertui.verify.findings import Liveness
    from timertui.words import counted

    who = f"pid {verdict.live_pid} ({verdict.live_comm or verdict.comm})"
    if (verdict.live_pid, verdict.live_comm) != (verdict.checkpoint_pid, verdict.comm):
        who += f" as checkpoint pid {verdict.checkpoint_pid} ({verdict.comm})"
    if verdict.ok:
        stalled = sum(f.liveness is Liveness.STALLED for f in verdict.findings)
        waiting = f" ({stalled} stalled: fired, waiting to be read)" if stalled else ""
        head = f"{who}: {counted(len(verdict.findings), 'timer')}, all equal and alive{waiting}"
    else:
        parts = [counted(verdict.differing, "difference")] if verdict.differing else []
        parts += [f"{verdict.dead} dead"] if verdict.dead else []
        parts += [counted(len(verdict.problems), "problem")] if verdict.problems else []
        head = f"{who}: " + ", ".join(parts)
    lines = [head]
    if verdict.findings:
        rows = [
            [
                f.label,
                f.status.value,
                f.liveness.value or "-",
                ", ".join(d.text() for d in f.diffs) or "-",
                f"criu {f.criu_issue}" if f.criu_issue else "",
                f.notes,
            ]
            for f in verdict.findings
        ]
        lines.append(format_table(("TIMER", "STATUS", "LIVE", "DIFFERENCES", "CRIU", "NOTE"), rows))
    lines += [f"problem: {p}" for p in verdict.problems]
    return lines


def as_json(report: Report, checkpoint: str) -> dict[str, Any]:
    return {
        "checkpoint": checkpoint,
        "ok": report.ok,
        "checkpoint_age_ns": report.processes[0].elapsed_ns if report.processes else None,
        "checkpoint_age_source": report.elapsed_source or None,
        "watch_ns": report.watch_ns,
        "watched_ns": report.watched_ns,
        "processes": [
            {
                "checkpoint_pid": v.checkpoint_pid,
                "live_pid": v.live_pid,
                "comm": v.comm,
                "live_comm": v.live_comm,
                "ok": v.ok,
                "problems": list(v.problems),
                "findings": [finding_json(f) for f in v.findings],
            }
            for v in report.processes
        ],
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "key": f.key,
        "label": f.label,
        "status": f.status.value,
        "liveness": f.liveness.value or None,
        "ok": f.ok,
        "diffs": [{"field": d.name, "checkpoint": d.checkpoint, "live": d.live} for d in f.diffs],
        "notes": f.notes,
        "criu_issue": f.criu_issue or None,
    }
