"""The demo workload: a process that holds armed POSIX timers at chosen IDs, so there is something
real to look at, snapshot and restore.

`run_workload` turns the CALLING process into the workload (it runs as `timertui demo-workload`, a
process of its own, so creating timers in itself is allowed). `spawn_workload` and
`read_ready_pid` start one as a child and wait for its PID line; `stop_workload` ends it.

IDs: the `--ids` list (default choices.DEMO_IDS); `--zoo` adds ZOO_EXTRA_IDS (small IDs at the
low end of the walk and a cluster of five between the big gaps) and, where alarm timers work,
ALARM_EXTRA_IDS. Every timer's sigval is SIGVAL_BASE + its index in ID order, so each one is
recognisable in /proc/PID/timers.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

from timertui import _native, signals
from timertui.capture import host
from timertui.choices import MODES
from timertui.clocks import CpuClockType, decode_clock, make_cpu_clock
from timertui.errors import InputError, errno_text
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Timer,
)
from timertui.words import counted

ZOO_EXTRA_IDS = (1, 2, 3, 17, *range(1_500_000, 1_500_005))
ALARM_EXTRA_IDS = (8, 9)  # only where probe_alarm_timers() succeeds
SIGVAL_BASE = 0xC0FFEE00

# Periods slow enough to stay cheap, fast enough to see; first expiries staggered.
_PERIODS_MS = (250, 500, 1000, 2000, 5000)
_FIRST_MS, _STAGGER_MS = 100, 50
_MS = 1_000_000
_WALK_SLICE = 1 << 17  # creates per tt_walk call: about 0.1 s at 0.87 us per create/delete
_REPORT_SIGNAL = signal.SIGUSR2  # prints the delivery counts on the ready stream
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Set by spawn_workload to its own pid: the workload then dies with it (PR_SET_PDEATHSIG), so
# it never outlives the app, even one killed by SIGKILL.
_PARENT_ENV = "TIMERTUI_WORKLOAD_PARENT"
_PR_SET_PDEATHSIG = 1

_PROCESS_CPUTIME, _THREAD_CPUTIME = 2, 3
# How the kernel stores the two "self" CPU clocks (and shows them in /proc/PID/timers).
_SHOWN_AS = {
    _PROCESS_CPUTIME: make_cpu_clock(0, CpuClockType.SCHED),
    _THREAD_CPUTIME: make_cpu_clock(0, CpuClockType.SCHED, per_thread=True),
}


class IdsError(InputError):
    """An --ids list that is not integers in 0..INT_MAX without duplicates."""


class WorkloadError(InputError):
    """The workload could not hold the timers asked for, or did not start."""


@dataclass(frozen=True)
class _Kind:
    """One zoo entry. With `cpu_of` set, `clock` is a CpuClockType and the clock names our pid
    ("pid") or, per thread, the helper thread ("helper")."""

    clock: int
    notify: int
    signo: int
    cpu_of: str = ""


_RT = signals.SIGRTMIN
_ZOO: tuple[_Kind, ...] = (
    _Kind(0, SIGEV_SIGNAL, signal.SIGALRM),  # REALTIME
    _Kind(1, SIGEV_SIGNAL, signal.SIGUSR1),  # MONOTONIC
    _Kind(7, SIGEV_SIGNAL, _RT),  # BOOTTIME
    _Kind(11, SIGEV_SIGNAL, _RT + 1),  # TAI
    _Kind(1, SIGEV_NONE, _RT + 2),
    _Kind(1, SIGEV_THREAD_ID | SIGEV_SIGNAL, _RT + 3),
    _Kind(0, SIGEV_THREAD, _RT + 4),  # raw SIGEV_THREAD: the kernel signals the process
    _Kind(_PROCESS_CPUTIME, SIGEV_SIGNAL, _RT + 5),
    _Kind(_THREAD_CPUTIME, SIGEV_SIGNAL, _RT + 6),
    _Kind(CpuClockType.SCHED, SIGEV_SIGNAL, signal.SIGUSR1, cpu_of="pid"),
    _Kind(CpuClockType.PROF, SIGEV_THREAD_ID | SIGEV_SIGNAL, _RT + 7, cpu_of="helper"),
    _Kind(7, SIGEV_THREAD_ID | SIGEV_SIGNAL, signal.SIGALRM),
)
_ALARM_ZOO = (
    _Kind(8, SIGEV_SIGNAL, _RT + 8),  # REALTIME_ALARM
    _Kind(9, SIGEV_THREAD_ID | SIGEV_SIGNAL, _RT + 9),  # BOOTTIME_ALARM
)
_PLAIN = _Kind(1, SIGEV_SIGNAL, _RT)


@dataclass(frozen=True)
class DemoTimer:
    """A timer the workload creates: `timer` as /proc/PID/timers will show it, `create_clock`
    what timer_create is given (PROCESS/THREAD_CPUTIME show as -6/-2), and its arming."""

    timer: Timer
    create_clock: int
    value_ns: int
    interval_ns: int


def validate_ids(ids: Sequence[int]) -> tuple[int, ...]:
    if not ids:
        raise IdsError("--ids: no IDs given")
    seen: set[int] = set()
    for i in ids:
        if not 0 <= i <= INT_MAX:
            raise IdsError(f"--ids: {i} is outside 0..{INT_MAX}")
        if i in seen:
            raise IdsError(f"--ids: {i} given twice")
        seen.add(i)
    return tuple(ids)


def parse_id_list(text: str) -> tuple[int, ...]:
    """A comma-separated list of timer IDs, each in 0..INT_MAX, no duplicates."""
    ids = []
    for part in text.split(","):
        try:
            ids.append(int(part.strip()))
        except ValueError:
            raise IdsError(f"--ids: {part.strip()!r} is not an integer") from None
    return validate_ids(ids)


def workload_ids(ids: Sequence[int], zoo: bool, alarm: bool = False) -> tuple[int, ...]:
    """Every ID the workload holds, sorted: the given ones plus the zoo's extras."""
    extra = (*ZOO_EXTRA_IDS, *(ALARM_EXTRA_IDS if alarm else ())) if zoo else ()
    return tuple(sorted({*validate_ids(ids), *extra}))


