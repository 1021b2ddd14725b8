"""The restore plan: ordering, threads, remaps and the decisions that need no kernel. Pure."""

from __future__ import annotations

import pytest
from builders import HELPER, MS, PID, armed, process, timer

from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import (
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD_ID,
    Timer,
    TimerValues,
)
from timertui.records import RecordTuple
from timertui.restore.events import DECISION_CODES
from timertui.restore.native.arrays import timer_arrays
from timertui.restore.plan import (
    PlanError,
    RestorePlan,
    TargetFacts,
    TargetSpec,
    build_plan,
    expected_timer,
    wrap_cost,
)
from timertui.restore.wire import from_wire, to_wire


def codes(plan: RestorePlan) -> list[str]:
    return [d.code for d in plan.decisions]


def test_timers_sorted_and_plain_plan_has_no_decisions() -> None:
    plan = build_plan(process([timer(7, values=armed(5)), timer(0, values=armed(9))]))
    assert plan.ids == (0, 7)
    assert plan.max_id == 7
    assert plan.threads == (PID,)
    assert plan.decisions == ()
    assert all(d in DECISION_CODES for d in codes(plan))


def test_duplicate_and_out_of_range_ids_are_bad_input() -> None:
    with pytest.raises(PlanError, match="appears twice"):
        build_plan(process([timer(3), timer(3)]))
    with pytest.raises(PlanError, match="outside"):
        build_plan(process([timer(2**31)]))


def test_live_notify_thread_gets_a_target_thread() -> None:
    plan = build_plan(
        process([timer(1, notify=SIGEV_THREAD_ID, target=HELPER)], tids=(PID, HELPER))
    )
    assert plan.threads == (PID, HELPER)
    assert plan.timers[0].thread == 1
    assert codes(plan) == ["thread-mapped"]
    # The target's own tids replace the snapshot's once known.
    want = expected_timer(plan.timers[0], 900, [900, 901])
    assert (want.notify, want.target) == (SIGEV_THREAD_ID, 901)


def test_main_thread_target_needs_no_helper() -> None:
    plan = build_plan(process([timer(1, notify=SIGEV_THREAD_ID, target=PID)]))
    assert plan.threads == (PID,)
    assert plan.timers[0].thread == 0
    assert expected_timer(plan.timers[0], 900, [900]).target == 900


def test_dead_notify_thread_is_remapped_or_made_none() -> None:
    dead = [timer(2, notify=SIGEV_THREAD_ID, target=4999)]
    remapped = build_plan(process(dead))
    assert codes(remapped) == ["thread-remapped"]
    assert remapped.timers[0].thread == 0
    assert "4999" in remapped.decisions[0].reason
    none = build_plan(process(dead), dead_threads="none")
    assert codes(none) == ["thread-to-none"]
    assert none.timers[0].notify == SIGEV_NONE
    assert none.timers[0].thread is None
    assert expected_timer(none.timers[0], 900, [900]).target == 900


def test_cpu_clocks_naming_the_old_pid_and_tid_are_remapped() -> None:
    proc_clock = make_cpu_clock(PID, CpuClockType.SCHED)
    thread_clock = make_cpu_clock(HELPER, CpuClockType.PROF, per_thread=True)
    plan = build_plan(
        process([timer(1, clock=proc_clock), timer(2, clock=thread_clock)], tids=(PID, HELPER))
    )
    assert codes(plan) == ["cpu-clock-remapped", "thread-mapped", "cpu-clock-remapped"]
    assert plan.threads == (PID, HELPER)
    first, second = (expected_timer(t, 900, [900, 901]) for t in plan.timers)
    assert first.clock == make_cpu_clock(900, CpuClockType.SCHED)
    assert second.clock == make_cpu_clock(901, CpuClockType.PROF, per_thread=True)


def test_self_cpu_clocks_stay_and_foreign_ones_are_reported() -> None:
    plan = build_plan(process([timer(1, clock=-6), timer(2, clock=-2)]))
    assert plan.decisions == ()
    assert [t.clock_remap for t in plan.timers] == [None, None]
    foreign = build_plan(process([timer(1, clock=make_cpu_clock(77, CpuClockType.SCHED))]))
    assert codes(foreign) == ["cpu-clock-foreign"]
    assert expected_timer(foreign.timers[0], 900, [900]).clock == foreign.timers[0].clock


def test_dead_thread_cpu_clock_goes_to_the_main_thread() -> None:
    plan = build_plan(process([timer(1, clock=make_cpu_clock(4321, CpuClockType.SCHED, True))]))
    assert codes(plan) == ["cpu-clock-remapped"]
    assert plan.decisions[0].severity == "warning"
    clock = expected_timer(plan.timers[0], 900, [900]).clock
    assert clock == make_cpu_clock(900, CpuClockType.SCHED, per_thread=True)


def test_alarm_clock_reported_only_when_known_unsupported() -> None:
    timers = [timer(1, clock=8)]
    assert build_plan(process(timers)).decisions == ()
    supported = TargetFacts(sigpending_soft=-1, alarm_supported=True)
    assert build_plan(process(timers), facts=supported).decisions == ()
    plan = build_plan(process(timers), facts=TargetFacts(-1, alarm_supported=False))
    assert codes(plan) == ["alarm-unsupported"]
    assert "EOPNOTSUPP" in plan.decisions[0].reason


