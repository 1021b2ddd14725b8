"""verify.liveness: a periodic timer's liveness from what a watch saw, and the watch's length;
and a CRIU image directory (the real CRIU 4.2 fixture) compared with the fdinfo and timers of
the process CRIU restored from it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import recorded

from timertui.capture.proc_timers import parse_timers
from timertui.capture.timerfds import decode_fdinfo
from timertui.model import ProcessTimers, TimerFd, TimerValues
from timertui.sources import open_source
from timertui.verify import liveness
from timertui.verify.compare import compare_process
from timertui.verify.findings import Liveness, Status

MS = 1_000_000
FIXTURE = recorded.TIMERFD_ITIMER
RUNNING = TimerFd(3, 1, 0, 0, 60 * MS, 100 * MS, 0)


def test_a_timerfd_whose_time_left_moves_or_that_counts_a_tick_is_alive_at_once() -> None:
    later = replace(RUNNING, remaining_ns=20 * MS)
    assert liveness.timerfd_liveness([RUNNING, later], 0, False)[0] is Liveness.ALIVE
    fired = replace(RUNNING, remaining_ns=0, ticks=1)
    assert liveness.timerfd_liveness([RUNNING, fired], 0, False)[0] is Liveness.ALIVE


def test_disarmed_without_ticks_is_dead_and_with_ticks_stalled_only_when_the_watch_ends() -> None:
    dead = replace(RUNNING, remaining_ns=0)
    assert liveness.timerfd_liveness([dead, dead], 0, False)[0] is Liveness.WATCHING
    state, why = liveness.timerfd_liveness([dead, dead], 300 * MS, True)
    assert state is Liveness.DEAD and "no expiry counted in 300.0 ms" in why
    stalled = replace(dead, ticks=1)
    assert liveness.timerfd_liveness([stalled] * 3, 300 * MS, True)[0] is Liveness.STALLED
    assert liveness.timerfd_liveness([stalled, None], 0, True)[0] is Liveness.UNKNOWN


def test_posix_timer_values_that_do_not_move_are_dead() -> None:
    first = TimerValues(50 * MS, 100 * MS, 0)
    assert liveness.values_liveness(first, TimerValues(10 * MS, 100 * MS, 0), 0)[0] is (
        Liveness.ALIVE
    )
    assert liveness.values_liveness(first, first, 100 * MS)[0] is Liveness.DEAD
    assert liveness.values_liveness(first, None, 100 * MS)[0] is Liveness.UNKNOWN


def test_the_watch_takes_two_periods_of_the_slowest_at_most_three_seconds() -> None:
    assert liveness.watch_length([]) == 0
    assert liveness.watch_length([100 * MS, 300 * MS]) == 600 * MS
    assert liveness.watch_length([2000 * MS]) == 3000 * MS
    assert liveness.watch_length([100 * MS], asked_ns=5) == 5
    assert liveness.step_length([100 * MS]) == 25 * MS
    assert liveness.step_length([10 * MS]) == liveness.MIN_STEP_NS


def restored_process(checkpoint: ProcessTimers) -> ProcessTimers:
    """The process CRIU restored, as /proc showed it after the restore (recorded)."""
    fds = []
    for path in sorted((FIXTURE / "restored-fdinfo").glob("*.txt")):
        got = decode_fdinfo(path.read_bytes(), int(path.stem))
        if isinstance(got, TimerFd):
            fds.append(got)
    timers = parse_timers((FIXTURE / "restored-proc-timers.txt").read_text())
    return replace(checkpoint, timers=timers, timerfds=tuple(fds), itimers=None)


@pytest.fixture
def criu_images(timerfd_itimer_dir: Path) -> Path:
    return timerfd_itimer_dir / "images"


def test_criu_s_restore_of_the_fixture_compares_equal_and_its_stalled_timerfd_is_watched(
    criu_images: Path,
) -> None:
    (checkpoint,) = open_source(criu_images).processes
    found = {
        f.label: f
        for f in compare_process(checkpoint, restored_process(checkpoint), {2216: 2216}, None)
    }
    # fd 3 came back as CRIU restores it, ticks 1 and it_value 0: equal to its image, and
    # only a watch tells it is dead (after the program reads the tick).
    fd3 = found["fd 3"]
    assert (fd3.status, fd3.liveness) == (Status.EQUAL, Liveness.WATCHING)
    assert found["fd 4"].status is Status.EQUAL  # the one-shot an hour ahead
    assert found["timer 0"].status is Status.EQUAL and "not read" in found["timer 0"].note
    # The interval timers need a deep capture, which a recording cannot give.
    itimers = [f for f in found.values() if f.kind == "itimer"]
    assert [f.status for f in itimers] == [Status.UNREAD] * 3
    read = replace(fd3.live, ticks=0) if isinstance(fd3.live, TimerFd) else None
    assert read is not None
    state, why = liveness.timerfd_liveness([fd3.live, read, read], 300 * MS, True)
    assert state is Liveness.DEAD and "every 100.0 ms" in why
