from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timertui.clocks import CpuClockType, decode_clock, make_cpu_clock, to_int32
from timertui.signals import signal_name


@pytest.mark.parametrize(
    ("raw", "name", "allowed"),
    [
        (0, "REALTIME", True),
        (1, "MONOTONIC", True),
        (4, "MONOTONIC_RAW", False),
        (5, "REALTIME_COARSE", False),
        (7, "BOOTTIME", True),
        (8, "REALTIME_ALARM", True),
        (11, "TAI", True),
        (-6, "PROCESS_CPUTIME_ID", True),
        (-2, "THREAD_CPUTIME_ID", True),
        (12, "unknown clock 12", False),
    ],
)
def test_named_clocks(raw: int, name: str, allowed: bool) -> None:
    info = decode_clock(raw)
    assert (info.name, info.timer_allowed) == (name, allowed)


def test_cpu_clock_of_pid_and_tid() -> None:
    raw = make_cpu_clock(1234, CpuClockType.SCHED)
    assert raw == ((~1234) << 3) | 2
    info = decode_clock(raw)
    assert info.cpu is not None
    assert (info.cpu.pid, info.cpu.per_thread, info.cpu.type) == (1234, False, CpuClockType.SCHED)
    assert info.name == "CPU SCHED of pid 1234"
    tid_clock = decode_clock(make_cpu_clock(99, CpuClockType.PROF, per_thread=True))
    assert tid_clock.name == "CPU PROF of tid 99"
    assert decode_clock(make_cpu_clock(0, CpuClockType.VIRT)).name == "CPU VIRT of pid self"


def test_criu_uint32_clock_is_signed() -> None:
    assert to_int32(4294967290) == -6
    assert decode_clock(to_int32(4294967290)).name == "PROCESS_CPUTIME_ID"


@given(
    st.integers(min_value=0, max_value=2**22), st.sampled_from(list(CpuClockType)), st.booleans()
)
def test_cpu_clock_roundtrip(pid: int, type_: CpuClockType, per_thread: bool) -> None:
    info = decode_clock(make_cpu_clock(pid, type_, per_thread))
    assert info.cpu is not None
    assert (info.cpu.pid, info.cpu.type, info.cpu.per_thread) == (pid, type_, per_thread)


def test_fd_clock_not_for_timers() -> None:
    assert not decode_clock(((~3) << 3) | 3).timer_allowed


@pytest.mark.parametrize(
    ("signo", "name"),
    [
        (14, "SIGALRM"),
        (10, "SIGUSR1"),
        (34, "SIGRTMIN"),
        (37, "SIGRTMIN+3"),
        (64, "SIGRTMAX"),
        (32, "SIG32"),
        (0, "invalid signal 0"),
        (65, "invalid signal 65"),
    ],
)
def test_signal_names(signo: int, name: str) -> None:
    assert signal_name(signo) == name
