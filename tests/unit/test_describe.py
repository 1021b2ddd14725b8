from __future__ import annotations

import json

import pytest

from timertui.capture.describe import (
    clock_text,
    notify_text,
    process_view,
    signal_text,
    timer_view,
)
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import (
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Access,
    ProcessTimers,
    Timer,
    TimerValues,
)


def test_timer_view_of_a_signal_timer() -> None:
    t = Timer(5, 1, SIGEV_SIGNAL, 1234, 36, 0xDEADBEEF)
    assert timer_view(t) == {
        "id": 5,
        "clock": {
            "raw": 1,
            "name": "MONOTONIC",
            "cpu": None,
            "timer_allowed": True,
            "alarm": False,
        },
        "notify": {"raw": 0, "mode": "signal", "thread_id": False, "target": 1234},
        "signal": {"signo": 36, "name": "SIGRTMIN+2"},
        "sigval": {"int": 0xDEADBEEF, "hex": "0x00000000deadbeef"},
        "values": None,
    }


def test_timer_view_of_cpu_clocks_thread_target_and_values() -> None:
    t = Timer(
        9,
        make_cpu_clock(1240, CpuClockType.VIRT, per_thread=True),
        SIGEV_SIGNAL | SIGEV_THREAD_ID,
        1240,
        64,
        2**64 - 1,
        TimerValues(remaining_ns=5_000, interval_ns=1_000_000, overrun=2),
    )
    view = timer_view(t)
    assert view["clock"]["name"] == "CPU VIRT of tid 1240"
    assert view["clock"]["cpu"] == {"type": "VIRT", "per_thread": True, "pid": 1240, "self": False}
    assert view["notify"] == {"raw": 4, "mode": "signal", "thread_id": True, "target": 1240}
    assert view["signal"] == {"signo": 64, "name": "SIGRTMAX"}
    assert view["sigval"] == {"int": 2**64 - 1, "hex": "0xffffffffffffffff"}
    assert view["values"] == {"remaining_ns": 5_000, "interval_ns": 1_000_000, "overrun": 2}
    own = timer_view(Timer(1, -6, SIGEV_NONE, 7, 0, 0))["clock"]
    assert own["name"] == "PROCESS_CPUTIME_ID"
    assert own["cpu"] == {"type": "SCHED", "per_thread": False, "pid": 0, "self": True}
    assert timer_view(Timer(1, 9, SIGEV_SIGNAL, 7, 14, 0))["clock"]["alarm"] is True


@pytest.mark.parametrize(
    ("notify", "target", "text"),
    [
        (SIGEV_SIGNAL, 1234, "signal → pid 1234"),
        (SIGEV_SIGNAL | SIGEV_THREAD_ID, 1240, "thread-id → tid 1240"),
        (SIGEV_THREAD, 1234, "thread → pid 1234"),
        (SIGEV_NONE, 1234, "none"),
        (SIGEV_NONE | SIGEV_THREAD_ID, 1240, "none+thread-id → tid 1240"),
    ],
)
def test_notify_text(notify: int, target: int, text: str) -> None:
    assert notify_text(Timer(0, 0, notify, target, 10, 0)) == text


@pytest.mark.parametrize(
    ("clock", "text"),
    [
        (0, "REALTIME"),
        (-6, "PROCESS_CPUTIME_ID"),
        (make_cpu_clock(99, CpuClockType.PROF), "CPU PROF of pid 99"),
        (4, "MONOTONIC_RAW (not for timers)"),
        (12, "unknown clock 12 (not for timers)"),
    ],
)
def test_clock_text(clock: int, text: str) -> None:
    assert clock_text(Timer(0, clock, SIGEV_SIGNAL, 1, 10, 0)) == text


def test_signal_text() -> None:
    assert signal_text(Timer(0, 0, SIGEV_SIGNAL, 1, 10, 0)) == "SIGUSR1"
    assert signal_text(Timer(0, 0, SIGEV_THREAD, 1, 37, 0)) == "SIGRTMIN+3"
    assert signal_text(Timer(0, 0, SIGEV_NONE, 1, 0, 0)) == "-"
    assert signal_text(Timer(0, 0, SIGEV_NONE, 1, 14, 0)) == "(SIGALRM, unused)"


def test_process_view_is_json_ready() -> None:
    timers = (Timer(0, 0, SIGEV_SIGNAL, 10, 14, 1), Timer(3, -6, SIGEV_NONE, 10, 0, 0))
    p = ProcessTimers(
        pid=10,
        ppid=1,
        comm="w (x)",
        cmdline=("/bin/w", "-v"),
        uid=0,
        user="root",
        status="sleeping",
        tids=(10, 11),
        timers=timers,
        sigpending=(100, 200),
    )
    view = process_view(p)
    assert json.loads(json.dumps(view)) == view
    assert {k: v for k, v in view.items() if k != "timers"} == {
        "pid": 10,
        "ppid": 1,
        "uid": 0,
        "user": "root",
        "comm": "w (x)",
        "command": "/bin/w -v",
        "cmdline": ["/bin/w", "-v"],
        "status": "sleeping",
        "tids": [10, 11],
        "access": "ok",
        "sigpending": {"soft": 100, "hard": 200},
        "container": None,
        "ns_pid": None,
        "timerfds": [],
        "itimers": None,
        "problems": [],
    }
    assert view["timers"] == [timer_view(t) for t in timers]
    gone = process_view(ProcessTimers(7, 0, "", (), -1, "", "", (), (), Access.GONE))
    assert (gone["access"], gone["command"], gone["sigpending"]) == ("gone", "[]", None)
