"""`timertui log FILE|IMAGE_DIR|ARCHIVE`: CRIU's own dump/restore logs, read and explained: the
outcome and total time, the errors first (each known one in plain words, with what to check),
the phases and each task's milestones. Exit 0 when every log says its run succeeded, 1 when one
failed or does not say, 2 for bad input."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

SHOWN_WARNINGS = 20


def register(sub: Any) -> None:
    p = sub.add_parser(
        "log",
        help="read and explain CRIU's dump.log / restore.log",
        description="Read CRIU's own logs (any -v level, any size: streamed) from a log file, "
        "a CRIU image directory or a container checkpoint archive: the outcome, the total "
        "time, the errors first with known ones explained, the phases and each task's "
        "milestones. Exit 0 if every log says its run succeeded, 1 if one failed or does not "
        "say, 2 for bad input.",
    )
    p.add_argument(
        "source", metavar="FILE|IMAGE_DIR|ARCHIVE", help="a CRIU log, image directory or archive"
    )
    p.add_argument("--json", action="store_true", help="print JSON (one document)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import criulog
    from timertui.commands import output

    reports = criulog.open_logs(args.source)
    status = 0 if all(r.outcome == criulog.SUCCEEDED for r in reports) else 1
    if args.json:
        output.print_json({"source": args.source, "logs": [as_json(r) for r in reports]})
        return status
    for i, report in enumerate(reports):
        if i:
            print()
        for line in report_lines(report):
            print(line)
    return status


def as_json(report: Any) -> dict[str, Any]:
    view = dataclasses.asdict(report)
    first = report.first_error
    view["first_error"] = None if first is None else dataclasses.asdict(first)
    return view


def report_lines(report: Any) -> list[str]:
    """The text of one log's report."""
    from timertui.words import counted

    kind = report.kind or "CRIU run"
    version = f"CRIU {report.version} " if report.version else ""
    total = "" if report.total is None else f" in {seconds(report.total)}"
    lines = [f"{report.name}: {version}{kind} {outcome_words(report)}{total}"]
    first = report.first_error
    if first is not None and report.outcome != "succeeded":
        lines.append(f"  failed at: {line_place(first)}: {first.text}")
        if first.explanation is not None:
            lines.append(f"  cause: {first.explanation.title}")
            lines.append(f"  check: {first.explanation.check}")
    if report.cut_last_line:
        lines.append("  the last line is cut off: the log ends mid-line")
    if report.long_lines:
        lines.append(f"  {counted(report.long_lines, 'line')} over 1 MiB, read past")
    if report.errors:
        extra = f" (+{report.more_errors:,} more)" if report.more_errors else ""
        lines.append("")
        lines.append(f"{counted(len(report.errors), 'error')}{extra}, in log order:")
        for err in report.errors:
            lines.extend(_entry(err))
    if report.warnings:
        extra = report.more_warnings + max(0, len(report.warnings) - SHOWN_WARNINGS)
        more = f" (+{extra:,} more)" if extra else ""
        lines.append("")
        lines.append(f"{counted(len(report.warnings) + report.more_warnings, 'warning')}{more}:")
        for warn in report.warnings[:SHOWN_WARNINGS]:
            lines.extend(_entry(warn))
    if report.phases:
        lines.append("")
        lines.append("phases:")
        rows = [(p.name, seconds(p.start), seconds(p.seconds)) for p in report.phases]
        lines.extend("  " + row for row in _table(("PHASE", "AT", "TOOK"), rows, "AT,TOOK"))
    if report.tasks:
        lines.append("")
        lines.extend(task_lines(report))
    return lines


def task_lines(report: Any, limit: int = 50) -> list[str]:
    tasks = report.tasks
    rows: list[tuple[Any, ...]]
    if report.kind == "dump":
        rows = [(t.pid, seconds(t.dumped), _span(t.dumped, t.dump_end)) for t in tasks[:limit]]
        headers: tuple[str, ...] = ("PID", "DUMPED AT", "TOOK (to the next)")
    else:
        rows = [
            (
                t.pid,
                seconds(t.forked),
                _span(t.forked, t.restorer),
                _span(t.restorer, t.restored),
                seconds(t.restored),
            )
            for t in tasks[:limit]
        ]
        headers = ("PID", "FORKED AT", "CRIU'S PART", "RESTORER (timers inside)", "RESTORED AT")
    out = [f"{len(tasks):,} task(s):"]
    out += ["  " + row for row in _table(headers, rows, ",".join(headers))]
    if len(tasks) > limit:
        out.append(f"  ... {len(tasks) - limit:,} more (--json has them all)")
    return out


def outcome_words(report: Any) -> str:
    return {
        "succeeded": "succeeded",
        "failed": "FAILED",
        "unfinished": "did not finish (no outcome line: the log, or CRIU, was cut short)",
        "unknown": "outcome not logged (no timestamps: written at -v2 or below)",
    }[report.outcome]


def line_place(entry: Any) -> str:
    parts = [
        f"line {entry.line}" if entry.line else "",
        seconds(entry.time) if entry.time is not None else "",
    ]
    if entry.pid is not None:
        parts.append(f"{'restorer of ' if entry.restorer else ''}pid {entry.pid}")
    return ", ".join(p for p in parts if p)


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.3f} ms" if value < 1 else f"{value:.3f} s"


def _span(start: float | None, end: float | None) -> str:
    return "-" if start is None or end is None else seconds(end - start)


def _entry(entry: Any) -> list[str]:
    where = f" ({entry.where})" if entry.where else ""
    out = [f"  {line_place(entry)}{where}: {entry.text}"]
    exp = entry.explanation
    if exp is not None:
        tag = {"harmless": " [harmless]", "follow-on": " [follows from the error above]"}.get(
            exp.role, ""
        )
        out.append(f"    = {exp.title}{tag}")
        if exp.role == "cause":
            out.append(f"      why: {exp.detail}")
            out.append(f"      check: {exp.check}")
        out.append(f"      (CRIU 4.2 {exp.source})")
    return out


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]], right: str) -> list[str]:
    from timertui.commands.output import format_table

    return format_table(headers, rows, right).splitlines()
