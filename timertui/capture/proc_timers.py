"""/proc/PID/timers: parsing the kernel's text and reading it for a live process.

The kernel prints 4 lines per timer (fs/proc/base.c, show_timer):

    ID: 5
    signal: 34/00000000deadbeef      signo / sigval as %px (old kernels: %p, "(null)" for 0)
    notify: signal/pid.1234          signal|thread|none / pid.N, or tid.N with SIGEV_THREAD_ID
    ClockID: -6                      clockid_t, negative for CPU clocks

listing the newest timer first. `parse_timers` keeps that order; `read_timers` sorts by ID.
"""

from __future__ import annotations

import errno
import os
import re
import time

from timertui.errors import InputError
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Access,
    Timer,
)
from timertui.records import record

PROC_ROOT = "/proc"

GONE_ERRNOS = frozenset({errno.ENOENT, errno.ESRCH})
DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM})

_INT32_MIN = -(2**31)
_READ_SIZE = 1 << 16
_READ_ATTEMPTS = 5
# Multi-page readings by pid, the newest last: a pid reused by another process is read afresh
# like any change.
_LAST_LONG: dict[int, _Long] = {}
_KEEP_LONG = 64
_PAGE = os.sysconf("SC_PAGE_SIZE")
# A timer's four lines at their longest ("ID: 2147483647", "signal: -2147483648/" + 16 hex
# digits, "notify: thread/tid.2147483647", "ClockID: -2147483648"): about 110 bytes.
_LONGEST_RECORD = 128

# Digit runs are bounded so int() never sees a huge string; ranges are checked after the match.
_ID = re.compile(r"ID: (-?[0-9]{1,20})")
# sigval: %px prints 16 hex digits (8 on 32-bit); old kernels' %p printed NULL as padded "(null)".
_SIGNAL = re.compile(r"signal: (-?[0-9]{1,20})/(?:([0-9a-fA-F]{1,16})| *\(null\))")
_NOTIFY = re.compile(r"notify: (signal|thread|none)/(pid|tid)\.(-?[0-9]{1,20})")
_CLOCK = re.compile(r"ClockID: (-?[0-9]{1,20})")

_NOTIFY_MODES = {"signal": SIGEV_SIGNAL, "none": SIGEV_NONE, "thread": SIGEV_THREAD}
_EXPECTED = (
    "'ID: N'",
    "'signal: SIGNO/SIGVAL_HEX'",
    "'notify: signal|thread|none/pid.N|tid.N'",
    "'ClockID: N'",
)


class TimersParseError(InputError):
    """The text is not what /proc/PID/timers prints; the message names the line and the fault."""


@record
class TimersReading:
    """What reading one process's timers gave: its timers sorted by ID when `access` is OK."""

    access: Access
    timers: tuple[Timer, ...] = ()


_EMPTY = TimersReading(Access.OK)
_GONE = TimersReading(Access.GONE)
_DENIED = TimersReading(Access.NO_ACCESS)
_NO_FILE = TimersReading(Access.NO_TIMERS_FILE)


def parse_timers(
    text: str, source: str = "timers", *, skip_repeats: bool = False
) -> tuple[Timer, ...]:
    """Timers in the order the text lists them (the kernel's: newest first).

    Raises TimersParseError naming `source`, the 1-based line number and what was wrong. A
    timer ID listed twice is such a fault, unless `skip_repeats` (then the first one counts).
    """
    # Split on "\n" only: the kernel ends every line with it, and other breaks are faults.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    timers: list[Timer] = []
    first_line: dict[int, int] = {}
    for start in range(0, len(lines), 4):
        timer = _parse_record(lines, start, source)
        if timer.id in first_line and skip_repeats:
            continue
        if timer.id in first_line:
            raise TimersParseError(
                f"{source} line {start + 1}: duplicate timer ID {timer.id} "
                f"(first at line {first_line[timer.id]})"
            )
        first_line[timer.id] = start + 1
        timers.append(timer)
    return tuple(timers)


