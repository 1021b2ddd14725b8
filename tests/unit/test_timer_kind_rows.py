"""The timers pane's rows for timerfds and interval timers: their words in the POSIX columns."""

from __future__ import annotations

from timertui.model import O_CLOEXEC, IntervalTimer, TimerFd
from timertui.tui.widgets.timers_table import _itimer_cells, _timerfd_cells


def _plain(cells: tuple[tuple[object, ...], ...]) -> list[str]:
    return [str(c) for part in cells for c in part]


def test_a_stalled_timerfd_row() -> None:
    row = _plain(_timerfd_cells(TimerFd(3, 1, 1, 0, 0, 100_000_000, O_CLOEXEC)))
    assert row[:3] == ["fd 3", "MONOTONIC", "unread"]  # fired, waiting for a read
    assert row[5] == "timerfd CLOEXEC" and "stalled (CRIU #3162)" in row[6]
    disarmed = _plain(_timerfd_cells(TimerFd(4, 1, 0, 0, 0, 0, O_CLOEXEC)))
    assert disarmed[2] == "disarmed"


def test_an_interval_timer_row() -> None:
    row = _plain(_itimer_cells(IntervalTimer(2, 60, 4000, 20, 0)))
    assert row[0] == "ITIMER_PROF" and row[1] == "PROF (CPU)" and row[6] == "SIGPROF"
