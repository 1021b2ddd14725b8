"""Timerfds and interval timers in a restore: how each is planned (with the decisions that need
no kernel, each naming the CRIU issue it mirrors) and how a restored one is checked against its
plan. Pure: the plan (plan.py) builds these, the driver reports them, the targets act on them.

A timerfd is recreated at its fd number (timerfd_create, dup3) with its clock and its fd flags,
armed with the time it had left — an absolute one (TFD_TIMER_ABSTIME) at its absolute deadline
when the capture knew it, else at its clock's now plus that time, as CRIU does — with
TFD_TIMER_CANCEL_ON_SET kept, and its pending ticks put back (TFD_IOC_SET_TICKS). An interval
timer is set by setitimer.
"""

from __future__ import annotations

from timertui.clocks import ALARM_CLOCKS
from timertui.model import (
    ITIMER_NAMES,
    TFD_TIMER_ABSTIME,
    TIMERFD_FD_FLAGS,
    USEC_PER_SEC,
    IntervalTimer,
    TimerFd,
)
from timertui.records import record
from timertui.restore import decisions
from timertui.restore import events as ev

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence

# How far a restored remaining time may be from the planned one beyond the time since arming.
SLACK_NS = 2_000_000
# ITIMER_VIRTUAL and ITIMER_PROF count in the kernel's ticks: a value set reads back up to one
# tick longer (HZ 100 at the coarsest).
CPU_TICK_US = 10_000


@record
class PlannedTimerFd:
    """One timerfd as the target recreates it: `create_flags` for timerfd_create, then armed
    with `settime_flags` after `value_ns` (an absolute one at `deadline_ns` on its clock, or at
    its clock's now plus value_ns when that is 0); `ticks` put back after."""

    fd: int
    clock: int
    create_flags: int
    settime_flags: int
    value_ns: int
    interval_ns: int
    deadline_ns: int
    ticks: int
    source: TimerFd


@record
class PlannedITimer:
    """One interval timer as setitimer sets it; `arm` False: left as a fresh process has it
    (disarmed), because it was, or because its values cannot be set (then `invalid`)."""

    which: int
    value_s: int
    value_us: int
    interval_s: int
    interval_us: int
    arm: bool
    invalid: bool
    source: IntervalTimer

    @property
    def name(self) -> str:
        return ITIMER_NAMES[self.which]


def plan_timerfds(
    timerfds: Sequence[TimerFd],
) -> tuple[tuple[PlannedTimerFd, ...], list[ev.Decision]]:
    planned, notes = [], []
    for t in sorted(timerfds, key=lambda t: t.fd):
        value = t.remaining_ns
        deadline = t.deadline_ns if t.absolute else 0
        if t.stalled_periodic:
            notes.append(decisions.timerfd_rearmed(t.fd, t.interval_ns, t.ticks))
            value, deadline = t.interval_ns, 0
        planned.append(
            PlannedTimerFd(
                t.fd,
                t.clock,
                t.flags & TIMERFD_FD_FLAGS,
                t.settime_flags,
                value,
                t.interval_ns if value else 0,
                deadline if value else 0,
                t.ticks,
                t,
            )
        )
    return tuple(planned), notes


def plan_itimers(
    itimers: Sequence[IntervalTimer],
) -> tuple[tuple[PlannedITimer, ...], list[ev.Decision]]:
    """Checked before the restore, as CRIU's restorer would meet them (cr-restore.c
    decode_itimer): out-of-range values (#3001), a one-shot timer (#2559), a value of 0."""
    planned, notes = [], []
    for t in sorted(itimers, key=lambda t: t.which):
        if not 0 <= t.which <= 2:
            continue  # validate() flags it; nothing to set
        name = ITIMER_NAMES[t.which]
        value_s, value_us = t.value_s, t.value_us
        bad = None
        if not _timeval_valid(t.interval_s, t.interval_us):
            bad = ("interval", t.interval_s, t.interval_us)
        elif not _timeval_valid(t.value_s, t.value_us):
            bad = ("value", t.value_s, t.value_us)
        if bad is not None:
            notes.append(decisions.itimer_invalid(t.which, name, *bad))
            planned.append(PlannedITimer(t.which, 0, 0, 0, 0, False, True, t))
            continue
        if t.interval_total_us == 0 and t.value_total_us > 0:
            notes.append(decisions.itimer_one_shot(t.which, name, t.value_total_us))
        elif t.value_total_us == 0 and t.interval_total_us > 0:
            notes.append(decisions.itimer_value_from_interval(t.which, name, t.interval_total_us))
            value_s, value_us = t.interval_s, t.interval_us
        arm = (value_s, value_us) != (0, 0)
        planned.append(
            PlannedITimer(t.which, value_s, value_us, t.interval_s, t.interval_us, arm, False, t)
        )
    return tuple(planned), notes