def plan_timers(
    ids: Sequence[int], zoo: bool, pid: int, helper_tid: int = 0, alarm: bool = False
) -> list[DemoTimer]:
    """The workload's timers in ID order. Under `zoo` the kinds cycle through a mix of clocks,
    notify modes and signals (alarm clocks only when `alarm`); otherwise every timer is
    MONOTONIC/SIGEV_SIGNAL/SIGRTMIN."""
    kinds = (*_ZOO, *(_ALARM_ZOO if alarm else ())) if zoo else (_PLAIN,)
    planned = []
    for index, timer_id in enumerate(workload_ids(ids, zoo, alarm)):
        kind = kinds[index % len(kinds)]
        if kind.cpu_of:
            owner = pid if kind.cpu_of == "pid" else helper_tid
            clock = make_cpu_clock(owner, CpuClockType(kind.clock), kind.cpu_of == "helper")
        else:
            clock = kind.clock
        timer = Timer(
            id=timer_id,
            clock=_SHOWN_AS.get(clock, clock),
            notify=kind.notify,
            target=helper_tid if kind.notify & SIGEV_THREAD_ID else pid,
            signo=kind.signo,
            sigval=SIGVAL_BASE + index,
        )
        planned.append(
            DemoTimer(
                timer,
                create_clock=clock,
                value_ns=(_FIRST_MS + _STAGGER_MS * index) * _MS,
                interval_ns=_PERIODS_MS[index % len(_PERIODS_MS)] * _MS,
            )
        )
    return planned


def zoo_specs(ids: Sequence[int], pid: int, helper_tid: int, alarm: bool = False) -> list[Timer]:
    """The `--zoo` workload's timers as /proc/PID/timers shows them, in ID order."""
    return [p.timer for p in plan_timers(ids, True, pid, helper_tid, alarm)]


def _os_error(timer_id: int, what: str, err: int) -> WorkloadError:
    return WorkloadError(f"timer {timer_id}: {what} failed: {errno_text(err)}")


def _exact_mode_on() -> bool:
    """Switch exact-ID mode on for this process; False when the kernel lacks it (EINVAL)."""
    try:
        _native.restore_ids(_native.RESTORE_IDS_ON)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise WorkloadError(
            f"prctl(PR_TIMER_CREATE_RESTORE_IDS): {errno_text(exc.errno or 0)}"
        ) from None
    return True


def _create_exact(planned: Sequence[DemoTimer]) -> None:
    """Create at the wanted IDs (exact-ID mode is on), then switch the mode off again."""
    try:
        for p in planned:
            t = p.timer
            try:
                got = _native.timer_create(
                    p.create_clock, t.notify, t.signo, t.sigval, t.target, want_id=t.id
                )
            except OSError as exc:
                raise _os_error(t.id, "exact-ID timer_create", exc.errno or 0) from None
            if got != t.id:
                raise WorkloadError(f"timer {t.id}: exact-ID mode gave ID {got}")
    finally:
        _native.restore_ids(_native.RESTORE_IDS_OFF)


