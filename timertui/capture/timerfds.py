"""A live process's timerfds: its fds that link to `anon_inode:[timerfd]`, each read from
/proc/PID/fdinfo/FD, no ptrace needed.

The kernel prints (fs/proc/fd.c, then fs/timerfd.c timerfd_show):

    pos:    0
    flags:  02000002            the fd's open flags, octal (O_NONBLOCK 04000, O_CLOEXEC 02000000)
    mnt_id: 17
    ino:    1039
    clockid: 1
    ticks: 1                    expirations not yet read
    settime flags: 01           octal: 1 TFD_TIMER_ABSTIME, 2 TFD_TIMER_CANCEL_ON_SET
    it_value: (3595, 969761607) time to the next expiry (relative, even when absolute)
    it_interval: (0, 100000000)

Lines it does not know (a future kernel's) are skipped; a line it needs that is missing or of
another shape is a problem ("fdinfo/FD.FIELD: fault"), never an exception. An fd closed while it
is read is left out, as the kernel would no longer list it.
"""

from __future__ import annotations

import os
import time

from timertui.capture.proc_timers import DENIED_ERRNOS, GONE_ERRNOS, PROC_ROOT
from timertui.model import INT_MAX, TFD_TIMER_ABSTIME, Access, TimerFd
from timertui.records import record

TIMERFD_LINK = "anon_inode:[timerfd]"
_NS = 1_000_000_000
_KTIME_MAX = 2**63 - 1
_U64_MAX = 2**64 - 1
_INT32_MIN = -(2**31)
_READ_SIZE = 4096
# The fields a timerfd's fdinfo must have, as the kernel names them, and ours.
_FIELDS = ("flags", "clockid", "ticks", "settime flags", "it_value", "it_interval")


@record
class TimerFdReading:
    """What reading one process's timerfds gave: by fd number when `access` is OK, and each
    fdinfo that could not be understood as "fdinfo/FD.FIELD: fault"."""

    access: Access
    timerfds: tuple[TimerFd, ...] = ()
    problems: tuple[str, ...] = ()


def parse_timerfd(text: str, fd: int, deadline_clock: bool = False) -> TimerFd | str:
    """The timerfd fdinfo `text` of fd `fd` describes, or the problem ("fdinfo/FD.FIELD: ...").
    With `deadline_clock`, an absolute timer's deadline is its clock now plus it_value."""
    where = f"fdinfo/{fd}"
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        if sep and key in _FIELDS and key not in fields:
            fields[key] = value.strip()
    missing = [k for k in _FIELDS if k not in fields]
    if missing:
        return f"{where}.{missing[0].replace(' ', '_')}: missing (not a timerfd's fdinfo?)"
    flags = _number(fields["flags"], 8, 0, INT_MAX)
    if flags is None:
        return f"{where}.flags: expected an octal number, got {fields['flags']!r}"
    clock = _number(fields["clockid"], 10, _INT32_MIN, INT_MAX)
    if clock is None:
        return f"{where}.clockid: expected a 32-bit number, got {fields['clockid']!r}"
    ticks = _number(fields["ticks"], 10, 0, _U64_MAX)
    if ticks is None:
        return f"{where}.ticks: expected an unsigned 64-bit number, got {fields['ticks']!r}"
    settime = _number(fields["settime flags"], 8, 0, INT_MAX)
    if settime is None:
        return f"{where}.settime_flags: expected an octal number, got {fields['settime flags']!r}"
    times = []
    for key in ("it_value", "it_interval"):
        ns = _timespec(fields[key])
        if ns is None:
            return f"{where}.{key}: expected '(seconds, nanoseconds)', got {fields[key]!r}"
        times.append(ns)
    remaining, interval = times
    deadline = 0
    if deadline_clock and settime & TFD_TIMER_ABSTIME:
        try:
            deadline = time.clock_gettime_ns(clock) + remaining
        except (OSError, OverflowError):
            deadline = 0
    return TimerFd(fd, clock, ticks, settime, remaining, interval, flags, deadline)


def _number(text: str, base: int, low: int, high: int) -> int | None:
    if not 0 < len(text) <= 24:
        return None
    try:
        value = int(text, base)
    except ValueError:
        return None
    return value if low <= value <= high and text.lstrip("-").isdigit() else None


def _timespec(text: str) -> int | None:
    """ns of the kernel's "(s, ns)"; None when it is not that, or out of the kernel's range."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    parts = text[1:-1].split(",")
    if len(parts) != 2:
        return None
    sec = _number(parts[0].strip(), 10, 0, _KTIME_MAX)
    nsec = _number(parts[1].strip(), 10, 0, _NS - 1)
    if sec is None or nsec is None or sec * _NS + nsec > _KTIME_MAX:
        return None
    return sec * _NS + nsec


def read_timerfds(pid: int | str) -> TimerFdReading:
    """The timerfds of process `pid` ("self" works), by fd number; gone and denied are states."""
    root = f"{PROC_ROOT}/{pid}"
    try:
        names = os.listdir(f"{root}/fd")  # noqa: PTH208 - hot path
    except OSError as exc:
        return TimerFdReading(_state(exc))
    found: list[TimerFd] = []
    problems: list[str] = []
    readlink = os.readlink
    for name in names:
        try:
            if readlink(f"{root}/fd/{name}") != TIMERFD_LINK:
                continue
            text = _read(f"{root}/fdinfo/{name}")
        except OSError as exc:
            if exc.errno in GONE_ERRNOS:
                continue  # closed meanwhile (or the process is going): not there any more
            if exc.errno in DENIED_ERRNOS:
                return TimerFdReading(Access.NO_ACCESS)
            raise
        got = parse_timerfd(text, int(name), deadline_clock=True)
        if isinstance(got, str):
            problems.append(got)
        else:
            found.append(got)
    found.sort(key=_fd_of)
    return TimerFdReading(Access.OK, tuple(found), tuple(problems))


def _fd_of(t: TimerFd) -> int:
    return t.fd


def _read(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, _READ_SIZE).decode("latin-1")
    finally:
        os.close(fd)


def _state(exc: OSError) -> Access:
    if exc.errno in DENIED_ERRNOS:
        return Access.NO_ACCESS
    if exc.errno in GONE_ERRNOS:
        return Access.GONE
    raise exc