def _timeval_valid(seconds: int, micros: int) -> bool:
    return seconds >= 0 and 0 <= micros < USEC_PER_SEC


def itimer_signals(itimers: Sequence[PlannedITimer]) -> list[int]:
    """The signals the armed interval timers send (SIGALRM, SIGVTALRM, SIGPROF)."""
    from timertui.model import ITIMER_SIGNALS

    return [ITIMER_SIGNALS[t.which] for t in itimers if t.arm]


def check_timerfd(
    planned: PlannedTimerFd, got: TimerFd | None, elapsed_ns: int, now_ns: int, ticks_set: bool
) -> ev.TimerCheck:
    """A restored timerfd, as its fdinfo reads `elapsed_ns` after arming (`now_ns`: its clock
    now, for an absolute deadline), against its plan."""
    fd = planned.fd
    if got is None:
        return ev.TimerCheck(fd, (ev.FieldDiff("present", 1, 0),), "timerfd")
    diffs = [
        ev.FieldDiff(name, want, have)
        for name, want, have in (
            ("clock", planned.clock, got.clock),
            ("settime_flags", planned.settime_flags if planned.value_ns else 0, got.settime_flags),
            ("flags", planned.create_flags, got.flags & TIMERFD_FD_FLAGS),
            ("interval_ns", planned.interval_ns, got.interval_ns),
        )
        if want != have
    ]
    if ticks_set and got.ticks < planned.ticks:
        diffs.append(ev.FieldDiff("ticks", planned.ticks, got.ticks))
    want = planned.value_ns
    if planned.settime_flags & TFD_TIMER_ABSTIME and planned.clock in ALARM_CLOCKS:
        # fdinfo's it_value of an absolute alarm-clock timerfd is not its time left (Linux
        # 6.18 shows ~4.7e18 ns): only its other fields can be checked.
        return ev.TimerCheck(fd, tuple(diffs), "timerfd")
    if planned.settime_flags & TFD_TIMER_ABSTIME and planned.deadline_ns:
        want = max(planned.deadline_ns - now_ns, 0) + elapsed_ns
    slack = elapsed_ns + SLACK_NS
    have = got.remaining_ns
    if want == 0:
        ok = have == 0
    elif want - slack <= have <= want + SLACK_NS:
        ok = True
    elif want <= slack:  # it may have fired since
        fired = got.ticks > planned.ticks or (not ticks_set and got.ticks > 0)
        ok = fired and (0 <= have <= planned.interval_ns if planned.interval_ns else have == 0)
    else:
        ok = False
    if not ok:
        diffs.append(ev.FieldDiff("remaining_ns", want, have))
    return ev.TimerCheck(fd, tuple(diffs), "timerfd")


def check_itimer(
    planned: PlannedITimer, got: tuple[int, int, int, int] | None, elapsed_ns: int
) -> ev.TimerCheck:
    """A restored interval timer, as getitimer gives it (value s, us, interval s, us)
    `elapsed_ns` after setting, against its plan."""
    if got is None:
        return ev.TimerCheck(planned.which, (ev.FieldDiff("present", 1, 0),), "itimer")
    value = got[0] * USEC_PER_SEC + got[1]
    interval = got[2] * USEC_PER_SEC + got[3]
    want_interval = planned.interval_s * USEC_PER_SEC + planned.interval_us if planned.arm else 0
    want = planned.value_s * USEC_PER_SEC + planned.value_us if planned.arm else 0
    diffs = []
    if interval != want_interval:
        diffs.append(ev.FieldDiff("interval_us", want_interval, interval))
    slack = (elapsed_ns + SLACK_NS) // 1000
    tick = CPU_TICK_US if planned.which else 0
    if want == 0:
        ok = value == 0
    elif want - slack <= value <= want + tick:
        ok = True
    else:
        ok = want <= slack and (0 < value <= want_interval if want_interval else value == 0)
    if not ok:
        diffs.append(ev.FieldDiff("value_us", want, value))
    return ev.TimerCheck(planned.which, tuple(diffs), "itimer")