def test_rlimit_headroom_counts_timers_and_taken_ids() -> None:
    timers = [timer(i) for i in range(5)]
    roomy = TargetFacts(sigpending_soft=100, sigpending_in_use=3)
    assert "rlimit-headroom" not in codes(build_plan(process(timers), facts=roomy))
    exact_fit = TargetFacts(sigpending_soft=8, sigpending_in_use=3)
    assert "rlimit-headroom" not in codes(build_plan(process(timers), facts=exact_fit))
    taken = TargetSpec(taken_ids=(100,))
    plan = build_plan(process(timers), facts=exact_fit, target=taken)
    assert codes(plan) == ["rlimit-headroom"]
    assert "room for 5 timers" in plan.decisions[0].reason
    assert "holds 6" in plan.decisions[0].reason
    # The target's own lowered limit is what counts.
    lowered = build_plan(process(timers), facts=roomy, target=TargetSpec(sigpending_limit=4))
    assert codes(lowered) == ["rlimit-headroom"]
    unlimited = TargetFacts(sigpending_soft=-1, sigpending_in_use=10**6)
    assert build_plan(process(timers), facts=unlimited).decisions == ()


def test_values_armed_and_crius_zero_remaining_rule() -> None:
    plan = build_plan(
        process(
            [
                timer(1, values=armed(5, 10)),
                timer(2, values=TimerValues(0, 10 * MS, 0)),
                timer(3, values=TimerValues(0, 0, 0)),
                timer(4, values=None),
            ]
        )
    )
    arms = [(t.value_ns, t.interval_ns, t.arm) for t in plan.timers]
    assert arms == [(5 * MS, 10 * MS, True), (10 * MS, 10 * MS, True), (0, 0, False), (0, 0, False)]
    assert codes(plan) == ["value-from-interval"]


def test_no_values_at_all_is_said_once() -> None:
    plan = build_plan(process([timer(1, values=None), timer(2, values=None)]))
    assert codes(plan) == ["no-values"]
    assert [t.arm for t in plan.timers] == [False, False]


def test_unblockable_signal_is_left_disarmed_and_out_of_the_mask() -> None:
    plan = build_plan(
        process([timer(1, signo=9, values=armed(5)), timer(2, signo=10, values=armed(5))])
    )
    assert codes(plan) == ["signal-unblockable"]
    assert [t.arm for t in plan.timers] == [False, True]
    assert plan.signal_mask == 1 << 9  # SIGUSR1 only


def test_signal_mask_ignores_sigev_none() -> None:
    plan = build_plan(process([timer(1, notify=SIGEV_NONE, signo=14), timer(2, signo=34)]))
    assert plan.signal_mask == 1 << 33


def test_wrap_cost_counts_to_int_max_and_round() -> None:
    assert wrap_cost(2**31 - 1, 0) == 2
    assert wrap_cost(100, 3) == (2**31 - 100) + 4
    assert wrap_cost(100, 3, taken=2) == (2**31 - 100) + 2


def test_plan_survives_the_wire() -> None:
    plan = build_plan(
        process(
            [
                timer(1, notify=SIGEV_THREAD_ID, target=HELPER, values=armed(5, 10)),
                timer(9, clock=make_cpu_clock(PID, CpuClockType.VIRT)),
            ],
            tids=(PID, HELPER),
        ),
        target=TargetSpec(taken_ids=(3,), start_counter=5, sigpending_limit=50),
        facts=TargetFacts(10, 0),
    )
    assert from_wire(RestorePlan, to_wire(plan)) == plan


def _bulk_cases() -> dict[str, tuple[list[Timer], bool]]:
    """Timers, and whether a plan of them in ID order is made in bulk (no decision needed)."""
    simple = [timer(i, values=armed(100 + i, 7)) for i in (1, 5, 9)]
    return {
        "armed": (simple, True),
        "no values": ([timer(i, values=None) for i in (1, 5, 9)], True),
        "a thread target": ([*simple, timer(12, notify=SIGEV_SIGNAL | SIGEV_THREAD_ID)], False),
        "an alarm clock": ([*simple, timer(12, clock=9)], False),
        "SIGKILL": ([*simple, timer(12, signo=9)], False),
        "expired, periodic": ([*simple, timer(12, values=TimerValues(0, 5 * MS, 0))], False),
        "some without values": ([*simple, timer(12, values=None)], False),
        "a CPU clock": ([*simple, timer(12, clock=make_cpu_clock(PID, CpuClockType.PROF))], False),
    }


@pytest.mark.parametrize("case", list(_bulk_cases()))
def test_a_plan_made_in_bulk_is_the_plan_made_timer_by_timer(case: str) -> None:
    """Timers in ID order that need no decision are planned from their columns in bulk
    (a RecordTuple, whose columns the native arrays take); in reverse order they are planned one
    by one: both plans, and their native arrays, are the same."""
    timers, bulk = _bulk_cases()[case]
    in_order = build_plan(process(timers))
    reversed_ = build_plan(process(reversed(timers)))
    assert (type(in_order.timers) is RecordTuple) is bulk
    assert type(reversed_.timers) is not RecordTuple
    assert in_order == reversed_
    assert [t.id for t in in_order.timers] == sorted(t.id for t in timers)
    assert timer_arrays(in_order) == timer_arrays(reversed_)
    assert in_order.valued == reversed_.valued == sum(t.values is not None for t in timers)
