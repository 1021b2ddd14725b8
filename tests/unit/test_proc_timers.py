from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timertui.capture import proc_timers
from timertui.capture.proc_timers import TimersParseError, parse_timers, read_timers
from timertui.errors import InputError
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Access,
    Timer,
)

MODES = {SIGEV_SIGNAL: "signal", SIGEV_NONE: "none", SIGEV_THREAD: "thread"}


def render(timers: list[Timer]) -> str:
    """The kernel's show_timer() output (%px sigval), written independently of the parser."""
    out = []
    for t in timers:
        who = "tid" if t.notify & SIGEV_THREAD_ID else "pid"
        out += [
            f"ID: {t.id}",
            f"signal: {t.signo}/{t.sigval:016x}",
            f"notify: {MODES[t.notify & ~SIGEV_THREAD_ID]}/{who}.{t.target}",
            f"ClockID: {t.clock}",
        ]
    return "".join(line + "\n" for line in out)


def split_dump(text: str) -> dict[int, str]:
    """The fixture holds several processes' files, each after a '== PID' line."""
    parts: dict[int, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("== "):
            current = parts.setdefault(int(line[3:]), [])
        else:
            current.append(line)
    return {pid: "".join(lines) for pid, lines in parts.items()}


CURRENT = """\
ID: 101
signal: 10/0000000000000007
notify: thread/pid.5489
ClockID: 1
ID: 100
signal: 10/0000000000000007
notify: signal/tid.5490
ClockID: 1
ID: 3
signal: 0/0000000000000000
notify: none/pid.5489
ClockID: -6
ID: 2147483647
signal: 64/ffffffffffffffff
notify: signal/pid.5489
ClockID: -37
ID: 0
signal: 34/00000000deadbeef
notify: signal/pid.5489
ClockID: 0
"""


def test_current_format_every_notify_mode_in_kernel_order() -> None:
    assert parse_timers(CURRENT) == (
        Timer(101, 1, SIGEV_THREAD, 5489, 10, 7),
        Timer(100, 1, SIGEV_SIGNAL | SIGEV_THREAD_ID, 5490, 10, 7),
        Timer(3, -6, SIGEV_NONE, 5489, 0, 0),
        Timer(INT_MAX, -37, SIGEV_SIGNAL, 5489, 64, 2**64 - 1),
        Timer(0, 0, SIGEV_SIGNAL, 5489, 34, 0xDEADBEEF),
    )


@pytest.mark.parametrize(
    ("signal_line", "sigval"),
    [
        ("signal: 14/          (null)", 0),  # %p of NULL, padded to pointer width
        ("signal: 14/(null)", 0),
        ("signal: 14/deadbeef", 0xDEADBEEF),  # 32-bit %p
        ("signal: 14/00000000DEADBEEF", 0xDEADBEEF),
        ("signal: 14/0", 0),
    ],
)
def test_old_kernel_sigval_forms(signal_line: str, sigval: int) -> None:
    text = f"ID: 1\n{signal_line}\nnotify: signal/pid.7\nClockID: 0\n"
    assert parse_timers(text) == (Timer(1, 0, SIGEV_SIGNAL, 7, 14, sigval),)


def test_unusual_but_printable_values() -> None:
    # SIGEV_NONE keeps whatever signo it was given, negative included; a target outside the
    # reader's pid namespace prints as 0; a text without its last newline still parses.
    text = "ID: 9\nsignal: -5/0000000000000001\nnotify: none/pid.0\nClockID: -2147483648"
    assert parse_timers(text) == (Timer(9, -(2**31), SIGEV_NONE, 0, -5, 1),)


def test_empty_text_is_no_timers() -> None:
    assert parse_timers("") == ()


def test_stress_ng_fixture(stress_ng_dir: Path) -> None:
    files = split_dump((stress_ng_dir / "proc-19876-timers.txt").read_text())
    assert files[19874] == ""
    assert parse_timers(files[19874]) == ()
    assert parse_timers(files[19876], "proc-19876-timers.txt") == (
        Timer(0, 0, SIGEV_SIGNAL, 19876, 34, 0x55C50224F728),
    )


GOOD = ["ID: 5", "signal: 10/0000000000000001", "notify: signal/pid.42", "ClockID: 1"]


def _with(line_no: int, replacement: str) -> str:
    lines = GOOD + [line.replace("5", "6", 1) if i == 0 else line for i, line in enumerate(GOOD)]
    lines[line_no - 1] = replacement
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "line", "fault"),
    [
        (_with(1, "ID 5"), 1, "expected 'ID: N'"),
        (_with(1, "ID: 5 "), 1, "expected 'ID: N'"),
        (_with(1, "ID: five"), 1, "expected 'ID: N'"),
        (_with(1, "ID: -1"), 1, "timer ID -1 outside 0..2147483647"),
        (_with(1, "ID: 2147483648"), 1, "timer ID 2147483648 outside"),
        (_with(1, "ID: " + "9" * 30), 1, "expected 'ID: N'"),
        (_with(1, "ID: ٣"), 1, "expected 'ID: N'"),  # a non-ASCII digit
        (_with(2, "signal: 10"), 2, "expected 'signal: SIGNO/SIGVAL_HEX'"),
        (_with(2, "signal: x/0000000000000001"), 2, "expected 'signal: SIGNO/SIGVAL_HEX'"),
        (_with(2, "signal: 10/00000000000000012"), 2, "SIGVAL_HEX"),  # 17 hex digits
        (_with(2, "signal: 10/0x1"), 2, "SIGVAL_HEX"),
        (_with(2, "signal: 10/xyz"), 2, "SIGVAL_HEX"),
        (_with(2, "signal: 10/"), 2, "SIGVAL_HEX"),
        (_with(2, "signal: 2147483648/0"), 2, "signal number 2147483648 outside"),
        (_with(3, "notify: bogus/pid.42"), 3, "expected 'notify: signal|thread|none/pid.N|tid.N'"),
        (_with(3, "notify: signal/ppid.42"), 3, "expected 'notify:"),
        (_with(3, "notify: signal/pid."), 3, "expected 'notify:"),
        (_with(3, "notify: signal/pid42"), 3, "expected 'notify:"),
        (_with(3, "notify: signal/pid.-3"), 3, "notify target -3 outside"),
        (_with(4, "ClockID: x"), 4, "expected 'ClockID: N'"),
        (_with(4, "ClockID 1"), 4, "expected 'ClockID: N'"),
        (_with(4, "ClockID: 2147483648"), 4, "clock ID 2147483648 outside"),
        (_with(4, "ClockID: -2147483649"), 4, "clock ID -2147483649 outside"),
        (_with(6, "signal: 10/zz"), 6, "SIGVAL_HEX"),  # faults in a later timer count lines on
        (_with(8, "ClockID:"), 8, "expected 'ClockID: N'"),
        (_with(2, "notify: signal/pid.42"), 2, "expected 'signal:"),  # lines out of order
        (_with(5, "ID: 5"), 5, "duplicate timer ID 5 (first at line 1)"),
        (_with(5, ""), 5, "expected 'ID: N', got ''"),  # a blank line between timers
        ("ID: 5\r\nsignal: 1/0\nnotify: none/pid.1\nClockID: 0\n", 1, "got 'ID: 5\\r'"),
        ("\n".join(GOOD[:3]) + "\n", 4, "the text ends inside a timer, expected 'ClockID: N'"),
        ("\n".join(GOOD) + "\nID: 7\n", 6, "ends inside a timer, expected 'signal:"),
        ("\n", 1, "expected 'ID: N'"),
    ],
)
def test_malformed_text_names_the_line(text: str, line: int, fault: str) -> None:
    with pytest.raises(TimersParseError) as err:
        parse_timers(text, "sample")
    assert isinstance(err.value, InputError)
    assert f"sample line {line}: " in str(err.value)
    assert fault in str(err.value)


