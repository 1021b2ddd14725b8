"""Whether each periodic timer of a live process still runs, told without disturbing it: its
timerfds are never read (a read would consume the ticks and re-arm it) and its signals never
taken. A timerfd is watched through /proc/PID/fdinfo (ticks counted, it_value moving); a POSIX
timer or ITIMER_REAL through two deep captures (timer_gettime, getitimer: the time left moves,
or the overrun counts), at the start and the end of the watch. Timers on CPU time advance only
while the process runs, so a sleeping process says nothing about them: they stay unknown.

A periodic timerfd that shows it_value 0 and no pending tick for the whole watch is dead: a
running one is re-armed by the kernel when it is read (and shows ticks until then). One that
fired and waits to be read (it_value 0, ticks > 0) is stalled, not dead: the kernel re-arms it
on the read, unless it was restored disarmed with its ticks (CRIU #3162), which shows only
after that read. A dead timerfd the process is blocked reading is said in those words
(/proc/PID/task/TID/syscall and wchan)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

from timertui.capture.proc_timers import PROC_ROOT
from timertui.model import IntervalTimer, TimerFd, TimerValues
from timertui.verify.findings import Liveness
from timertui.words import duration_text

# Syscalls a thread blocked reading an fd sits in, by machine, and which argument is the fd.
_READS = {
    "x86_64": {0: "read", 17: "pread64", 19: "readv"},
    "aarch64": {63: "read", 65: "readv", 67: "pread64"},
}
# The watch: at most this long by default, two periods of the slowest periodic timer within.
DEFAULT_MAX_NS = 3_000_000_000
PERIODS = 2
# fdinfo is read every quarter of the fastest watched period, within these bounds.
MIN_STEP_NS = 10_000_000
MAX_STEP_NS = 100_000_000


def watch_length(intervals: Sequence[int], asked_ns: int | None = None) -> int:
    """How long to watch timers of these periods: `asked_ns`, else two periods of the slowest,
    at most DEFAULT_MAX_NS; 0 with nothing to watch."""
    if not intervals:
        return 0
    if asked_ns is not None:
        return asked_ns
    return min(PERIODS * max(intervals), DEFAULT_MAX_NS)


def step_length(intervals: Sequence[int]) -> int:
    """How often fdinfo is read while watching timers of these periods."""
    return max(MIN_STEP_NS, min(MAX_STEP_NS, min(intervals, default=MAX_STEP_NS) // 4))


def timerfd_liveness(
    samples: Sequence[TimerFd | None], watched_ns: int, finished: bool
) -> tuple[Liveness, str]:
    """A periodic timerfd's liveness from its fdinfo read over the watch (None: the fd was
    gone), and why in words; WATCHING while the watch goes on and nothing is sure yet."""
    if any(s is None for s in samples):
        return Liveness.UNKNOWN, "its fd was closed during the watch"
    seen = [s for s in samples if s is not None]
    for a, b in itertools.pairwise(seen):
        if b.ticks > a.ticks:
            return Liveness.ALIVE, "it counted an expiration during the watch"
        if b.remaining_ns != a.remaining_ns:
            return Liveness.ALIVE, "its time left moved during the watch"
    if not finished:
        return Liveness.WATCHING, ""
    last = seen[-1]
    if last.remaining_ns:
        return Liveness.UNKNOWN, "its time left did not move (its clock stood still?)"
    period = duration_text(last.interval_ns)
    if last.ticks:
        return Liveness.STALLED, (
            f"fired and not read ({last.ticks} tick(s) pending): the kernel re-arms it when "
            "the process reads it"
        )
    return Liveness.DEAD, (
        f"periodic (every {period}) but disarmed: it_value 0 and no expiry counted in "
        f"{duration_text(watched_ns)}"
    )


def values_liveness(
    first: TimerValues | IntervalTimer, last: TimerValues | IntervalTimer | None, watched_ns: int
) -> tuple[Liveness, str]:
    """A periodic POSIX timer's or ITIMER_REAL's liveness from two deep captures."""
    if last is None:
        return Liveness.UNKNOWN, "not read again at the end of the watch"
    if first != last:
        return Liveness.ALIVE, "its time left moved during the watch"
    return Liveness.DEAD, f"its time left did not move in {duration_text(watched_ns)}"


def blocked_reading(pid: int, fd: int) -> str:
    """'thread T is blocked reading it (read, wchan W)' when a thread of `pid` waits in a
    read of `fd`, else ''. /proc/PID/task/TID/syscall shows the syscall and its arguments of
    a blocked thread (to its owner), without stopping it."""
    reads = _READS.get(os.uname().machine, {})
    try:
        tids = sorted(os.listdir(f"{PROC_ROOT}/{pid}/task"))  # noqa: PTH208
    except OSError:
        return ""
    for tid in tids:
        words = _read(f"{PROC_ROOT}/{pid}/task/{tid}/syscall").split()
        if len(words) < 2 or not words[0].isdigit() or int(words[0]) not in reads:
            continue
        try:
            if int(words[1], 16) != fd:
                continue
        except ValueError:
            continue
        wchan = _read(f"{PROC_ROOT}/{pid}/task/{tid}/wchan").strip()
        where = f", wchan {wchan}" if wchan and wchan != "0" else ""
        return f"thread {tid} is blocked reading it ({reads[int(words[0])]}{where})"
    return ""


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:  # noqa: PTH123
            return f.read().decode("latin-1")
    except OSError:
        return ""
