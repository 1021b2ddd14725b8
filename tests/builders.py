"""Records for tests: timers, processes and armed values of a made-up process, the events a
restore run gives, picked out by kind, and the kernel models' allocators. Imported by test
modules; never a test module itself."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from timertui.model import (
    SIGEV_NONE,
    SIGEV_SIGNAL,
    CaptureTimes,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerValues,
)
from timertui.restore import events as ev
from timertui.restore.sim.allocator import Allocator
from timertui.restore.sim.profiles import Kernel, KernelParams, ProfileName

PID = 4000
HELPER = 4001
SIGRTMIN = 34
MS = 1_000_000
ONE_SHOT = TimerValues(60_000 * MS, 0, 0)


def timer(
    timer_id: int,
    *,
    clock: int = 1,
    notify: int = SIGEV_SIGNAL,
    target: int = PID,
    signo: int = SIGRTMIN,
    values: TimerValues | None = ONE_SHOT,
) -> Timer:
    return Timer(timer_id, clock, notify, target, signo, 0xC0FFEE00 + timer_id, values)


def process(timers: Iterable[Timer], tids: tuple[int, ...] = (PID,)) -> ProcessTimers:
    return ProcessTimers(PID, 1, "demo", ("demo",), 0, "root", "S", tids, tuple(timers))


def armed(remaining_ms: int, interval_ms: int = 0) -> TimerValues:
    return TimerValues(remaining_ms * MS, interval_ms * MS, 0)


def armed_process(pid: int, ids: Iterable[int], period_ms: int = 10) -> ProcessTimers:
    """Process `pid` holding MONOTONIC timers at `ids`, each signalling SIGRTMIN to it every
    `period_ms`, the first expiry half a period away."""
    values = TimerValues(period_ms * MS // 2, period_ms * MS, 0)
    timers = tuple(timer(i, target=pid, values=values) for i in ids)
    return ProcessTimers(pid, 1, f"p{pid}", ("p",), 0, "root", "sleeping", (pid,), timers)


# A host and capture times that are no machine's: snapshots built here do not depend on this one.
HOST = HostFacts(
    kernel_release="6.18.0-demo",
    boot_id="00000000-0000-4000-8000-000000000000",
    hostname="testbox",
    machine="x86_64",
    exact_ids=True,
    sigpending_soft=63_432,
    sigpending_hard=63_432,
)
TIMES = CaptureTimes(realtime_ns=1_750_000_000_000_000_000, monotonic_ns=10**12, boottime_ns=10**12)


def snapshot_of(processes: Sequence[ProcessTimers]) -> Snapshot:
    return Snapshot(HOST, TIMES, tuple(processes))


E = TypeVar("E", bound=ev.Event)


def of(kind: type[E], events: Iterable[ev.Event]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def done(events: list[ev.Event]) -> ev.Done:
    (last,) = of(ev.Done, events)
    return last


def decision(events: list[ev.Event], code: str) -> ev.Decision:
    found = [d for d in of(ev.Decision, events) if d.code == code]
    assert found, f"no {code} decision in {[d.code for d in of(ev.Decision, events)]}"
    return found[0]


# Sigevents by what the kernel does with them, as (clock, notify, signo).
SIGEVENTS = {
    "ok": (1, SIGEV_NONE, 0),
    "signal": (0, SIGEV_SIGNAL, 34),
    "alarm": (8, SIGEV_NONE, 0),  # EOPNOTSUPP without an RTC, after the ID is taken
    "raw": (4, SIGEV_NONE, 0),  # MONOTONIC_RAW has no timers: EOPNOTSUPP before
    "badsig": (1, SIGEV_SIGNAL, 0),  # EINVAL after
    "badclock": (12, SIGEV_NONE, 0),  # EINVAL before
}


def allocator(
    profile: ProfileName = "6.15+",
    params: KernelParams | None = None,
    *,
    alarm: bool = False,
    limit: int = -1,
) -> Allocator:
    """A kernel model's ID allocator for one process that holds no timers yet."""
    return Allocator(Kernel(profile, params or KernelParams()), alarm=alarm, limit=limit, in_use=0)
