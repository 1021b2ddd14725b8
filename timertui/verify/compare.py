"""A checkpoint process against its live restored process, timer by timer and kind by kind:
POSIX timers by ID, timerfds by fd number, interval timers by `which`. Pure: the caller reads
the live process (with a deep capture for values) and says how long ago the checkpoint was.

Pids and tids the checkpoint names (a notify target, a CPU clock of a pid or thread) are
compared through the pid map (verify.pairing.id_map). A remaining time is judged against the
time since the checkpoint: a restore arms a timer with the time it had left, so the live time
left lies between that minus the time since and that (a periodic one's within its interval),
and a one-shot whose time ran out since is expired as expected, not lost. Timers on CPU-time
clocks count only the process's CPU time, bounded by what /proc says it used."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from timertui.clocks import ALARM_CLOCKS, decode_clock, make_cpu_clock
from timertui.model import (
    ITIMER_REAL,
    SIGEV_NONE,
    SIGEV_THREAD_ID,
    TIMERFD_FD_FLAGS,
    IntervalTimer,
    ProcessTimers,
    Timer,
    TimerFd,
)
from timertui.verify.findings import FieldDiff, Finding, Liveness, Status
from timertui.words import duration_text

# A restore and the reads around it take time: a remaining time may be this far off.
SLACK_NS = 50_000_000
# Interval timers on CPU time read back up to one of the kernel's ticks long (HZ 100).
CPU_TICK_NS = 10_000_000
_T = TypeVar("_T", Timer, TimerFd)


def compare_process(
    checkpoint: ProcessTimers,
    live: ProcessTimers,
    ids: Mapping[int, int],
    elapsed_ns: int | None,
    cpu_ns: int | None = None,
) -> tuple[Finding, ...]:
    """Every timer of both, in kind then key order. `ids` maps the checkpoint's pids and tids
    to the live ones; `elapsed_ns` is the time since the checkpoint (None: unknown);
    `cpu_ns` the CPU time the live process used (None: unknown), which bounds how far its
    CPU-time timers ran."""
    findings = _paired(
        checkpoint.timers,
        live.timers,
        lambda t: t.id,
        "posix",
        lambda c, lv: _posix(c, lv, ids, elapsed_ns, cpu_ns),
    )
    findings += _paired(
        checkpoint.timerfds,
        live.timerfds,
        lambda t: t.fd,
        "timerfd",
        lambda c, lv: _timerfd(c, lv, elapsed_ns),
    )
    if checkpoint.itimers is not None or live.itimers is not None:
        findings += _itimers(checkpoint.itimers, live.itimers, elapsed_ns, cpu_ns)
    return tuple(findings)


def _paired(
    checkpoint: Iterable[_T],
    live: Iterable[_T],
    key: Callable[[_T], int],
    kind: str,
    compare: Callable[[_T, _T], Finding],
) -> list[Finding]:
    """Findings of two timer lists matched by `key`: missing, extra, or `compare`d."""
    theirs = {key(t): t for t in live}
    ours = {key(t): t for t in checkpoint}
    found = []
    for k in sorted(ours.keys() | theirs.keys()):
        c, lv = ours.get(k), theirs.get(k)
        if lv is None:
            found.append(
                Finding(kind, k, Status.MISSING, checkpoint=c, note="not in the live process")
            )
        elif c is None:
            found.append(Finding(kind, k, Status.EXTRA, live=lv, note="not in the checkpoint"))
        else:
            found.append(compare(c, lv))
    return found


def remapped_clock(clock: int, ids: Mapping[int, int]) -> int:
    """A CPU clock naming a pid or tid of the checkpoint, naming the live one instead."""
    cpu = decode_clock(clock).cpu if clock < 0 else None
    if cpu is None or cpu.is_self or cpu.pid not in ids:
        return clock
    return make_cpu_clock(ids[cpu.pid], cpu.type, cpu.per_thread)


def _posix(
    c: Timer, lv: Timer, ids: Mapping[int, int], elapsed: int | None, cpu: int | None
) -> Finding:
    notes: list[str] = []
    issue = ""
    diffs = [
        FieldDiff(name, want, have)
        for name, want, have in (
            ("clock", remapped_clock(c.clock, ids), lv.clock),
            ("notify", c.notify, lv.notify),
            ("signo", c.signo, lv.signo),
            ("sigval", c.sigval, lv.sigval),
        )
        if want != have
    ]
    if c.notify & SIGEV_THREAD_ID and lv.notify == SIGEV_NONE:
        issue = "#2996/#3117"
        notes.append(
            f"its notify thread {c.target} came back as SIGEV_NONE: it signals nobody (what "
            "CRIU does for a timer whose thread was gone at dump)"
        )
    if (c.notify & ~SIGEV_THREAD_ID) != SIGEV_NONE and (lv.notify & ~SIGEV_THREAD_ID) != SIGEV_NONE:
        want = ids.get(c.target, c.target)
        if want != lv.target:
            diffs.append(FieldDiff("target", want, lv.target))
            if c.notify & SIGEV_THREAD_ID and c.target not in ids:
                notes.append(f"its notify thread {c.target} was no thread of the checkpoint")
    status, liveness, watch_note = Status.EQUAL, Liveness.NONE, ""
    cv, lvv = c.values, lv.values
    on_cpu = c.clock < 0 and decode_clock(c.clock).cpu is not None
    if cv is not None and lvv is None:
        notes.append("its live values were not read")
    elif cv is not None and lvv is not None:
        if cv.interval_ns != lvv.interval_ns:
            diffs.append(FieldDiff("interval_ns", cv.interval_ns, lvv.interval_ns))
        judged = _remaining(
            cv.remaining_ns, cv.interval_ns, lvv.remaining_ns, cpu if on_cpu else elapsed
        )
        diff = FieldDiff("remaining_ns", cv.remaining_ns, lvv.remaining_ns)
        if _judged(judged, diff, cv.remaining_ns, diffs, notes):
            status = Status.EXPIRED
        if cv.interval_ns and (cv.remaining_ns or not on_cpu):
            disarmed = lvv.interval_ns == 0 and lvv.remaining_ns == 0
            liveness, watch_note = _periodic_liveness(on_cpu, disarmed)
    if diffs:
        status = Status.DIFFERS
    return Finding(
        "posix", c.id, status, tuple(diffs), liveness, "; ".join(notes), issue, c, lv, watch_note
    )


def _periodic_liveness(on_cpu: bool, disarmed: bool) -> tuple[Liveness, str]:
    """How a periodic timer's watch starts: dead already when disarmed live; unknown on CPU
    time, which a sleeping process does not spend."""
    if disarmed:
        return Liveness.DEAD, ""  # the time left's judgement says it
    if on_cpu:
        return Liveness.UNKNOWN, "not watched: on CPU time, it runs only while the process does"
    return Liveness.WATCHING, ""


def _timerfd(c: TimerFd, lv: TimerFd, elapsed: int | None) -> Finding:
    armed = c.remaining_ns > 0 or c.stalled_periodic
    diffs = [
        FieldDiff(name, want, have)
        for name, want, have in (
            ("clock", c.clock, lv.clock),
            ("flags", c.flags & TIMERFD_FD_FLAGS, lv.flags & TIMERFD_FD_FLAGS),
            ("interval_ns", c.interval_ns, lv.interval_ns),
            ("settime_flags", c.settime_flags if armed else lv.settime_flags, lv.settime_flags),
        )
        if want != have
    ]
    notes = []
    status = Status.EQUAL
    if c.stalled_periodic:
        notes.append("fired and not read at the checkpoint")
        if lv.remaining_ns > c.interval_ns + SLACK_NS:
            diffs.append(FieldDiff("remaining_ns", c.interval_ns, lv.remaining_ns))
    elif not (c.absolute and c.clock in ALARM_CLOCKS):
        # (an absolute alarm-clock timerfd's it_value in fdinfo is not its time left)
        judged = _remaining(c.remaining_ns, c.interval_ns, lv.remaining_ns, elapsed)
        if c.remaining_ns and lv.remaining_ns == 0 and lv.ticks > 0:
            # Fired since, and not read: a one-shot ran out, a periodic one waits for a read.
            judged = None if c.interval_ns else "expired"
        diff = FieldDiff("remaining_ns", c.remaining_ns, lv.remaining_ns)
        if _judged(judged, diff, c.remaining_ns, diffs, notes):
            status = Status.EXPIRED
    if diffs:
        status = Status.DIFFERS
    liveness = Liveness.WATCHING if c.interval_ns and armed else Liveness.NONE
    return Finding("timerfd", c.fd, status, tuple(diffs), liveness, "; ".join(notes), "", c, lv)


def _itimers(
    checkpoint: tuple[IntervalTimer, ...] | None,
    live: tuple[IntervalTimer, ...] | None,
    elapsed: int | None,
    cpu: int | None,
) -> list[Finding]:
    ours = {t.which: t for t in checkpoint or ()}
    theirs = {t.which: t for t in live or ()}
    found = []
    for which in sorted(ours.keys() | theirs.keys()):
        c, lv = ours.get(which), theirs.get(which)
        if not ((c is not None and c.armed) or (lv is not None and lv.armed)):
            continue  # disarmed on both sides (or unknown and disarmed): nothing to say
        if live is None:
            note = "interval timers not read (deep capture)"
            found.append(Finding("itimer", which, Status.UNREAD, checkpoint=c, note=note))
        elif c is None or not c.armed:
            note = "armed live, disarmed (or not read) at the checkpoint"
            found.append(Finding("itimer", which, Status.EXTRA, checkpoint=c, live=lv, note=note))
        else:
            found.append(_itimer(c, lv, elapsed if which == ITIMER_REAL else cpu))
    return found


def _itimer(c: IntervalTimer, lv: IntervalTimer | None, elapsed: int | None) -> Finding:
    if lv is None:
        return Finding("itimer", c.which, Status.MISSING, checkpoint=c, note="not read live")
    on_cpu = c.which != ITIMER_REAL
    want, interval = c.value_total_us * 1000, c.interval_total_us * 1000
    have = lv.value_total_us * 1000
    diffs: list[FieldDiff] = []
    notes: list[str] = []
    issue = ""
    status = Status.EQUAL
    if interval != lv.interval_total_us * 1000:
        diffs.append(FieldDiff("interval_us", c.interval_total_us, lv.interval_total_us))
    judged = _remaining(want, interval, have, elapsed, CPU_TICK_NS if on_cpu else 0)
    diff = FieldDiff("value_us", c.value_total_us, lv.value_total_us)
    if _judged(judged, diff, want, diffs, notes):
        status = Status.EXPIRED
    elif judged is not None and not interval and have == 0:
        issue = "#2559"
        notes.append("CRIU does not restore an interval timer without an interval")
    if diffs:
        status = Status.DIFFERS
    liveness, watch_note = Liveness.NONE, ""
    if interval and want:
        liveness, watch_note = _periodic_liveness(on_cpu, not lv.armed)
    return Finding(
        "itimer",
        c.which,
        status,
        tuple(diffs),
        liveness,
        "; ".join(notes),
        issue,
        c,
        lv,
        watch_note,
    )


def _judged(
    judged: str | None, diff: FieldDiff, want_ns: int, diffs: list[FieldDiff], notes: list[str]
) -> bool:
    """Adds a remaining time's judgement (_remaining) to `diffs` and `notes`: True when it is a
    one-shot that expired as expected."""
    if judged == "expired":
        notes.append(f"a one-shot with {duration_text(want_ns)} left: expired since")
        return True
    if judged is not None:
        diffs.append(diff)
        notes.append(judged)
    return False


def _remaining(
    want: int, interval: int, have: int, elapsed: int | None, tick: int = 0
) -> str | None:
    """None when a live remaining time `have` fits a checkpoint's `want` (and `interval`)
    `elapsed` ns later (None: unknown), "expired" for a one-shot that ran out as expected,
    else what is wrong, in words."""
    if want == 0:
        return None if have == 0 else "armed live, disarmed at the checkpoint"
    if have == 0:
        if interval:
            return "disarmed live: it will not fire again"
        if elapsed is None or elapsed + SLACK_NS >= want:
            return "expired"
        return (
            f"disarmed live with {duration_text(want)} left at the checkpoint and only "
            f"{duration_text(elapsed)} since: lost"
        )
    upper = (max(want, interval) if interval else want) + SLACK_NS + tick
    lower = want - elapsed - SLACK_NS if elapsed is not None and elapsed < want else 0
    if have > upper:
        return f"{duration_text(have)} left live, more than the checkpoint's {duration_text(want)}"
    if have < lower and (not interval or have > interval):
        return (
            f"{duration_text(have)} left live: less than {duration_text(want)} minus the "
            f"{duration_text(elapsed or 0)} since the checkpoint"
        )
    return None
