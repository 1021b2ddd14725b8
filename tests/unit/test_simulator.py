"""The simulator backend: what it predicts for each kernel profile, its events, pacing, hold and
cancel. Pure computation: nothing here touches a timer (the differential proof against the real
kernel is test_simulator_diff.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from builders import armed, decision, done, of, process, timer

from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.errors import InputError
from timertui.model import INT_MAX, SIGEV_NONE
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.plan import RestorePlan, TargetFacts, TargetSpec, build_plan
from timertui.restore.sim.costs import Costs, save_costs
from timertui.restore.sim.runner import (
    INSTANT_PROGRESS,
    PACES,
    PROFILES,
    SIM_DECISION_CODES,
    SimRun,
    parse_pace,
)

# Round figures, so predictions can be checked by hand.
COSTS = Costs(
    create_ns=400.0,
    delete_ns=500.0,
    exact_create_ns=1000.0,
    settime_ns=300.0,
    prctl_ns=200.0,
    process_start_ns=1_000_000.0,
    spawn_start_ns=40_000_000.0,
    start_timer_ns=100.0,
    setup_ns=100_000.0,
    setup_timer_ns=1000.0,
    probe_ns=50_000.0,
    create_phase_ns=70_000.0,
    walk_timer_ns=2000.0,
    arm_ns=30_000.0,
    verify_ns=50_000.0,
    verify_timer_ns=1000.0,
    source="calibrated",
    release="test",
    measured_at="2026-01-01T00:00:00Z",
)
SEED = (1_000_000, 2_000_000)


def seed(**target: int) -> RestorePlan:
    return build_plan(
        process([timer(i, notify=SIGEV_NONE) for i in SEED]), target=TargetSpec(**target)
    )


def simulate(plan: RestorePlan, kernel: str, **options: object) -> list[ev.Event]:
    return list(run(plan, "sim", kernel=kernel, costs=COSTS, **options))  # type: ignore[arg-type]


# -- the seed snapshot on each kernel ----------------------------------------------------------


def test_seed_on_3_10_walks_two_million_creates_in_the_predicted_time() -> None:
    events = simulate(seed(), "3.10-6.14:in-use=0")
    end = done(events)
    assert end.ok and end.mode == "walk"
    assert (end.creates, end.deletes) == (2_000_001, 1_999_999)
    assert end.syscalls == 1 + 2_000_001 + 1_999_999 + 2 + 2  # probe, walk, arm, verify
    walk_ns = 70_000 + 2_000_001 * 400 + 1_999_999 * 500 + 2 * 2000
    assert end.phases["create"] == walk_ns  # about 1.8 s, as measured natively
    assert list(end.phases) == ["spawn", "setup", "probe", "create", "arm", "verify"]
    assert end.wall_ns == sum(end.phases.values())
    probe = of(ev.Probe, events)[0]
    assert (probe.exact_ids, probe.errno) == (False, 22)
    assert decision(events, "walk-mode").reason.startswith(
        "PR_TIMER_CREATE_RESTORE_IDS gave EINVAL"
    )
    progress = of(ev.Progress, events)
    assert 80 <= len(progress) <= 100  # every 20 ms of the predicted 1.8 s
    assert progress[-1].current_id == 2_000_000 and progress[-1].creates == 2_000_001
    created = [i for s in of(ev.TimerState, events) if s.state == "created" for i in s.ids]
    assert created == list(SEED)


def test_seed_on_6_15_creates_two_timers_at_their_ids() -> None:
    events = simulate(seed(), "6.15+")
    end = done(events)
    assert end.ok and end.mode == "exact"
    assert (end.creates, end.deletes) == (2, 0)
    assert end.phases["create"] == 70_000 + 2 * 1000
    assert end.phases["arm"] == 30_000 + 2 * 300
    assert list(end.phases) == ["spawn", "setup", "probe", "create", "arm", "prctl-off", "verify"]
    assert decision(events, "exact-mode").severity == "info"


def test_first_id_below_the_counter_shows_the_wrap_and_its_cost() -> None:
    events = simulate(seed(), "3.10-6.14:counter=3000000")
    wrap = decision(events, "wrap-needed")
    cost = (INT_MAX - 3_000_000) + 1_000_001  # 3,000,001..INT_MAX, then 0..1,000,000
    assert wrap.severity == "fatal" and wrap.timer_id == 1_000_000
    assert wrap.reason.startswith("Can't create timers, kernel don't give them consequently")
    assert f"{cost} creates, about {cost * 900 / 1e9:.0f} s at 1.11 M creates/s" in wrap.reason
    assert "--allow-wrap" in wrap.reason
    end = done(events)
    assert not end.ok and (end.creates, end.deletes) == (1, 1)
    failed = [s for s in of(ev.TimerState, events) if s.state == "failed"]
    assert failed[0].ids == SEED


def test_an_allowed_wrap_past_int_max_is_computed_not_stepped() -> None:
    events = simulate(seed(), "3.10-6.14:counter=3000000", allow_wrap=True)
    end = done(events)
    cost = (INT_MAX - 3_000_000) + 1_000_001
    assert end.ok
    assert end.creates == 1 + cost + 1_000_000  # the first try, the wrap, then up to 2,000,000
    assert end.phases["create"] > 1800 * 10**9  # about half an hour of walking, predicted
    # A few hundred events for 2^31 creates: the walk was computed, not stepped.
    assert len(events) < INSTANT_PROGRESS + 30
    progress = of(ev.Progress, events)
    wrapped = [p.current_id for p in progress]
    assert max(wrapped) > INT_MAX - 30_000_000 and wrapped[-1] == 2_000_000
    assert decision(events, "wrap-needed").severity == "warning"


def test_taken_id_in_exact_mode_is_ebusy_and_in_the_walk_an_overshoot() -> None:
    plan = build_plan(process([timer(2), timer(5), timer(9)]), target=TargetSpec(taken_ids=(5,)))
    exact = simulate(plan, "6.15+")
    busy = decision(exact, "id-busy")
    assert (busy.timer_id, busy.severity) == (5, "error")
    assert "Can't create posix timer - 1: -16" in busy.reason
    assert done(exact).verified == 2
    walk = simulate(plan, "3.10-6.14")
    over = decision(walk, "walk-overshoot")
    assert over.severity == "fatal" and "gave 6" in over.reason
    assert decision(walk, "target-prepared").reason == (
        "target prepared: IDs [5] taken, ID counter at 0"
    )


def test_rlimit_sigpending_is_checked_and_runs_out() -> None:
    plan = build_plan(process([timer(i) for i in range(6)]))
    events = simulate(plan, "6.15+:sigpending=4,in-use=1")
    headroom = decision(events, "rlimit-headroom")
    assert "room for 3 timers, the restore holds 6" in headroom.reason
    failed = [i for s in of(ev.TimerState, events) if s.state == "failed" for i in s.ids]
    assert failed == [3, 4, 5]
    assert [d.severity for d in of(ev.Decision, events) if d.code == "create-failed"] == [
        "fatal"
    ] * 3


def test_alarm_clock_support_is_a_parameter() -> None:
    plan = build_plan(process([timer(1, clock=8), timer(2)]))
    assert decision(simulate(plan, "6.15+:alarm=no"), "alarm-unsupported").timer_id == 1
    assert done(simulate(plan, "6.15+:alarm=yes")).ok
    walk = simulate(plan, "3.10-6.14:alarm=no")
    reason = decision(walk, "create-failed").reason
    assert reason == "Can't create posix timer - 0 (EOPNOTSUPP: Operation not supported)"


def test_the_host_is_what_the_caller_says_where_the_profile_is_silent() -> None:
    plan = build_plan(process([timer(1, clock=8), timer(2)]))
    told = TargetFacts(sigpending_soft=500, sigpending_in_use=7, alarm_supported=True)
    model = decision(simulate(plan, "6.15+", host=told), "sim-model").reason
    assert "RLIMIT_SIGPENDING 500 (7 in use by this user); alarm clocks work" in model
    # Nobody said: no limit and no alarm clocks, whatever this host has.
    model = decision(simulate(plan, "6.15+"), "sim-model").reason
    assert "RLIMIT_SIGPENDING unlimited; alarm clocks unsupported" in model
    model = decision(simulate(plan, "6.15+:sigpending=9,alarm=no", host=told), "sim-model")
    assert "RLIMIT_SIGPENDING 9 (7 in use by this user); alarm clocks unsupported" in model.reason


# -- lowest-free kernels -----------------------------------------------------------------------


def test_lowest_free_walk_never_advances_and_says_what_restoring_needs() -> None:
    events = simulate(seed(), "lowest-free:sigpending=65536,in-use=0")
    stuck = decision(events, "walk-stuck")
    assert stuck.severity == "fatal" and stuck.timer_id == 1_000_000
    assert "0 for wanted ID 1000000" in stuck.reason
    assert "once 0 is deleted the next create gets 0 again" in stuck.reason
    assert "1,999,999 fillers, 2,000,001 timers at once" in stuck.reason
    assert "RLIMIT_SIGPENDING room 65,536" in stuck.reason
    assert (done(events).creates, done(events).deletes) == (2, 2)


def test_lowest_free_with_fillers_hits_rlimit_sigpending() -> None:
    events = simulate(seed(), "lowest-free:fillers=yes,sigpending=65536,in-use=0")
    assert decision(events, "fillers").severity == "info"
    failed = decision(events, "create-failed")
    assert failed.severity == "fatal" and "EAGAIN: RLIMIT_SIGPENDING reached" in failed.reason
    end = done(events)
    assert (end.creates, end.deletes) == (65_536, 65_536)  # fillers made, then dropped


def test_lowest_free_with_fillers_and_room_restores_holding_them_all() -> None:
    events = simulate(seed(), "lowest-free:fillers=yes,sigpending=unlimited")
    end = done(events)
    assert end.ok
    assert (end.creates, end.deletes) == (2_000_001, 1_999_999)
    assert end.phases["create"] == 70_000 + 2_000_001 * 400 + 1_999_999 * 500 + 2 * 2000


def test_pre_3_10_shares_ids_with_other_processes() -> None:
    plan = build_plan(process([timer(2), timer(3)]))
    events = simulate(plan, "pre-3.10:others=0+1+3,fillers=yes")
    assert [s.ids for s in of(ev.TimerState, events) if s.state == "created"] == [(2,)]
    over = decision(events, "walk-overshoot")
    assert "held by another process" in over.reason and over.timer_id == 3


# -- the event stream --------------------------------------------------------------------------


def test_sim_events_use_the_common_schema() -> None:
    plan = build_plan(process([timer(0, values=armed(5, 10)), timer(40_000)]))
    events = simulate(plan, "3.10-6.14", mode="walk")
    assert isinstance(events[0], ev.Start)
    assert (events[0].backend, events[0].kernel) == ("sim", "3.10-6.14")
    assert [ev.decode(json.loads(ev.to_json(e))) for e in events] == events
    times = [e.t_ns for e in events]
    assert times == sorted(times)
    phases = [p.name for p in of(ev.Phase, events)]
    assert phases == [p for p in ev.PHASES if p in phases]
    codes = {d.code for d in of(ev.Decision, events)}
    assert codes <= set(ev.DECISION_CODES) | set(SIM_DECISION_CODES)
    assert isinstance(events[-1], ev.Done)


def test_spawned_worker_start_is_predicted_from_its_own_cost() -> None:
    events = simulate(seed(), "6.15+", start="spawn")
    assert events[0].t_ns == 40_000_000 + 2 * 100
    assert done(events).phases["spawn"] == 40_000_000 + 2 * 100


def test_the_cost_model_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = decision(list(run(seed(), "sim", kernel="6.15+")), "sim-model")
    assert "built-in defaults (no calibration for" in model.reason
    assert "run `timertui calibrate`" in model.reason
    save_costs(Costs(**{**COSTS.__dict__, "release": __import__("os").uname().release}))
    model = decision(list(run(seed(), "sim", kernel="6.15+")), "sim-model")
    assert "calibrated on" in model.reason and "walk step 900 ns" in model.reason


def test_bad_kernel_and_pace_are_input_errors_before_any_event() -> None:
    with pytest.raises(InputError, match="unknown kernel profile 'windows'"):
        run(seed(), "sim", kernel="windows")
    with pytest.raises(InputError, match="unknown pace 'fast'"):
        run(seed(), "sim", pace="fast")


# -- pacing ------------------------------------------------------------------------------------


def test_paces() -> None:
    assert PACES[0] == "instant" and set(PROFILES) >= {"6.15+", "lowest-free"}
    paces = ("", "instant", "real", "x10", "x0.1", "\N{MULTIPLICATION SIGN}4")
    assert [parse_pace(p) for p in paces] == [None, None, 1.0, 10.0, 0.1, 4.0]
    for bad in ("x0", "x-1", "xinf", "slow", "x"):
        with pytest.raises(InputError):
            parse_pace(bad)


def walk_plan(ms: int) -> RestorePlan:
    """One timer whose walk is predicted to take `ms` milliseconds at 900 ns a step."""
    return build_plan(process([timer(ms * 1_000_000 // 900)]))


def timed(stream: Iterable[ev.Event]) -> list[tuple[float, ev.Event]]:
    t0 = time.monotonic()
    return [(time.monotonic() - t0, e) for e in stream]


def test_real_pace_spreads_the_events_over_the_predicted_time() -> None:
    seen = timed(
        run(walk_plan(150), "sim", mode="walk", kernel="3.10-6.14", pace="real", costs=COSTS)
    )
    end = done([e for _, e in seen])
    wall = seen[-1][0]
    assert wall >= 0.95 * end.wall_ns / 1e9  # no event before its predicted time
    progress = [(t, e) for t, e in seen if isinstance(e, ev.Progress)]
    assert len(progress) >= 6
    for t, e in progress:
        assert t >= 0.95 * e.t_ns / 1e9


def test_scaled_pace_and_instant() -> None:
    plan = walk_plan(300)
    fast = timed(run(plan, "sim", mode="walk", kernel="3.10-6.14", pace="x10", costs=COSTS))
    predicted = done([e for _, e in fast]).wall_ns / 1e9
    assert fast[-1][0] >= 0.95 * predicted / 10
    # Instant: a predicted 10-second walk plays back at once.
    slow = timed(run(walk_plan(10_000), "sim", mode="walk", kernel="3.10-6.14", costs=COSTS))
    assert done([e for _, e in slow]).wall_ns > 10 * 10**9
    assert slow[-1][0] < 1.0


def test_cancel_from_another_thread_ends_with_cancelled() -> None:
    stream = run(walk_plan(5000), "sim", mode="walk", kernel="3.10-6.14", pace="real", costs=COSTS)
    assert isinstance(stream, SimRun)
    first = next(stream)
    threading.Timer(0.05, stream.cancel).start()
    rest = list(stream)
    assert isinstance(first, ev.Start)
    error = rest[-1]
    assert isinstance(error, ev.Error) and error.code == "cancelled"
    assert "create phase (simulated)" in error.message
    assert list(stream) == []


def test_closing_the_stream_stops_it() -> None:
    stream = run(walk_plan(5000), "sim", mode="walk", kernel="3.10-6.14", pace="real", costs=COSTS)
    next(stream)
    stream.close()
    assert list(stream) == []


# -- hold --------------------------------------------------------------------------------------


def test_hold_plays_back_modelled_expirations() -> None:
    cpu = make_cpu_clock(0, CpuClockType.SCHED)
    plan = build_plan(
        process(
            [
                timer(1, values=armed(5, 10)),  # every 10 ms: 10 per 100 ms report
                timer(2, values=armed(250)),  # once
                timer(3, notify=SIGEV_NONE, values=armed(5, 10)),  # signals nobody
                timer(4, clock=cpu, values=armed(5, 10)),  # the target sleeps: no CPU time
            ]
        )
    )
    stream = run(plan, "sim", hold=True, kernel="6.15+", pace="x1000", costs=COSTS)
    expirations: list[ev.Expiration] = []
    for event in stream:
        if isinstance(event, ev.Done):
            assert event.ok and event.holding
        if isinstance(event, ev.Expiration):
            expirations.append(event)
            if len(expirations) == 6:
                break
    stream.close()
    assert {e.timer_id for e in expirations} == {1, 2}
    ones = [e for e in expirations if e.timer_id == 1]
    assert [e.count for e in ones] == [10] * len(ones)
    assert [e.total for e in ones] == [10 * (k + 1) for k in range(len(ones))]
    (once,) = [e for e in expirations if e.timer_id == 2]
    assert (once.count, once.total) == (1, 1)


def test_hold_needs_a_paced_playback() -> None:
    events = simulate(build_plan(process([timer(1, values=armed(5, 10))])), "6.15+", hold=True)
    assert decision(events, "sim-hold").severity == "info"
    assert not done(events).holding
