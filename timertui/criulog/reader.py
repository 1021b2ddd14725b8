"""One streamed pass over a CRIU log (criu/log.c, compel/plugins/std/log.c), in bounded memory.

CRIU's line: at -v3 and above a time prefix `(SS.uuuuuu) ` (seconds since CRIU started; from 100 s
on, criu/log.c's fixed-width buffer loses the last microsecond digit: `(123.45678) `); lines of a
forked task being restored then carry its pid as `%6d: `; the restorer blob inside a task writes
`pie: TID: `; errors and warnings add `Error (FILE:LINE): ` / `Warn  (FILE:LINE): `. At -v2 and
below there are no times, only errors and warnings.

Nothing is kept per line: the log is read in chunks and searched, in C (bytes.find), for the few
literals that mark the lines that matter (errors, warnings, the outcome, each task's milestones),
so a 100 MB -v4 log costs about what a bare Python loop over its lines costs. Only those lines are
decoded. Their line numbers are counted afterwards, up to the last one kept."""

from __future__ import annotations

import dataclasses
import re
from typing import BinaryIO

from timertui.criulog import explain as known
from timertui.criulog.report import (
    FAILED,
    SUCCEEDED,
    UNFINISHED,
    UNKNOWN,
    LogLine,
    LogReport,
    Phase,
    TaskTimes,
)
from timertui.errors import InputError

CHUNK = 4 << 20
MAX_LINE = 1 << 20  # a line longer than this is read past: only its first MAX_LINE bytes count
MAX_TEXT = 2000  # characters of a kept line's message
MAX_KEPT = 1000  # errors, and warnings, kept with their text; the rest are counted
MAX_TASKS = 50_000
HEAD = 64 << 10  # the run's header lines (version, kernel) are in this much of the start

_ERROR, _WARN, _DONE = b"Error (", b"Warn  (", b"finished successfully"
_FORK, _SIGRETURN, _RESTORED = b"Forking task with ", b"Restore via sigreturn", b": Restored\n"
_DUMP_TASK = b"Dumping task (pid: "
TAIL = 1 << 20  # the outcome line is among the last lines: searched for in this much of the end
# Each kind's first milestone, searched until found once: it is near the start.
_EARLY = {
    "restore": b"Reading image tree",
    "dump": b"Dumping processes (pid: ",
    "pre-dump": b"Pre-dumping tasks' memory",
}
_NEEDLES = {
    "restore": (_ERROR, _WARN, _FORK, _SIGRETURN, _RESTORED),
    "dump": (_ERROR, _WARN, _DUMP_TASK),
    "pre-dump": (_ERROR, _WARN),
    "": (_ERROR, _WARN, _FORK, _SIGRETURN, _RESTORED, _DUMP_TASK),
}

_LINE = re.compile(
    rb"(?:\((\d{1,10})\.(-?\d{1,9})\) )?"  # time
    rb"(?:(pie: )(?:(\d{1,10}): )?|( *\d{1,10}): )?"  # the restorer's tid, or a task's "%6d: "
    rb"(?:(Error|Warn ) \((.{0,300}?):(\d{1,9})\): )?"  # level and CRIU's source line
)
_TIME = re.compile(rb"\((\d{1,10})\.(-?\d{1,9})\) ")
_FIRST_LINE = re.compile(rb"\(\d{1,10}\.-?\d{1,9}\) |(?:pie: (?:\d{1,10}: )?)?(?:Error|Warn ) \(")
_PID_ARG = re.compile(rb"(\d{1,10})")
_RESTORED_PID = re.compile(rb"(\d{1,10}): Restored\s*$")
_DONE_KIND = {b"Restore": "restore", b"Dumping": "dump", b"Pre-dumping": "pre-dump"}
_FAILED_KIND = {
    "Restoring FAILED.": "restore",
    "Dumping FAILED.": "dump",
    "Pre-dumping FAILED.": "pre-dump",
}
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


class LogError(InputError):
    """Not a CRIU log, or none to be found; the message names the file."""


def read_log(raw: BinaryIO, name: str, kind_hint: str = "") -> LogReport:
    """The report of the CRIU log read from `raw` (a binary stream at its start). `kind_hint`
    ("restore", "dump") comes from the file's name, used when the log itself does not say.
    LogError when it is empty or not a CRIU log."""
    scan = _Scan(name, kind_hint)
    try:
        scan.run(raw)
    except OSError as exc:
        raise LogError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return scan.report(raw)


