"""The plan as the native worker's C loops take it (restore/arrays.py), made before the fork."""

from __future__ import annotations

from array import array

from builders import HELPER, PID, armed, process, timer

from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import SIGEV_THREAD_ID, TimerValues
from timertui.restore.native.arrays import SPEC, subset, timer_arrays
from timertui.restore.plan import RestorePlan, build_plan


def _plan() -> RestorePlan:
    return build_plan(
        process(
            [
                timer(2, values=armed(5000, 1000)),
                timer(3, values=None),
                timer(4, notify=SIGEV_THREAD_ID, target=HELPER, values=armed(9000)),
                timer(9, clock=make_cpu_clock(PID, CpuClockType.SCHED), values=armed(3000)),
                timer(11, values=TimerValues(0, 0, 0)),
            ],
            tids=(PID, HELPER),
        )
    )


def test_specs_ids_and_values_follow_the_plan() -> None:
    plan = _plan()
    arrays = timer_arrays(plan)
    specs = [SPEC.unpack_from(arrays.specs, i * SPEC.size) for i in range(len(plan.timers))]
    assert [s[0] for s in specs] == [2, 3, 4, 9, 11] == list(array("i", arrays.ids))
    assert [s[5] for s in specs] == [t.sigval for t in plan.timers]
    assert all(s[4] == 0 for s in specs)  # tids: the worker's to fill in
    # The helper-thread target and the CPU clock of the old pid name the target's own.
    assert list(array("i", arrays.own)) == [2, 3]
    # Values read back for every timer that had them; the disarmed one should read 0.
    assert list(array("i", arrays.valued.indices)) == [0, 2, 3, 4]
    assert list(array("q", arrays.valued.values))[-1] == 0
    assert list(array("i", arrays.armed.indices)) == [0, 2, 3]
    assert list(array("q", arrays.armed.intervals)) == [1000 * 10**6, 0, 0]
    assert arrays.signal_mask == plan.signal_mask


def test_timers_all_armed_read_back_as_armed_and_main_thread_targets_are_the_workers() -> None:
    plan = build_plan(
        process(
            [timer(i, values=armed(1000 + i, 7)) for i in range(1, 5)]
            + [timer(5, notify=SIGEV_THREAD_ID, target=PID, values=armed(9))]
        )
    )
    arrays = timer_arrays(plan)
    # One set of arrays serves both (every captured timer is armed).
    assert arrays.armed is arrays.valued
    assert list(array("i", arrays.valued.indices)) == [0, 1, 2, 3, 4]
    assert list(array("q", arrays.valued.values)) == [t.value_ns for t in plan.timers]
    assert list(array("q", arrays.valued.intervals)) == [7 * 10**6] * 4 + [0]
    # The SIGEV_THREAD_ID timer notifies thread 0 (the main thread): the worker fills its tid.
    assert plan.timers[4].thread == 0 and list(array("i", arrays.own)) == [4]
    # Cached in the plan before a fork, so a forked worker does not walk the timers for them.
    assert {"ids", "valued"} <= plan.__dict__.keys() and plan.valued == 5


def test_subset_keeps_the_chosen_timers_columns_together() -> None:
    armed_ = timer_arrays(_plan()).armed
    kept = subset(armed_, lambda i: i != 2)
    assert kept.count == 2
    assert list(array("i", kept.indices)) == [0, 3]
    assert list(array("i", kept.ids)) == [2, 9]
    assert list(array("q", kept.values)) == [5000 * 10**6, 3000 * 10**6]