def _parse_record(lines: list[str], start: int, source: str) -> Timer:
    matches = []
    for offset, pattern in enumerate((_ID, _SIGNAL, _NOTIFY, _CLOCK)):
        if start + offset == len(lines):
            raise TimersParseError(
                f"{source} line {start + offset + 1}: the text ends inside a timer, "
                f"expected {_EXPECTED[offset]}"
            )
        line = lines[start + offset]
        m = pattern.fullmatch(line)
        if m is None:
            raise TimersParseError(
                f"{source} line {start + offset + 1}: expected {_EXPECTED[offset]}, got {line!r}"
            )
        matches.append(m)
    id_m, sig_m, notify_m, clock_m = matches

    def in_range(value: int, low: int, high: int, what: str, offset: int) -> int:
        if not low <= value <= high:
            raise TimersParseError(
                f"{source} line {start + offset + 1}: {what} {value} outside {low}..{high}"
            )
        return value

    timer_id = in_range(int(id_m[1]), 0, INT_MAX, "timer ID", 0)
    signo = in_range(int(sig_m[1]), _INT32_MIN, INT_MAX, "signal number", 1)
    target = in_range(int(notify_m[3]), 0, INT_MAX, "notify target", 2)
    clock = in_range(int(clock_m[1]), _INT32_MIN, INT_MAX, "clock ID", 3)
    notify = _NOTIFY_MODES[notify_m[1]] | (SIGEV_THREAD_ID if notify_m[2] == "tid" else 0)
    sigval = int(sig_m[2], 16) if sig_m[2] else 0
    return Timer(timer_id, clock, notify, target, signo, sigval)


def read_timers(pid: int, *, duty: float = 0.0) -> TimersReading:
    """Read /proc/PID/timers; gone, denied and a kernel without the file are states, not errors.

    The timers come sorted by ID. A text the parser does not understand raises TimersParseError.
    With `duty` (a share of a core, e.g. 0.01) a long listing read before is given again while
    reading it anew would take more than that share of the time since: the kernel lists 10,000
    timers in about 20 ms of system time, which a view refreshed every second cannot afford.
    """
    path = f"{PROC_ROOT}/{pid}/timers"
    last = _LAST_LONG.get(pid)
    started = time.monotonic_ns()
    if duty and last is not None and started - last.read_ns < last.cost_ns / duty:
        return last.reading
    previous = last.data if last is not None else None
    for _ in range(_READ_ATTEMPTS):
        got = _read_file(pid, path)
        if isinstance(got, TimersReading):
            return got
        data, whole = got
        if whole:
            break
        if data == previous:
            if last is not None and previous is last.data:
                # As the last read gave it: consistent, and parsed already (10,000 timers take
                # 100 ms to parse).
                _remember(pid, _Long(data, last.reading, started, time.monotonic_ns() - started))
                return last.reading
            break
        # Past a page the kernel lists the timers over several read()s, each starting again
        # at a position in its list: a timer created or deleted between two shifts the list,
        # and one is shown twice or not at all. Two readings alike are taken as consistent; a
        # process that never stops changing its timers gets the last, each repeat shown once.
        previous = data
    timers = parse_timers(data.decode("latin-1"), path, skip_repeats=not whole)
    reading = TimersReading(Access.OK, tuple(sorted(timers, key=lambda t: t.id)))
    if not whole:
        _remember(pid, _Long(data, reading, started, time.monotonic_ns() - started))
    return reading


@record
class _Long:
    """A multi-page listing as read: its bytes, the reading, when and at what cost."""

    data: bytes
    reading: TimersReading
    read_ns: int
    cost_ns: int


def _remember(pid: int, long: _Long) -> None:
    _LAST_LONG.pop(pid, None)
    _LAST_LONG[pid] = long
    while len(_LAST_LONG) > _KEEP_LONG:
        del _LAST_LONG[next(iter(_LAST_LONG))]  # the longest unread


def _read_file(pid: int, path: str) -> tuple[bytes, bool] | TimersReading:
    """The file's bytes and whether one read() gave them all, or the state that kept us from
    them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        return _failed(pid, exc)
    try:
        data = os.read(fd, _READ_SIZE)
        if not data:  # the common case: a process without timers
            return _EMPTY
        if len(data) + _LONGEST_RECORD <= _PAGE:
            # One read() gives whole timers until the kernel's page-sized buffer cannot take
            # the next: room left for one means that was all, consistent, in one pass.
            return data, True
        chunks = [data]
        while data:
            data = os.read(fd, _READ_SIZE)
            chunks.append(data)
    except OSError as exc:
        return _failed(pid, exc)
    finally:
        os.close(fd)
    return b"".join(chunks), False


def _failed(pid: int, exc: OSError) -> TimersReading:
    if exc.errno in DENIED_ERRNOS:
        return _DENIED
    if exc.errno == errno.ENOENT and os.path.isdir(f"{PROC_ROOT}/{pid}"):  # noqa: PTH112
        # The process is there but its timers file is not: CONFIG_CHECKPOINT_RESTORE is off.
        return _NO_FILE
    if exc.errno in GONE_ERRNOS:
        return _GONE
    raise exc
