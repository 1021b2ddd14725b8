"""The differential proof: generated restore plans run by the native worker on this kernel and
by the simulator give the same decisions, counts and final IDs, timerfds and interval timers
included (their placement, failures and verification).

`6.15+` is compared with the native worker in the same mode (auto, exact, walk); `3.10-6.14`
(whose prctl gives EINVAL, so it walks) with the native worker forced into walk mode. The
native worker holds after `done`, so the final ID set is read from its /proc/PID/timers: the
kernel's own answer, taken IDs and anything left behind included. IDs stay below 50,000 so the
real walks stay short; wraps are allowed only from counters just below INT_MAX.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from builders import armed, process, timer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timertui.capture.proc_timers import read_timers
from timertui.choices import Mode
from timertui.model import (
    INT_MAX,
    O_CLOEXEC,
    O_NONBLOCK,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    IntervalTimer,
    Timer,
    TimerFd,
)
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.native.runner import local_facts
from timertui.restore.plan import RestorePlan, TargetFacts, TargetSpec, build_plan
from timertui.restore.sim.costs import DEFAULT_COSTS
from timertui.restore.sim.runner import SIM_DECISION_CODES, SimRun

ID_SPACE = 50_000
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# Reasons that may differ: the wrap's rate (measured natively, predicted by the simulator), the
# slots this user holds (other processes of root's hold some), forced walk vs. EINVAL.
MAY_DIFFER = frozenset({"wrap-needed", "rlimit-headroom", "walk-mode"})


def outcome(events: list[ev.Event], final_ids: list[int]) -> dict[str, Any]:
    """What must be equal: decisions (sim-only ones aside) and their reasons, the end's counts,
    which timers were created, failed (with errno) and armed, the verification and the IDs held
    at the end."""
    (done,) = [e for e in events if isinstance(e, ev.Done)]
    (verify,) = [e for e in events if isinstance(e, ev.Verify)]
    states: dict[str, set[tuple[str, int, int]]] = {
        "created": set(),
        "failed": set(),
        "armed": set(),
    }
    for s in events:
        if isinstance(s, ev.TimerState):
            states[s.state].update((s.timer_kind, i, s.errno) for i in s.ids)
    return {
        "decisions": [
            (d.code, d.severity, d.timer_kind, d.timer_id)
            for d in events
            if isinstance(d, ev.Decision) and d.code not in SIM_DECISION_CODES
        ],
        "reasons": [
            d.reason
            for d in events
            if isinstance(d, ev.Decision)
            and d.code not in MAY_DIFFER
            and d.code not in SIM_DECISION_CODES
        ],
        "done": (done.ok, done.mode, done.creates, done.deletes, done.syscalls, done.verified),
        "phases": list(done.phases),
        "states": states,
        "verify": [(c.timer_kind, c.timer_id, c.equal) for c in verify.checks],
        "equal": verify.equal_ids,
        "final": final_ids,
        "errors": [e for e in events if isinstance(e, ev.Error)],
    }


def native(plan: RestorePlan, mode: Mode, allow_wrap: bool) -> dict[str, Any]:
    stream = run(plan, mode=mode, hold=True, allow_wrap=allow_wrap)
    events: list[ev.Event] = []
    try:
        for event in stream:
            events.append(event)
            if isinstance(event, ev.Done | ev.Error):
                break
        final = sorted(t.id for t in read_timers(events[0].pid).timers)  # type: ignore[attr-defined]
    finally:
        stream.close()
    return outcome(events, final)


@functools.cache
def this_host() -> TargetFacts:
    """The host the native worker restores on, for what the profile leaves to the host (alarm
    clocks, RLIMIT_SIGPENDING): the model is told, it reads nothing of this host itself."""
    return local_facts(probe_alarm=True)


def simulated(plan: RestorePlan, kernel: str, mode: Mode, allow_wrap: bool) -> dict[str, Any]:
    stream = run(
        plan,
        "sim",
        mode=mode,
        allow_wrap=allow_wrap,
        kernel=kernel,
        costs=DEFAULT_COSTS,
        host=this_host(),
    )
    assert isinstance(stream, SimRun)
    events = list(stream)
    return outcome(events, list(stream.allocator.ids))


# -- plans -----------------------------------------------------------------------------------

# Most timers restore; about one in six fails on purpose, before or after taking its ID.
TIMER_KINDS = st.sampled_from(
    [
        *[{}] * 8,
        {"values": None},
        {"notify": SIGEV_NONE, "values": armed(90_000, 1000)},
        {"clock": 0, "notify": SIGEV_SIGNAL, "signo": 40},
        {"clock": 7, "values": armed(0, 500)},
        {"clock": 8},  # alarm: EOPNOTSUPP here without an RTC, after the ID is taken
        {"clock": 4},  # MONOTONIC_RAW: no timers (EOPNOTSUPP before the ID)
        {"signo": 0},  # a signal-notifying timer without a signal: EINVAL after the ID
    ]
)


@st.composite
def id_sets(draw: st.DrawFn) -> list[int]:
    if draw(st.booleans()):  # dense
        first = draw(st.integers(0, ID_SPACE - 20))
        return list(range(first, first + draw(st.integers(1, 12))))
    return sorted(draw(st.sets(st.integers(0, ID_SPACE), min_size=1, max_size=10)))


# Timerfds at fds no worker holds (fd 1, its stdout, is taken: EBUSY in both), on the clocks
# that need no RTC, absolute, stalled periodic, with ticks. (Alarm-clock timerfds are left out:
# what the kernel does with an absolute one, and shows of it, is not modelled.)
TIMERFDS = st.lists(
    st.builds(
        TimerFd,
        fd=st.sampled_from([1, 300, 301, 517]),
        clock=st.sampled_from([0, 1, 7]),
        ticks=st.sampled_from([0, 0, 2]),
        settime_flags=st.sampled_from([0, 0, 1]),
        remaining_ns=st.sampled_from([0, 5 * 10**9, 3600 * 10**9]),
        interval_ns=st.sampled_from([0, 10**8]),
        flags=st.sampled_from([2, O_CLOEXEC | 2, O_NONBLOCK | 2]),
    ),
    max_size=3,
    unique_by=lambda t: t.fd,
)
ITIMERS = st.lists(
    st.builds(
        IntervalTimer,
        which=st.sampled_from([0, 1, 2]),
        value_s=st.sampled_from([0, 30]),
        value_us=st.sampled_from([0, 500_000, 1_000_000]),  # 1,000,000: criu #3001
        interval_s=st.sampled_from([0, 10]),
        interval_us=st.sampled_from([0, 250_000]),
    ),
    max_size=3,
    unique_by=lambda t: t.which,
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[RestorePlan, bool]:
    ids = draw(id_sets())
    timers: list[Timer] = [timer(i, **draw(TIMER_KINDS)) for i in ids]
    near = draw(st.sets(st.integers(max(ids[0] - 3, 0), ids[-1] + 3), max_size=2))
    taken = tuple(
        draw(st.permutations(sorted(near | draw(st.sets(st.integers(0, ID_SPACE), max_size=2)))))
    )
    counter = draw(
        st.one_of(
            st.just(0),
            st.integers(0, ID_SPACE),
            st.integers(ids[0] + 1, ids[0] + 100),  # just past the first ID: a wrap
            st.integers(INT_MAX - 2000, INT_MAX),
        )
    )
    limit = 0 if draw(st.integers(0, 9)) == 9 else None  # RLIMIT_SIGPENDING 0: EAGAIN
    allow_wrap = counter > INT_MAX - 3000 and draw(st.booleans())
    target = TargetSpec(taken_ids=taken[: draw(st.integers(0, 3))], start_counter=counter)
    target = TargetSpec(target.taken_ids, target.start_counter, limit)
    proc = dataclasses.replace(
        process(timers), timerfds=tuple(draw(TIMERFDS)), itimers=tuple(draw(ITIMERS))
    )
    return build_plan(proc, target=target), allow_wrap


@SETTINGS
@given(cases(), st.sampled_from(["auto", "exact", "walk"]))
def test_6_15_profile_equals_the_native_worker(
    needs_exact_ids: None, case: tuple[RestorePlan, bool], mode: Mode
) -> None:
    plan, allow_wrap = case
    assert simulated(plan, "6.15+:in-use=0", mode, allow_wrap) == native(plan, mode, allow_wrap)


@SETTINGS
@given(cases(), st.sampled_from(["auto", "walk"]))
def test_3_10_profile_equals_the_native_walk(
    needs_exact_ids: None, case: tuple[RestorePlan, bool], mode: Mode
) -> None:
    plan, allow_wrap = case
    sim = simulated(plan, "3.10-6.14:in-use=0", mode, allow_wrap)
    assert sim == native(plan, "walk", allow_wrap)


def test_the_seed_shape_scaled_down_is_equal(needs_exact_ids: None) -> None:
    """IDs 10,000 and 20,000 (the seed case scaled down), every mode, both profiles."""
    plan = build_plan(process([timer(10_000), timer(20_000)]))
    walk = native(plan, "walk", False)
    assert walk["done"][2:4] == (20_001, 19_999)
    assert simulated(plan, "3.10-6.14:in-use=0", "auto", False) == walk
    assert simulated(plan, "6.15+:in-use=0", "walk", False) == walk
    assert simulated(plan, "6.15+:in-use=0", "auto", False) == native(plan, "auto", False)