class _Scan:
    def __init__(self, name: str, kind_hint: str) -> None:
        self.name = name
        self.kind = ""
        self.kind_hint = kind_hint
        self.needles: tuple[bytes, ...] = _NEEDLES[""]
        self.early: list[bytes] = []
        self.marks: dict[bytes, float | None] = {}
        self.version = self.kernel = ""
        self.timestamps = False
        self.size = 0
        self.cut_last_line = False
        self.long_lines = 0
        self.last_time: float | None = None
        # (offset, LogLine) of errors and warnings kept; counted past MAX_KEPT.
        self.errors: list[tuple[int, LogLine]] = []
        self.warnings: list[tuple[int, LogLine]] = []
        self.more_errors = self.more_warnings = 0
        self.outcome = ""
        self.outcome_at: tuple[int, LogLine] | None = None
        self.tasks: dict[int, dict[str, float | None]] = {}
        self.dump_order: list[tuple[float | None, int]] = []

    # --- the pass ---------------------------------------------------------------------------

    def run(self, raw: BinaryIO) -> None:
        base = 0  # offset of buf[0] in the file
        continued = False  # buf starts inside a line already read past
        buf = b""
        while True:
            raw.seek(base)
            buf = raw.read(CHUNK)
            if not buf:
                break
            if not base:
                self._start(buf)
            end = buf.rfind(b"\n") + 1
            if not end and len(buf) == CHUNK:
                # A line longer than a chunk: its start counts, the rest is read past.
                if not continued:
                    self._search(buf, len(buf), base)
                    self.long_lines += 1
                continued = True
                base += len(buf)
                continue
            if not end:  # the last line, without its newline
                break
            start = 0
            if continued:
                start = buf.find(b"\n") + 1
                continued = False
            self._search(buf, end, base, start)
            self._last_time(buf, end)
            base += end
            if len(buf) < CHUNK:
                buf = buf[end:]
                break
        if not base and not buf:
            raise LogError(f"{self.name}: empty file")
        if buf and not continued:  # a last line cut mid-write
            if not base:
                self._start(buf)
            self._search(buf, len(buf), base)
            self._last_time(buf + b"\n", len(buf) + 1)
        self.cut_last_line = bool(buf) or continued
        self.size = base + len(buf)
        self._outcome(raw)

    def _outcome(self, raw: BinaryIO) -> None:
        """ "... finished successfully", looked for in the log's last TAIL bytes."""
        if self.outcome == FAILED:
            return
        start = max(0, self.size - TAIL)
        raw.seek(start)
        tail = raw.read(TAIL)
        at = tail.rfind(_DONE)
        if at < 0:
            return
        line_start = tail.rfind(b"\n", 0, at) + 1
        if not line_start and start:
            return  # the line begins before the tail: not one of the last lines
        line_end = tail.find(b"\n", at)
        self._line(tail[line_start : len(tail) if line_end < 0 else line_end], start + line_start)

    def _start(self, buf: bytes) -> None:
        """The first chunk: is this a CRIU log, which kind, and its header lines."""
        head = buf[:HEAD]
        first_line = head.lstrip(b"\n")[:200]
        if not _FIRST_LINE.match(first_line):
            raise LogError(
                f"{self.name}: not a CRIU log (its first line is neither a '(SS.uuuuuu) ' time "
                "nor an 'Error (' or 'Warn  (' line)"
            )
        self.timestamps = first_line.startswith(b"(")
        for kind, literal in _EARLY.items():
            if literal in head:
                self.kind = kind
                break
        self.kind = self.kind or self.kind_hint
        self.needles = _NEEDLES.get(self.kind, _NEEDLES[""])
        self.early = [_EARLY[self.kind]] if self.kind in _EARLY else list(_EARLY.values())
        for key, attr in ((b"Version: ", "version"), (b"Running on ", "kernel")):
            at = head.find(key)
            if at >= 0:
                line_end = head.find(b"\n", at)
                value = head[at + len(key) : line_end if line_end >= 0 else len(head)]
                setattr(self, attr, _printable(value.decode("utf-8", "replace"))[:200])

    def _search(self, buf: bytes, end: int, base: int, start: int = 0) -> None:
        starts: set[int] = set()
        for needle in self.needles:
            at = buf.find(needle, start, end)
            while at >= 0:
                starts.add(max(buf.rfind(b"\n", start, at) + 1, start))
                at = buf.find(needle, at + 1, end)
        for needle in self.early[:]:
            at = buf.find(needle, start, end)
            if at >= 0:
                self.early.remove(needle)
                starts.add(max(buf.rfind(b"\n", start, at) + 1, start))
        for line_start in sorted(starts):
            line_end = buf.find(b"\n", line_start, end)
            stop = end if line_end < 0 else line_end
            self._line(buf[line_start : min(stop, line_start + MAX_LINE)], base + line_start)

    def _last_time(self, buf: bytes, end: int) -> None:
        """The time of the last timestamped line in buf[:end]."""
        at = end
        for _ in range(64):  # lines without a time (a restorer's printf) are skipped over
            line_start = buf.rfind(b"\n", 0, at - 1) + 1
            m = _TIME.match(buf, line_start)
            if m:
                self.last_time = _seconds(m[1], m[2])
                return
            if line_start == 0:
                return
            at = line_start

    # --- one line that matters --------------------------------------------------------------

    def _line(self, raw: bytes, offset: int) -> None:
        m = _LINE.match(raw)
        if m is None:  # _LINE matches any line (every group is optional)
            return
        time = _seconds(m[1], m[2]) if m[1] is not None else None
        restorer = m[3] is not None
        pid = int(m[4]) if m[4] is not None else None
        body = raw[m.end() :]
        if m[5] is not None:
            if len(m[5]) >= 6:  # "%6d: "
                pid = int(m[5])
            elif m[6] is None:
                body = raw[m.start(5) :]  # digits that are not a task's prefix: the message's
        if m[6] is None:
            self._milestone(body, time, pid, offset, restorer)
            return
        level = "error" if m[6] == b"Error" else "warn"
        kept = self.errors if level == "error" else self.warnings
        text = _text(body)
        if text in _FAILED_KIND:
            self.kind = self.kind or _FAILED_KIND[text]
        elif len(kept) >= MAX_KEPT:
            if level == "error":
                self.more_errors += 1
            else:
                self.more_warnings += 1
            return
        where = f"{m[7].decode('utf-8', 'replace')}:{int(m[8])}"
        entry = LogLine(0, time, pid, level, where, restorer, text, known.explain(text))
        if text in _FAILED_KIND:
            self.outcome, self.outcome_at = FAILED, (offset, entry)
        if len(kept) < MAX_KEPT:
            kept.append((offset, entry))

    def _milestone(
        self, body: bytes, time: float | None, pid: int | None, offset: int, restorer: bool
    ) -> None:
        if body.startswith(_FORK):
            m = _PID_ARG.match(body, len(_FORK))
            if m:
                self._task(int(m[1]), "forked", time)
        elif body.startswith(_SIGRETURN):
            if pid is not None:
                self._task(pid, "restorer", time)
        elif restorer and (m := _RESTORED_PID.match(body)) is not None:
            if int(m[1]) in self.tasks:  # not a thread's own "TID: Restored"
                self._task(int(m[1]), "restored", time)
        elif body.startswith(_DUMP_TASK):
            m = _PID_ARG.match(body, len(_DUMP_TASK))
            if m:
                self._task(int(m[1]), "dumped", time)
                self.dump_order.append((time, int(m[1])))
        elif _DONE in body:
            kind = _DONE_KIND.get(body.split(b" ", 1)[0])
            if kind is not None and self.outcome != FAILED:
                self.kind = self.kind or kind
                line = LogLine(0, time, pid, "info", "", restorer, _text(body))
                self.outcome, self.outcome_at = SUCCEEDED, (offset, line)
                self.marks[_DONE] = time
        else:
            for literal in _EARLY.values():
                if body.startswith(literal):
                    self.marks.setdefault(literal, time)

    def _task(self, pid: int, what: str, time: float | None) -> None:
        times = self.tasks.get(pid)
        if times is None:
            if len(self.tasks) >= MAX_TASKS:
                return
            times = self.tasks[pid] = {}
        times.setdefault(what, time)

    # --- the report -------------------------------------------------------------------------

    def report(self, raw: BinaryIO) -> LogReport:
        # Line numbers for errors and warnings (a FAILED outcome is one), counted up to the last.
        offsets = sorted(offset for offset, _ in [*self.errors, *self.warnings])
        numbered = dict(zip(offsets, _line_numbers(raw, offsets), strict=True))

        def at(pair: tuple[int, LogLine]) -> LogLine:
            return dataclasses.replace(pair[1], line=numbered.get(pair[0], 0))

        outcome = self.outcome
        if not outcome:
            outcome = UNFINISHED if self.timestamps else UNKNOWN
        total = self.last_time if self.timestamps else None
        return LogReport(
            name=self.name,
            kind=self.kind,
            outcome=outcome,
            outcome_line=at(self.outcome_at) if self.outcome_at else None,
            version=self.version,
            kernel=self.kernel,
            total=total,
            size=self.size,
            errors=tuple(at(e) for e in self.errors),
            warnings=tuple(at(w) for w in self.warnings),
            more_errors=self.more_errors,
            more_warnings=self.more_warnings,
            phases=self._phases(total),
            tasks=self._tasks(total),
            cut_last_line=self.cut_last_line,
            long_lines=self.long_lines,
        )

    def _phases(self, total: float | None) -> tuple[Phase, ...]:
        if total is None:
            return ()
        marks: list[tuple[str, float | None]] = []
        done = self.marks.get(_DONE)
        if self.kind == "restore":
            forks = [t["forked"] for t in self.tasks.values() if t.get("forked") is not None]
            restored = [t["restored"] for t in self.tasks.values() if t.get("restored") is not None]
            marks = [
                ("start: kernel features, options", 0.0),
                ("images, namespaces, pre-restore scripts", self.marks.get(b"Reading image tree")),
                ("fork and restore the tasks", min(forks) if forks else None),  # type: ignore[type-var]
                ("resume: post-restore scripts, unlock", max(restored) if restored else None),  # type: ignore[type-var]
                ("after the outcome: stats, post-resume scripts", done),
            ]
        elif self.kind in ("dump", "pre-dump"):
            marks = [
                ("start: kernel features, options", 0.0),
                ("freeze and dump the tasks", self.marks.get(b"Dumping processes (pid: ")),
                ("after the outcome", done),
            ]
        known_marks = [(name, t) for name, t in marks if t is not None]
        if not known_marks:
            return ()
        phases = []
        for (name, start), (_, end) in zip(
            known_marks, [*known_marks[1:], ("", total)], strict=True
        ):
            if end is not None and start is not None and (end > start or name == marks[0][0]):
                phases.append(Phase(name, start, end))
        return tuple(phases)

    def _tasks(self, total: float | None) -> tuple[TaskTimes, ...]:
        ends: dict[int, float | None] = {}
        order = self.dump_order
        last = self.marks.get(_DONE) or total
        for (_, pid), (nxt, _) in zip(order, [*order[1:], (last, 0)], strict=False):
            ends[pid] = nxt
        return tuple(
            TaskTimes(
                pid,
                forked=t.get("forked"),
                restorer=t.get("restorer"),
                restored=t.get("restored"),
                dumped=t.get("dumped"),
                dump_end=ends.get(pid),
            )
            for pid, t in self.tasks.items()
        )


