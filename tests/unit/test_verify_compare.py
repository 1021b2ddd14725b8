"""verify.compare over built records: every field of every kind, pids and tids remapped, time
left judged against the time since the checkpoint, and the CRIU issues findings name."""

from __future__ import annotations

from dataclasses import replace

from builders import HELPER, MS, PID, armed, process, timer

from timertui import model
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import IntervalTimer, ProcessTimers, TimerFd
from timertui.verify.compare import compare_process
from timertui.verify.findings import Finding, Liveness, Status

LIVE, LIVE_HELPER = 5000, 5001
IDS = {PID: LIVE, HELPER: LIVE_HELPER}
O_RDWR = 2


def moved(proc: ProcessTimers) -> ProcessTimers:
    """`proc` as restored at pid LIVE: targets renamed, values as they were."""
    timers = tuple(
        replace(t, target={PID: LIVE, HELPER: LIVE_HELPER}[t.target]) for t in proc.timers
    )
    return replace(proc, pid=LIVE, tids=(LIVE, LIVE_HELPER)[: len(proc.tids)], timers=timers)


def one(findings: tuple[Finding, ...]) -> Finding:
    (finding,) = findings
    return finding


def test_a_process_restored_at_another_pid_is_equal_through_the_pid_map() -> None:
    old = process([timer(0, values=armed(900, 1000)), timer(7, values=armed(50_000))])
    found = compare_process(old, moved(old), IDS, elapsed_ns=10 * MS)
    assert [(f.key, f.status, f.liveness) for f in found] == [
        (0, Status.EQUAL, Liveness.WATCHING),
        (7, Status.EQUAL, Liveness.NONE),
    ]
    assert all(f.ok for f in found)
    # Without the map the target is the old pid: a difference, named.
    diffs = compare_process(old, moved(old), {}, elapsed_ns=10 * MS)[0].diffs
    assert [(d.name, d.checkpoint, d.live) for d in diffs] == [("target", PID, LIVE)]


def test_missing_and_extra_timers_are_findings() -> None:
    old = process([timer(0), timer(1)])
    new = moved(process([timer(1), timer(2)]))
    found = compare_process(old, new, IDS, None)
    assert [(f.key, f.status) for f in found] == [
        (0, Status.MISSING),
        (1, Status.EQUAL),
        (2, Status.EXTRA),
    ]
    assert [f.ok for f in found] == [False, True, False]


def test_cpu_clocks_and_thread_targets_are_remapped() -> None:
    tids = (PID, HELPER)
    old = process(
        [
            timer(3, clock=make_cpu_clock(HELPER, CpuClockType.SCHED, True)),
            timer(4, notify=model.SIGEV_THREAD_ID, target=HELPER),
            timer(5, clock=make_cpu_clock(PID, CpuClockType.PROF)),
        ],
        tids,
    )
    new = replace(
        moved(old),
        timers=(
            timer(3, clock=make_cpu_clock(LIVE_HELPER, CpuClockType.SCHED, True), target=LIVE),
            timer(4, notify=model.SIGEV_THREAD_ID, target=LIVE_HELPER),
            timer(5, clock=make_cpu_clock(LIVE, CpuClockType.PROF), target=LIVE),
        ),
    )
    assert [f.status for f in compare_process(old, new, IDS, None)] == [Status.EQUAL] * 3
    wrong = replace(new, timers=(new.timers[0], replace(new.timers[1], target=LIVE), new.timers[2]))
    bad = compare_process(old, wrong, IDS, None)[1]
    assert bad.status is Status.DIFFERS
    assert [(d.name, d.checkpoint, d.live) for d in bad.diffs] == [("target", LIVE_HELPER, LIVE)]


def test_a_thread_timer_come_back_as_sigev_none_names_criu_2996() -> None:
    old = process([timer(4, notify=model.SIGEV_THREAD_ID, target=HELPER)], (PID, HELPER))
    new = replace(moved(old), timers=(timer(4, notify=model.SIGEV_NONE, target=LIVE),))
    finding = one(compare_process(old, new, IDS, None))
    assert finding.status is Status.DIFFERS and finding.criu_issue == "#2996/#3117"
    assert [d.name for d in finding.diffs] == ["notify"]


def test_signal_and_sigval_differences() -> None:
    old = process([timer(0)])
    new = replace(moved(old), timers=(replace(moved(old).timers[0], signo=10, sigval=1),))
    finding = one(compare_process(old, new, IDS, None))
    assert [(d.name, d.checkpoint, d.live) for d in finding.diffs] == [
        ("signo", 34, 10),
        ("sigval", 0xC0FFEE00, 1),
    ]


def test_a_one_shot_that_ran_out_since_is_expired_and_one_that_could_not_is_lost() -> None:
    old = process([timer(0, values=armed(100))])
    new = replace(moved(old), timers=(replace(moved(old).timers[0], values=armed(0)),))
    expired = one(compare_process(old, new, IDS, elapsed_ns=1000 * MS))
    assert expired.status is Status.EXPIRED and expired.ok
    lost = one(compare_process(old, new, IDS, elapsed_ns=10 * MS))
    assert lost.status is Status.DIFFERS and not lost.ok and "lost" in lost.note
    # Time since unknown: it may have expired, nothing says it did not.
    assert one(compare_process(old, new, IDS, None)).status is Status.EXPIRED