timer_st = st.builds(
    Timer,
    id=st.integers(0, INT_MAX),
    clock=st.integers(-(2**31), INT_MAX),
    notify=st.sampled_from(
        [SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGEV_NONE | 4]
    ),
    target=st.integers(0, INT_MAX),
    signo=st.integers(-(2**31), INT_MAX),
    sigval=st.integers(0, 2**64 - 1),
)


@given(st.lists(timer_st, max_size=12, unique_by=lambda t: t.id))
def test_render_and_parse_round_trip(timers: list[Timer]) -> None:
    assert parse_timers(render(timers)) == tuple(timers)


# read_timers on a made-up tree, for the states a real one cannot show (the real /proc:
# tests/kernel/test_processes.py).


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(proc_timers, "PROC_ROOT", str(tmp_path))
    return tmp_path


def test_process_without_timers_file(fake_proc: Path) -> None:
    (fake_proc / "123").mkdir()
    assert read_timers(123).access is Access.NO_TIMERS_FILE
    assert read_timers(124).access is Access.GONE


def test_read_sorts_by_id_and_parse_errors_name_the_file(fake_proc: Path) -> None:
    (fake_proc / "77").mkdir()
    timers = [Timer(i, 1, SIGEV_SIGNAL, 77, 10, i) for i in (9, 70000, 0, 3)]
    (fake_proc / "77" / "timers").write_text(render(timers))
    reading = read_timers(77)
    assert reading.access is Access.OK
    assert reading.timers == tuple(sorted(timers, key=lambda t: t.id))

    (fake_proc / "77" / "timers").write_text(render(timers).replace("notify: signal", "notify: x"))
    with pytest.raises(TimersParseError, match=rf"^{fake_proc}/77/timers line 3: expected"):
        read_timers(77)