def _create_walk(planned: Sequence[DemoTimer]) -> int:
    """CRIU's legacy walk in ID order: create, delete while below the wanted ID. Returns the
    number of creates."""
    state = _native.ffi.new("struct tt_walk_state *")
    for p in planned:
        t = p.timer
        spec = _native.make_spec(p.create_clock, t.notify, t.signo, t.sigval, t.target, t.id)
        ret = 1
        while ret == 1:  # back in Python between slices, so SIGTERM/SIGINT handlers can run
            ret = int(_native.lib.tt_walk(spec, _WALK_SLICE, state))
        if ret == 2:
            raise WorkloadError(
                f"timer {t.id}: the kernel's ID counter is already past it (it gave"
                f" {state.last_id}): Can't create timers, kernel don't give them consequently"
            )
        if ret < 0:
            raise _os_error(t.id, "walk timer_create/timer_delete", -ret)
    return int(state.creates)


def _arm(planned: Sequence[DemoTimer]) -> None:
    for p in planned:
        try:
            _native.timer_settime(p.timer.id, p.value_ns, p.interval_ns)
        except OSError as exc:
            raise _os_error(p.timer.id, "timer_settime", exc.errno or 0) from None


def create_timers(planned: Sequence[DemoTimer], mode: str = "auto") -> str:
    """Create the planned timers in THIS process at their IDs and arm them. `mode` "auto" uses
    exact-ID mode when the kernel has it, else the walk. Returns a line saying what was done."""
    if mode not in MODES:
        raise WorkloadError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
    start = time.perf_counter()
    if mode != "walk" and _exact_mode_on():
        _create_exact(planned)
        how = "exact-ID mode"
    elif mode == "exact":
        raise WorkloadError(
            "exact-ID mode asked for, but prctl(PR_TIMER_CREATE_RESTORE_IDS) gave EINVAL"
        )
    else:
        how = f"the linear walk ({counted(_create_walk(planned), 'create')})"
    elapsed_ms = (time.perf_counter() - start) * 1000
    _arm(planned)
    return f"{counted(len(planned), 'timer')} created by {how} in {elapsed_ms:.2f} ms"


class _Stop(Exception):
    """Raised by the SIGTERM/SIGINT handler to leave the wait loop."""


class _Deliveries:
    """Signal handlers: count every timer signal, report on SIGUSR2, stop on SIGTERM/SIGINT."""

    def __init__(self, signos: Sequence[int], report: TextIO) -> None:
        self.counts: Counter[int] = Counter(dict.fromkeys(signos, 0))
        self.report = report
        for s in signos:
            signal.signal(s, self._count)
        signal.signal(_REPORT_SIGNAL, self._report)
        for s in _STOP_SIGNALS:
            signal.signal(s, self._stop)

    def _count(self, signo: int, _frame: FrameType | None) -> None:
        self.counts[signo] += 1

    def _report(self, _signo: int, _frame: FrameType | None) -> None:
        deliveries = {signals.signal_name(s): n for s, n in sorted(self.counts.items())}
        try:
            self.report.write(json.dumps({"pid": os.getpid(), "deliveries": deliveries}) + "\n")
            self.report.flush()
        except OSError:
            pass  # nobody reads any more; the counts are only informative

    @staticmethod
    def _stop(_signo: int, _frame: FrameType | None) -> None:
        raise _Stop


def _describe(p: DemoTimer) -> str:
    t = p.timer
    notify = f"{t.notify_kind.value}/{'tid' if t.thread_targeted else 'pid'}.{t.target}"
    return (
        f"  ID {t.id:>10}  {decode_clock(t.clock).name:<22} {notify:<16}"
        f" {signals.signal_name(t.signo):<12} sigval {t.sigval:#x}"
        f"  every {p.interval_ns // _MS} ms"
    )


