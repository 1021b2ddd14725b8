"""The demo workload against the real kernel: its timers in /proc/PID/timers are exactly the planned
ones, it survives its own timer signals, and it ends cleanly. Every timer lives in a child."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from command_line import timertui

from timertui import demo
from timertui.capture import host
from timertui.choices import DEMO_IDS
from timertui.model import SIGEV_NONE, SIGEV_THREAD_ID, Timer
from timertui.signals import signal_name

_TIMER_RE = re.compile(
    r"ID: (\d+)\nsignal: (\d+)/([0-9a-f]+)\nnotify: (signal|none|thread)/(pid|tid)\.(\d+)\n"
    r"ClockID: (-?\d+)\n"
)
_NOTIFY = {"signal": 0, "none": 1, "thread": 2}


def proc_timers(pid: int) -> dict[int, Timer]:
    """/proc/PID/timers read raw, keyed by ID; every byte of the file must be a timer block."""
    text = Path(f"/proc/{pid}/timers").read_text()
    blocks = list(_TIMER_RE.finditer(text))
    assert sum(len(m.group(0)) for m in blocks) == len(text), text
    timers = {}
    for m in blocks:
        tid = SIGEV_THREAD_ID if m.group(5) == "tid" else 0
        timers[int(m.group(1))] = Timer(
            id=int(m.group(1)),
            clock=int(m.group(7)),
            notify=_NOTIFY[m.group(4)] | tid,
            target=int(m.group(6)),
            signo=int(m.group(2)),
            sigval=int(m.group(3), 16),
        )
    return timers


def other_tids(pid: int) -> list[int]:
    return sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir() if int(t.name) != pid)


@contextmanager
def workload(
    ids: Sequence[int], zoo: bool, mode: str = "auto", as_json: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    proc = demo.spawn_workload(ids, zoo, mode=mode, as_json=as_json)
    try:
        yield proc
    finally:
        demo.stop_workload(proc)


@pytest.fixture(scope="module")
def alarm_ok() -> bool:
    return host.probe_alarm_timers().ok


@pytest.mark.parametrize(
    ("mode", "ids"), [("auto", DEMO_IDS), ("walk", (0, 5, 40))], ids=["auto", "walk"]
)
def test_zoo_timers_are_exactly_the_planned_ones(
    needs_proc_timers: None, alarm_ok: bool, mode: str, ids: tuple[int, ...]
) -> None:
    with workload(ids, zoo=True, mode=mode) as proc:
        pid = demo.read_ready_pid(proc)
        assert pid == proc.pid
        (helper,) = other_tids(pid)
        expected = demo.zoo_specs(ids, pid, helper, alarm_ok)
        assert proc_timers(pid) == {t.id: t for t in expected}
    # The comparison only means something if the zoo really is a mix.
    clocks = {t.clock for t in expected}
    assert {0, 1, 7, 11, -6, -2} <= clocks
    assert {(~pid << 3) | 2, (~helper << 3) | 4} <= clocks  # CPU clocks naming pid and tid
    assert {t.notify for t in expected} == {0, 1, 2, 4}
    assert {signal.SIGALRM, signal.SIGUSR1, 34, 35} <= {t.signo for t in expected}
    assert len({t.sigval for t in expected}) == len(expected) == 12 + 2 * alarm_ok


def test_default_zoo_ids(alarm_ok: bool) -> None:
    ids = demo.workload_ids(DEMO_IDS, zoo=True, alarm=alarm_ok)
    assert ids[0] == 0
    assert {0, 1_000_000, 2_000_000, 1, 17, 1_500_004} <= set(ids)
    assert list(ids) == sorted(set(ids))


def _sigcgt(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigCgt line")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_survives_its_signals_counts_them_and_ends_on_sigterm(needs_proc_timers: None) -> None:
    with workload(DEMO_IDS, zoo=True) as proc:
        pid = demo.read_ready_pid(proc)
        planned = proc_timers(pid).values()
        cpu_before = _cpu_ticks(pid)
        # Every first expiry is under 0.7 s; the shortest period is 250 ms.
        time.sleep(1.5)
        assert proc.poll() is None
        # A sleeper: well under 10% of one CPU while its timers fire.
        assert _cpu_ticks(pid) - cpu_before <= 0.1 * 1.5 * os.sysconf("SC_CLK_TCK")
        os.kill(pid, signal.SIGUSR2)
        line = demo.read_line(proc, 5)
        assert line is not None
        report = json.loads(line)
        assert report["pid"] == pid
        caught = _sigcgt(pid)
        for t in planned:
            assert caught & (1 << (t.signo - 1)), f"no handler for signal {t.signo}"
            # CPU-clock timers of a sleeping process may never fire; the others must have.
            if t.notify != SIGEV_NONE and t.clock >= 0:
                name = signal_name(t.signo)
                assert report["deliveries"][name] >= 1, (name, report)
        assert proc.poll() is None
        os.kill(pid, signal.SIGTERM)
        assert proc.wait(5) == 0


def test_sigint_ends_it_with_status_0(needs_proc_timers: None) -> None:
    with workload((3,), zoo=False) as proc:
        pid = demo.read_ready_pid(proc)
        os.kill(pid, signal.SIGINT)
        assert proc.wait(5) == 0


def test_walk_mode_creates_the_small_ids_one_by_one(needs_proc_timers: None) -> None:
    ids = (0, 5, 40)
    with workload(ids, zoo=False, mode="walk") as proc:
        pid = demo.read_ready_pid(proc)
        expected = [p.timer for p in demo.plan_timers(ids, False, pid)]
        assert proc_timers(pid) == {t.id: t for t in expected}
    assert proc.stderr is not None
    summary = proc.stderr.read().decode().splitlines()[0]
    # 0 takes one create; 5 takes 1..5; 40 takes 6..40.
    assert "linear walk (41 creates)" in summary


def test_exact_mode_summary(needs_exact_ids: None) -> None:
    with workload((7, 123_456), zoo=False, mode="exact") as proc:
        pid = demo.read_ready_pid(proc)
        assert set(proc_timers(pid)) == {7, 123_456}
    assert proc.stderr is not None
    assert "2 timers created by exact-ID mode" in proc.stderr.read().decode()


def test_json_ready_line(needs_proc_timers: None) -> None:
    ids = (2, 9)
    with workload(ids, zoo=False, as_json=True) as proc:
        line = demo.read_line(proc, 30)
        assert line is not None
        ready = json.loads(line)
        assert ready["pid"] == proc.pid
        planned = [p.timer for p in demo.plan_timers(ids, False, proc.pid)]
        assert [Timer(**t) for t in ready["timers"]] == planned
        assert proc_timers(proc.pid) == {t.id: t for t in planned}


def test_unreachable_id_in_walk_mode_is_one_line_and_exit_2() -> None:
    # The child takes IDs 0..2 and frees 1: the counter is at 3, so the walk cannot reach 1.
    code = (
        "import sys\n"
        "from timertui import _native\n"
        "from timertui.cli import main\n"
        "for _ in range(3): _native.timer_create(1, 1, 0, 0)\n"
        "_native.timer_delete(1)\n"
        "sys.exit(main(['demo-workload', '--ids', '1', '--mode', 'walk']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1
    assert "timer 1:" in out.stderr
    assert "Can't create timers, kernel don't give them consequently" in out.stderr


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("1,x", "'x' is not an integer"),
        ("-1", "-1 is outside 0..2147483647"),
        ("2147483648", "2147483648 is outside 0..2147483647"),
        ("3,4,3", "3 given twice"),
        ("", "'' is not an integer"),
    ],
)
def test_bad_ids_exit_2_with_one_line(ids: str, message: str) -> None:
    with pytest.raises(demo.IdsError, match=re.escape(message)):
        demo.parse_id_list(ids)
    out = timertui("demo-workload", "--ids", ids, timeout=30)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == f"timertui: --ids: {message}\n"


def test_parse_id_list_accepts_the_range_ends() -> None:
    assert demo.parse_id_list(" 0, 2147483647 ,5") == (0, 2_147_483_647, 5)
    with pytest.raises(demo.IdsError, match="no IDs given"):
        demo.validate_ids([])


def test_failed_start_reports_the_childs_error_line() -> None:
    proc = demo.spawn_workload((1,), zoo=False, mode="sideways")
    try:
        with pytest.raises(demo.WorkloadError, match=r"did not start: .*unknown mode 'sideways'"):
            demo.read_ready_pid(proc)
        assert proc.returncode == 2
    finally:
        demo.stop_workload(proc)