def _seconds(sec: bytes, frac: bytes) -> float:
    """(SS.uuuuuu): a decimal fraction of as many digits as are there (five from 100 s on)."""
    digits = frac.lstrip(b"-")
    return int(sec) + int(digits) / float(10 ** len(digits))


def _text(body: bytes) -> str:
    return _printable(body[: MAX_TEXT * 4].decode("utf-8", "replace"))[:MAX_TEXT]


def _printable(text: str) -> str:
    """Control characters shown as escapes: a log cannot drive the terminal it is shown on."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def _line_numbers(raw: BinaryIO, offsets: list[int]) -> list[int]:
    """1-based line numbers of the lines starting at `offsets` (ascending), by counting newlines
    from the start again, up to the last one."""
    if not offsets:
        return []
    try:
        raw.seek(0)
    except (OSError, ValueError):
        return [0] * len(offsets)
    numbers: list[int] = []
    base = lines = 0
    index = 0
    while index < len(offsets):
        data = raw.read(CHUNK)
        if not data:
            break
        stop = base + len(data)
        at = 0
        while index < len(offsets) and offsets[index] < stop:
            here = offsets[index] - base
            lines += data.count(b"\n", at, here)
            at = here
            numbers.append(lines + 1)
            index += 1
        lines += data.count(b"\n", at)
        base = stop
    return numbers + [0] * (len(offsets) - len(numbers))
