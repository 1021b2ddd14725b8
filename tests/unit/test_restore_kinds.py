"""Timerfds and interval timers in a restore plan: the decisions made before the kernel (each
naming the CRIU issue it mirrors), the checks of a restored one, and the simulator's run."""

from __future__ import annotations

import dataclasses

from builders import process, timer

from timertui.model import O_CLOEXEC, O_NONBLOCK, IntervalTimer, TimerFd
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.kinds import check_itimer, check_timerfd, plan_itimers, plan_timerfds
from timertui.restore.plan import build_plan
from timertui.restore.sim.costs import DEFAULT_COSTS

MS = 1_000_000
STALLED = TimerFd(3, 1, 1, 0, 0, 100 * MS, O_CLOEXEC | 2)
ABSOLUTE = TimerFd(4, 0, 0, 3, 3_600_000 * MS, 0, O_NONBLOCK | 2, 1_796_000_000_000_000_000)


def test_a_stalled_periodic_timerfd_is_rearmed_at_its_period_naming_criu_3162() -> None:
    (planned,), (note,) = plan_timerfds([STALLED])
    assert (planned.value_ns, planned.interval_ns, planned.ticks) == (100 * MS, 100 * MS, 1)
    assert planned.create_flags == O_CLOEXEC
    assert note.code == "timerfd-rearmed" and "#3162" in note.reason
    assert (note.timer_id, note.timer_kind) == (3, "timerfd")


def test_an_absolute_deadline_stays_absolute_with_cancel_on_set() -> None:
    (planned,), notes = plan_timerfds([ABSOLUTE])
    assert not notes
    assert planned.settime_flags == 3 and planned.deadline_ns == ABSOLUTE.deadline_ns
    assert planned.create_flags == O_NONBLOCK


def test_interval_timers_checked_before_the_restore() -> None:
    planned, notes = plan_itimers(
        [
            IntervalTimer(0, 0, 1_000_000, 0, 0),  # microseconds out of range: #3001
            IntervalTimer(1, 5, 0, 0, 0),  # one-shot: #2559
            IntervalTimer(2, 0, 0, 1, 0),  # value 0, periodic: armed with its interval
        ]
    )
    assert [(n.code, n.timer_id) for n in notes] == [
        ("itimer-invalid", 0),
        ("itimer-one-shot", 1),
        ("value-from-interval", 2),
    ]
    assert "Invalid timer value" in notes[0].reason and "#3001" in notes[0].reason
    assert "#2559" in notes[1].reason
    assert [(t.arm, t.invalid) for t in planned] == [(False, True), (True, False), (True, False)]
    assert (planned[2].value_s, planned[2].interval_s) == (1, 1)
    assert "Invalid timer interval" in plan_itimers([IntervalTimer(0, 1, 0, -1, 0)])[1][0].reason


def test_restored_values_are_checked_within_the_time_since_arming() -> None:
    (planned,), _ = plan_timerfds([STALLED])
    good = TimerFd(3, 1, 1, 0, 95 * MS, 100 * MS, O_CLOEXEC | 2)
    assert check_timerfd(planned, good, 10 * MS, 0, True).equal
    fired = dataclasses.replace(good, ticks=2, remaining_ns=50 * MS)
    assert check_timerfd(planned, fired, 150 * MS, 0, True).equal
    lost = dataclasses.replace(good, ticks=0)
    assert [d.field for d in check_timerfd(planned, lost, 10 * MS, 0, True).diffs] == ["ticks"]
    assert not check_timerfd(planned, None, 0, 0, True).equal
    (itimer,), _ = plan_itimers([IntervalTimer(1, 30, 4000, 10, 0)])
    # ITIMER_VIRTUAL counts in ticks: it reads back up to one tick longer
    assert check_itimer(itimer, (30, 8000, 10, 0), MS).equal
    assert not check_itimer(itimer, (31, 0, 10, 0), MS).equal


def test_the_simulator_places_fds_and_counts_every_kind() -> None:
    busy = dataclasses.replace(STALLED, fd=1)
    proc = dataclasses.replace(
        process([timer(0)]),
        timerfds=(busy, ABSOLUTE),
        itimers=(IntervalTimer(0, 1, 0, 1, 0),),
    )
    events = list(run(build_plan(proc), "sim", costs=DEFAULT_COSTS))
    codes = [e.code for e in events if isinstance(e, ev.Decision)]
    assert "timerfd-fd-busy" in codes and "timerfd-rearmed" in codes
    (done,) = [e for e in events if isinstance(e, ev.Done)]
    assert not done.ok and done.verified == 3 and done.failed == 1
    assert {"timerfds", "itimers"} <= set(done.phases)
