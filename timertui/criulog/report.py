"""What a CRIU log says, as plain frozen records: its lines that matter (errors, warnings), the
timeline of its phases and of each process, and its outcome. No I/O here."""

from __future__ import annotations

from timertui.records import record

# What a run ended as, by the log's own last word.
SUCCEEDED = "succeeded"  # "... finished successfully"
FAILED = "failed"  # "Restoring FAILED." / "Dumping FAILED." / "Pre-dumping FAILED."
UNFINISHED = "unfinished"  # timestamps, but no outcome line: the log (or CRIU) was cut short
UNKNOWN = "unknown"  # no timestamps: written at -v2 or lower, which logs no outcome on success


@record
class Explanation:
    """A known CRIU error in plain words, true to the CRIU source that prints it."""

    key: str  # stable: "posix-timer-create", "fork-pid-taken", ...
    title: str  # one line: what went wrong
    detail: str  # why CRIU says it (what the source does at that line)
    check: str  # what to look at or do
    source: str  # "criu/pie/restorer.c:1293" in CRIU 4.2
    role: str = "cause"  # "cause", "harmless" (CRIU carries on) or "follow-on" (the cause is above)


@record
class LogLine:
    """One line of the log that matters."""

    line: int  # 1-based; 0 where not counted (the success line: counting to the end costs a pass)
    time: float | None  # seconds since CRIU started; None in a log without timestamps
    pid: int | None  # the task the line is about: its "     N: " prefix or the restorer's "pie: N:"
    level: str  # "error", "warn" or "info"
    where: str  # CRIU's source file:line for errors and warnings, else ""
    restorer: bool  # written by the restorer blob inside the task ("pie:")
    text: str  # the message after the prefixes, printable, cut at MAX_TEXT characters
    explanation: Explanation | None = None


@record
class Phase:
    """A span of the run between two of CRIU's own milestone lines."""

    name: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@record
class TaskTimes:
    """One process's milestones. Restore: forked (the "Forking task with N pid" line), restorer
    (the restorer blob took over: "pie: N: Switched to the restorer N"), restored (its "N:
    Restored"). Dump: dumped (its "Dumping task (pid: N ...)" line) and, as the end, the next
    task's start or the run's end."""

    pid: int
    forked: float | None = None
    restorer: float | None = None
    restored: float | None = None
    dumped: float | None = None
    dump_end: float | None = None


@record
class LogReport:
    name: str  # the file, or ARCHIVE:MEMBER
    kind: str  # "restore", "dump", "pre-dump" or "" where the log does not say
    outcome: str  # SUCCEEDED, FAILED, UNFINISHED or UNKNOWN
    outcome_line: LogLine | None  # the line that says it
    version: str  # "4.2 (gitid v4.2)", or ""
    kernel: str  # the "Running on ..." line, or ""
    total: float | None  # seconds from CRIU's start to the log's last timestamp
    size: int  # bytes
    errors: tuple[LogLine, ...]  # in log order, at most MAX_KEPT
    warnings: tuple[LogLine, ...]
    more_errors: int  # errors past MAX_KEPT, counted only
    more_warnings: int
    phases: tuple[Phase, ...]
    tasks: tuple[TaskTimes, ...]  # by first appearance; at most MAX_TASKS
    cut_last_line: bool  # the last line has no newline: the log was cut mid-write
    long_lines: int  # lines over the reader's line bound, read past

    @property
    def first_error(self) -> LogLine | None:
        """The error that failed the run: the first one CRIU does not carry on from."""
        for err in self.errors:
            if err.explanation is None or err.explanation.role == "cause":
                return err
        for err in self.errors:
            if err.explanation.role != "harmless":  # type: ignore[union-attr]
                return err
        return None