def test_large_file_is_read_whole(fake_proc: Path) -> None:
    # Bigger than one read() chunk: the reader must keep reading to the end.
    (fake_proc / "8").mkdir()
    timers = [Timer(i, 0, SIGEV_NONE, 8, 0, i) for i in range(3000)]
    (fake_proc / "8" / "timers").write_text(render(timers))
    assert len(render(timers)) > 1 << 16
    assert read_timers(8).timers == tuple(timers)


def test_unchanged_long_reading_is_parsed_once(fake_proc: Path) -> None:
    # A live view re-reads a 10,000-timer process every second: the same bytes as last time
    # are consistent and give the same parsed reading; any change is parsed afresh.
    (fake_proc / "9").mkdir()
    timers = [Timer(i, 0, SIGEV_NONE, 9, 0, i) for i in range(3000)]
    (fake_proc / "9" / "timers").write_text(render(timers))
    first = read_timers(9)
    assert read_timers(9) is first
    changed = [*timers[:-1], Timer(5000, 0, SIGEV_NONE, 9, 0, 1)]
    (fake_proc / "9" / "timers").write_text(render(changed))
    second = read_timers(9)
    assert second is not first
    assert second.timers == tuple(changed)


def test_duty_bounds_how_often_a_long_listing_is_read(fake_proc: Path) -> None:
    # The app's sweep: a long listing is given again until reading it anew would cost more than
    # `duty` of the time since; without `duty` every read is fresh.
    (fake_proc / "10").mkdir()
    timers = [Timer(i, 0, SIGEV_NONE, 10, 0, i) for i in range(3000)]
    (fake_proc / "10" / "timers").write_text(render(timers))
    first = read_timers(10, duty=0.01)
    (fake_proc / "10" / "timers").write_text(render(timers[:-1]))
    assert read_timers(10, duty=0.01) is first  # read microseconds ago: not again yet
    assert read_timers(10, duty=1e-12) is first  # a tiny duty: ~forever
    assert read_timers(10).timers == tuple(timers[:-1])  # no duty: read
