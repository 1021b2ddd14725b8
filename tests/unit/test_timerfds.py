"""timerfd fdinfo parsing: the real kernel's text (the CRIU fixture's live fdinfo), and texts of
other shapes, each a problem with its field path, never an exception."""

from __future__ import annotations

import pytest
from recorded import TIMERFD_ITIMER

from timertui.capture.timerfds import _USUAL, _usual_row, parse_timerfd, read_timerfds
from timertui.model import O_CLOEXEC, O_NONBLOCK, Access, TimerFd

LIVE = TIMERFD_ITIMER / "live-fdinfo"
MONO = "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1039\nclockid: 1\nticks: 1\n"
MONO += "settime flags: 00\nit_value: (0, 0)\nit_interval: (0, 100000000)\n"


def test_the_kernels_text_of_a_stalled_periodic_timerfd() -> None:
    t = parse_timerfd(MONO, 3)
    assert t == TimerFd(3, 1, 1, 0, 0, 100_000_000, O_CLOEXEC | 2)
    assert isinstance(t, TimerFd) and t.stalled_periodic and t.cloexec and not t.nonblock


@pytest.mark.usefixtures("timerfd_itimer_dir")
def test_the_fixtures_live_fdinfo() -> None:
    mono = parse_timerfd((LIVE / "3.txt").read_text(), 3)
    real = parse_timerfd((LIVE / "4.txt").read_text(), 4)
    assert isinstance(mono, TimerFd) and isinstance(real, TimerFd)
    assert mono.stalled_periodic and mono.cloexec
    assert real.absolute and real.nonblock and real.remaining_ns == 3595_969_761_607
    assert real.deadline_ns == 0  # no clock read beside it
    assert "missing" in str(parse_timerfd((LIVE / "0.txt").read_text(), 0))


def test_lines_of_a_future_kernel_are_skipped() -> None:
    t = parse_timerfd(MONO + "new field: 5\nweird line\n", 3)
    assert isinstance(t, TimerFd) and t.interval_ns == 100_000_000


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("clockid: 1", "clockid: one", "fdinfo/3.clockid"),
        ("clockid: 1", "clockid: 99999999999", "fdinfo/3.clockid"),
        ("ticks: 1", "ticks: -1", "fdinfo/3.ticks"),
        ("settime flags: 00", "settime flags: 9", "fdinfo/3.settime_flags"),
        ("it_value: (0, 0)", "it_value: (0, 1000000000)", "fdinfo/3.it_value"),
        ("it_value: (0, 0)", "it_value: 0", "fdinfo/3.it_value"),
        ("it_interval: (0, 100000000)", "it_interval: (1, 2, 3)", "fdinfo/3.it_interval"),
        ("it_interval: (0, 100000000)", "", "fdinfo/3.it_interval"),
        ("flags:\t02000002", "flags:\tzz", "fdinfo/3.flags"),
        ("it_value: (0, 0)", "it_value: (99999999999999999999, 0)", "fdinfo/3.it_value"),
    ],
)
def test_other_shapes_are_problems_with_their_field_path(old: str, new: str, path: str) -> None:
    got = parse_timerfd(MONO.replace(old, new), 3)
    assert isinstance(got, str) and got.startswith(f"{path}: ")


def test_a_process_that_is_gone_is_a_state() -> None:
    assert read_timerfds(999_999_999).access is Access.GONE


def test_this_process_has_none_or_reads_them() -> None:
    reading = read_timerfds("self")
    assert reading.access is Access.OK and all(t.flags & O_NONBLOCK >= 0 for t in reading.timerfds)


@pytest.mark.skipif(not LIVE.is_dir(), reason="the CRIU fixture is not here")
@pytest.mark.parametrize("fd", [3, 4])
def test_the_quick_match_reads_as_the_parser_does(fd: int) -> None:
    data = (LIVE / f"{fd}.txt").read_bytes()
    m = _USUAL.match(data)
    assert m is not None
    row = _usual_row(fd, m)
    parsed = parse_timerfd(data.decode(), fd)
    assert isinstance(parsed, TimerFd) and row is not None
    assert row[:7] == tuple(vars(parsed).values())[:7]  # the deadline: the clock read now