def test_time_left_must_lie_between_the_checkpoint_s_minus_the_time_since_and_it() -> None:
    old = process([timer(0, values=armed(10_000))])

    def left(ms: int, elapsed_ms: int) -> Status:
        new = replace(moved(old), timers=(replace(moved(old).timers[0], values=armed(ms)),))
        return one(compare_process(old, new, IDS, elapsed_ms * MS)).status

    assert left(9_000, 2_000) is Status.EQUAL
    assert left(10_000, 2_000) is Status.EQUAL  # restored just now: the full time left
    assert left(7_000, 2_000) is Status.DIFFERS  # ran down more than the time since
    assert left(11_000, 2_000) is Status.DIFFERS  # more than it ever had


def test_a_periodic_timer_disarmed_live_is_dead_and_its_interval_differs() -> None:
    old = process([timer(0, values=armed(500, 1000))])
    new = replace(moved(old), timers=(replace(moved(old).timers[0], values=armed(0)),))
    finding = one(compare_process(old, new, IDS, 10 * MS))
    assert finding.liveness is Liveness.DEAD and not finding.ok
    assert ("interval_ns", 1000 * MS, 0) in [(d.name, d.checkpoint, d.live) for d in finding.diffs]


def tfd(fd: int = 3, **fields: int) -> TimerFd:
    base = TimerFd(fd, 1, 0, 0, 50 * MS, 100 * MS, model.O_CLOEXEC | O_RDWR)
    return replace(base, **fields)


def with_fds(*fds: TimerFd) -> ProcessTimers:
    return replace(process([]), timerfds=fds)


def test_timerfds_compare_clock_fd_flags_settime_flags_and_interval() -> None:
    old = with_fds(tfd())
    # O_RDWR as CRIU's image keeps it, or not: only model.O_NONBLOCK and model.O_CLOEXEC count.
    assert one(compare_process(old, with_fds(tfd(flags=model.O_CLOEXEC)), IDS, None)).ok
    new = with_fds(tfd(clock=0, flags=model.O_NONBLOCK, settime_flags=1, interval_ns=MS))
    finding = one(compare_process(old, new, IDS, None))
    assert [d.name for d in finding.diffs] == ["clock", "flags", "interval_ns", "settime_flags"]


def test_a_stalled_timerfd_is_equal_when_restored_as_criu_does_and_is_watched() -> None:
    stalled = tfd(ticks=1, remaining_ns=0)
    assert stalled.stalled_periodic
    for live in (stalled, tfd(ticks=0, remaining_ns=0), tfd(ticks=3, remaining_ns=40 * MS)):
        finding = one(compare_process(with_fds(stalled), with_fds(live), IDS, None))
        assert (finding.status, finding.liveness) == (Status.EQUAL, Liveness.WATCHING)


def test_a_one_shot_timerfd_that_fired_unread_is_expired() -> None:
    old = with_fds(tfd(interval_ns=0, remaining_ns=100 * MS))
    fired = one(compare_process(old, with_fds(tfd(interval_ns=0, remaining_ns=0, ticks=1)), IDS, 0))
    assert fired.status is Status.EXPIRED and fired.liveness is Liveness.NONE


def itimers(*timers: IntervalTimer) -> ProcessTimers:
    return replace(process([]), itimers=timers)


def test_a_one_shot_itimer_disarmed_live_names_criu_2559() -> None:
    old = itimers(IntervalTimer(model.ITIMER_REAL, 30, 0, 0, 0))
    new = itimers(IntervalTimer(model.ITIMER_REAL, 0, 0, 0, 0))
    finding = one(compare_process(old, new, IDS, elapsed_ns=1000 * MS))
    assert finding.status is Status.DIFFERS and finding.criu_issue == "#2559"
    assert finding.label == "ITIMER_REAL"


def test_cpu_itimers_are_judged_against_the_cpu_time_used_and_not_watched() -> None:
    old = itimers(IntervalTimer(model.ITIMER_VIRTUAL, 30, 0, 10, 0))
    ran = itimers(IntervalTimer(model.ITIMER_VIRTUAL, 29, 0, 10, 0))
    assert one(compare_process(old, ran, IDS, 0, cpu_ns=2000 * MS)).status is Status.EQUAL
    finding = one(compare_process(old, ran, IDS, 0, cpu_ns=100 * MS))
    assert finding.status is Status.DIFFERS  # a second of CPU time the process never used
    assert finding.liveness is Liveness.UNKNOWN


def test_itimers_not_read_live_are_said_so_and_disarmed_ones_left_out() -> None:
    old = itimers(
        IntervalTimer(model.ITIMER_REAL, 1, 0, 1, 0),
        IntervalTimer(model.ITIMER_VIRTUAL, 0, 0, 0, 0),
    )
    finding = one(compare_process(old, process([]), IDS, None))
    assert finding.status is Status.UNREAD and not finding.ok