def run_workload(
    ids: Sequence[int],
    zoo: bool,
    ready: TextIO | None = None,
    *,
    mode: str = "auto",
    as_json: bool = False,
) -> None:
    """Become the workload: hold armed timers at `ids` (plus the zoo's), print the PID alone on
    the first line of `ready` (stdout by default; with `as_json` a JSON object with the timers),
    then wait for signals. Returns after SIGTERM or SIGINT."""
    ready = ready or sys.stdout
    validate_ids(ids)
    _die_with_parent()
    # Probed (in a forked child) before the helper thread exists, so the fork is single-threaded.
    alarm = zoo and host.probe_alarm_timers().ok
    helper_tid = 0
    if zoo:
        idle = threading.Event()  # never set: the helper thread only has to exist
        helper = threading.Thread(target=idle.wait, name="timer-target", daemon=True)
        helper.start()
        helper_tid = helper.native_id or 0
    planned = plan_timers(ids, zoo, os.getpid(), helper_tid, alarm)

    # Handlers go in before any timer is armed, so no timer signal can kill the process; the
    # wakeup pipe wakes the main thread for signals the kernel sends to the helper thread.
    _Deliveries(sorted({p.timer.signo for p in planned}), ready)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    try:
        summary = create_timers(planned, mode)
        # The summary goes out first: whoever has read the PID line can rely on it being complete.
        print(f"demo workload {os.getpid()}: {summary}", file=sys.stderr)
        listed = planned[:_LISTED]
        print("\n".join(_describe(p) for p in listed), file=sys.stderr)
        if len(planned) > len(listed):
            # Thousands of lines help nobody, and would fill a pipe nobody reads.
            more = len(planned) - len(listed)
            print(f"  … and {more:,} more (timertui show {os.getpid()})", file=sys.stderr)
        print("SIGUSR2 prints the signal counts, SIGTERM ends it", file=sys.stderr, flush=True)
        if as_json:
            timers = [dataclasses.asdict(p.timer) for p in planned]
            ready.write(json.dumps({"pid": os.getpid(), "timers": timers}) + "\n")
        else:
            ready.write(f"{os.getpid()}\n")
        ready.flush()
        while True:
            select.select([wake_r], [], [])
            os.read(wake_r, 4096)
    except _Stop:
        return
    finally:
        signal.set_wakeup_fd(-1)
        os.close(wake_r)
        os.close(wake_w)


_LISTED = 40  # timers described on stderr at start


def _die_with_parent() -> None:
    """Under spawn_workload: be killed when the spawner ends, however it ends."""
    parent = os.environ.pop(_PARENT_ENV, "")
    if not parent:
        return  # started by hand from a shell: it stays until SIGTERM, as documented
    _native.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(parent):  # the spawner died before the prctl took effect
        raise SystemExit(1)


def spawn_workload(
    ids: Sequence[int], zoo: bool, *, mode: str = "auto", as_json: bool = False
) -> subprocess.Popen[bytes]:
    """Start `python -m timertui demo-workload` as a child with its stdout and stderr piped.
    Follow with read_ready_pid; end it with stop_workload. The child dies when the calling
    THREAD ends (PR_SET_PDEATHSIG follows the forking thread): spawn from a long-lived one."""
    argv = [sys.executable, "-m", "timertui", "demo-workload"]
    argv += ["--ids", ",".join(str(i) for i in validate_ids(ids))]
    argv += ["--mode", mode] + (["--zoo"] if zoo else []) + (["--json"] if as_json else [])
    env = {**os.environ, _PARENT_ENV: str(os.getpid())}
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> str | None:
    """One line of the child's stdout, or None at end of file; TimeoutError after `timeout` s.
    Reads byte by byte from the descriptor, so no line waits in a Python buffer unseen."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"no line from pid {proc.pid} within {timeout:g} s")
        byte = os.read(fd, 1)
        if not byte:
            return None
        if byte == b"\n":
            return line.decode()
        line += byte


def read_ready_pid(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """Wait for the workload's PID line. If it exits or stays silent, it is killed and reaped and
    WorkloadError carries its last stderr line."""
    try:
        line = read_line(proc, timeout)
    except TimeoutError as exc:
        stop_workload(proc)
        raise WorkloadError(f"demo workload: {exc}") from None
    if line is not None:
        try:
            return int(line) if not line.startswith("{") else int(json.loads(line)["pid"])
        except (ValueError, KeyError, TypeError):
            stop_workload(proc)
            raise WorkloadError(f"demo workload: unexpected ready line {line!r}") from None
    status = stop_workload(proc)
    assert proc.stderr is not None
    lines = proc.stderr.read().decode(errors="replace").strip().splitlines()
    reason = lines[-1] if lines else f"exited with status {status}"
    raise WorkloadError(f"demo workload did not start: {reason}")


def stop_workload(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int:
    """SIGTERM, then SIGKILL if it lingers; reaps the child and returns its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()
