"""CRIU's own logs in the app: each log's outcome and time, the error that failed it with what it
means and what to check, every error (highlighted) and warning, the phases and the processes'
times. The reports come from timertui.criulog, read in a worker by whoever opens the screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from timertui.criulog.report import SUCCEEDED, LogLine, LogReport
from timertui.tui.screens.base import AppScreen
from timertui.tui.widgets.keys_footer import KeysFooter
from timertui.words import duration_text


class LogScreen(AppScreen):
    """The CRIU logs found at one path (a log file, an image directory, an archive)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="log.back"),
    ]

    def __init__(self, path: str, reports: list[LogReport]) -> None:
        super().__init__()
        self.path = path
        self.reports = reports

    def compose(self) -> ComposeResult:
        yield Static(f"CRIU logs in {self.path}", id="log-head", markup=False)
        with VerticalScroll(id="log-body"):
            for report in self.reports:
                for text, kind in report_lines(report):
                    yield Static(text, classes=f"log-{kind}", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#log-body").focus()

    def action_back(self) -> None:
        self.app.pop_screen()


def report_lines(report: LogReport) -> list[tuple[str, str]]:
    """One log as the screen shows it: (text, kind) lines, the kind naming its CSS class
    (log-title, log-failed, log-cause, log-error, log-warning, log-heading, log-line; colours
    from the theme in app.tcss, and the words say it too, for NO_COLOR)."""
    lines = [(report.name, "title")]
    took = "" if report.total is None else f" after {duration_text(report.total * 1e9)}"
    version = f"  (CRIU {report.version})" if report.version else ""
    outcome = f"{report.kind or 'CRIU'} {report.outcome}{took}{version}"
    lines.append((outcome, "title" if report.outcome == SUCCEEDED else "failed"))
    cause = report.first_error
    if cause is not None:
        lines.append((f"failed at: {_where(cause)}", "cause"))
        if cause.explanation is not None:
            e = cause.explanation
            lines += [(f"  {e.title}", "cause"), (f"  {e.detail}", "line")]
            lines.append((f"  check: {e.check}  [{e.source}]", "line"))
    for line in report.errors:
        lines.append((f"error  {_where(line)}", "error"))
        if line.explanation is not None and line is not cause:
            lines.append((f"       {line.explanation.title}", "line"))
    if report.more_errors:
        lines.append((f"       … and {report.more_errors:,} more errors", "error"))
    lines += [(f"warn   {_where(line)}", "warning") for line in report.warnings]
    if report.phases:
        lines.append(("phases", "heading"))
        lines += [
            (f"  {p.name:<28} {duration_text(p.seconds * 1e9):>10}", "line") for p in report.phases
        ]
    if report.tasks:
        lines.append(("processes", "heading"))
        for task in report.tasks:
            marks = [
                f"{name} {duration_text(value * 1e9)}"
                for name, value in (
                    ("forked", task.forked),
                    ("restorer", task.restorer),
                    ("restored", task.restored),
                    ("dumped", task.dumped),
                )
                if value is not None
            ]
            lines.append((f"  pid {task.pid}: {', '.join(marks) or 'no milestones'}", "line"))
    return lines


def _where(line: LogLine) -> str:
    at = "" if line.time is None else f" ({duration_text(line.time * 1e9)})"
    pid = "" if line.pid is None else f" pid {line.pid}"
    source = f" {line.where}" if line.where else ""
    number = f"line {line.line}" if line.line else "line ?"
    return f"{number}{at}{pid}{source}: {line.text}"


def criu_timing(reports: list[LogReport], pid: int) -> tuple[str, ...]:
    """CRIU's own restore beside the replay's timing: the restore log's outcome and total, and
    the process's span from the restorer's start to restored (its timers are made there)."""
    restore = next((r for r in reports if r.kind == "restore"), None)
    task = next((task for task in restore.tasks if task.pid == pid), None) if restore else None
    if restore is None or restore.total is None or task is None:
        return ()  # no restore log of this process
    name = restore.name.rpartition("/")[2]
    lines = [f"CRIU      {restore.outcome} in {duration_text(restore.total * 1e9)} ({name})"]
    if task.restorer is not None and task.restored is not None:
        span = duration_text((task.restored - task.restorer) * 1e9)
        lines.append(f"  restorer to restored {span} (pid {pid}; timers made there)")
    return tuple(lines)
