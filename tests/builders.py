"""Records for tests, built here only: timers, processes (a made-up one, armed ones, a host's
worth in a scene, this process as a restore's subject), snapshots of them on a host that is no
machine's, the event streams of scripted restores, the events of a run picked out by kind, and
the kernel models' allocators. Imported by test modules, never a test module itself."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from timertui import demo
from timertui.choices import DEMO_IDS
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Access,
    CaptureTimes,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerValues,
)
from timertui.restore import events as ev
from timertui.restore.plan import build_plan
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


def snapshot_of(processes: Sequence[ProcessTimers] | None = None) -> Snapshot:
    """`processes` (by default the scene's) as captured on HOST at TIMES."""
    return Snapshot(HOST, TIMES, tuple(scene_processes() if processes is None else processes))


U64_MAX = 2**64 - 1


def rich_snapshot() -> Snapshot:
    """Every kind of value the format carries, at the edges of their ranges."""
    timers = (
        Timer(0, 0, SIGEV_SIGNAL, 100, 34, 0x55C50224F728, TimerValues(9_223_027, 10**7, 0)),
        Timer(7, 1, SIGEV_NONE, 100, 0, 0),
        Timer(8, 7, SIGEV_THREAD, 100, 64, U64_MAX, TimerValues(0, 0, INT_MAX)),
        Timer(1_000_000, 11, SIGEV_THREAD_ID, 101, 10, 1, TimerValues(2**63 - 1, 1, 3)),
        Timer(INT_MAX, make_cpu_clock(101, CpuClockType.SCHED, True), SIGEV_SIGNAL, 100, 14, 5),
        Timer(9, -6, SIGEV_SIGNAL, 100, 34, 42),
    )
    return Snapshot(
        host=HostFacts("6.18.0-test", "b90c28d1-98c3", "hôst", "x86_64", True, 96365, 96365),
        times=CaptureTimes(1_763_790_000_123_456_789, 1_234_567, 2_345_678),
        processes=(
            ProcessTimers(
                pid=100,
                ppid=1,
                comm="stress-ng-timer",
                cmdline=("stress-ng", "--timer", "1", "ünïcode ✓", ""),
                uid=0,
                user="root",
                status="sleeping",
                tids=(100, 101),
                timers=timers,
                sigpending=(U64_MAX, U64_MAX),
            ),
            ProcessTimers(200, 100, "sh", (), 1000, "alice", "zombie", (200,), ()),
            ProcessTimers(300, 1, "", (), -1, "", "", (), (), Access.NO_ACCESS),
            ProcessTimers(400, 1, "x", (), 5, "e", "gone", (), (), Access.GONE, (1, 2)),
        ),
        source="live",
    )


# -- a host's processes, the demo workload's zoo among them ---------------------------------

DEMO_PID = 4242


def plain_timers(pid: int, ids: Iterable[int], signo: int = SIGRTMIN) -> tuple[Timer, ...]:
    return tuple(Timer(i, 1, SIGEV_SIGNAL, pid, signo, 0xC0FFEE00 + n) for n, i in enumerate(ids))


def host_process(
    pid: int, user: str, comm: str, argv: str, timers: tuple[Timer, ...], **kw: object
) -> ProcessTimers:
    fields: dict[str, object] = {
        "pid": pid,
        "ppid": 1,
        "comm": comm,
        "cmdline": tuple(argv.split()),
        "uid": 1000 if user != "root" else 0,
        "user": user,
        "status": "sleeping",
        "tids": (pid,),
        "timers": timers,
    }
    fields.update(kw)
    return ProcessTimers(**fields)  # type: ignore[arg-type]


def demo_process() -> ProcessTimers:
    """The demo workload with --zoo, as /proc would show it (the real zoo specs)."""
    helper = DEMO_PID + 2
    timers = tuple(demo.zoo_specs(DEMO_IDS, DEMO_PID, helper))
    argv = "python -m timertui demo-workload --ids 0,1000000,2000000 --zoo"
    return host_process(DEMO_PID, "alice", "python", argv, timers, tids=(DEMO_PID, helper))


def scene_processes() -> list[ProcessTimers]:
    """A host's processes: init (no access), daemons, a busy stress-ng, a java, the demo."""
    return [
        host_process(1, "root", "systemd", "/sbin/init", (), access=Access.NO_ACCESS),
        host_process(812, "chrony", "chronyd", "/usr/sbin/chronyd -F 2", plain_timers(812, [0])),
        host_process(
            1500,
            "bob",
            "stress-ng",
            "stress-ng --timer 1 --timer-freq 1000",
            plain_timers(1500, range(64)),
        ),
        host_process(
            2210, "postgres", "postgres", "postgres: checkpointer", plain_timers(2210, [0, 1, 2])
        ),
        host_process(
            3001,
            "carol",
            "java",
            "java -jar service.jar",
            plain_timers(3001, [*range(10), 5_000, 70_000]),
        ),
        demo_process(),
        host_process(
            5150, "www-data", "nginx", "nginx: worker process", plain_timers(5150, [0, 4])
        ),
    ]


def subject_process(ids: Iterable[int]) -> ProcessTimers:
    """This process, holding SIGRTMIN timers at `ids`: what a real restore is asked to recreate."""
    pid = os.getpid()
    timers = tuple(Timer(i, 1, SIGEV_SIGNAL, pid, SIGRTMIN, 0xAB00 + i) for i in ids)
    return ProcessTimers(pid, 1, "subject", ("subject",), 0, "root", "sleeping", (pid,), timers)


# -- scripted restores: the events the native worker would report ---------------------------


def walk_events(process: ProcessTimers, fraction: float, finish: bool) -> list[ev.Event]:
    """A walk-mode native restore of `process` as the worker reports it, up to `fraction` of the
    ID space (and to the end with verification when `finish`)."""
    plan = build_plan(process)
    ids = plan.ids
    top = ids[-1]
    out: list[ev.Event] = [
        ev.Start(
            0,
            "native",
            5001,
            process.pid,
            process.comm,
            "auto",
            len(ids),
            top,
            False,
            "6.18.0-demo",
        ),
        ev.Phase(48 * MS, "spawn", 48 * MS),
        *(replace(d, t_ns=48 * MS) for d in plan.decisions),
        ev.Probe(49 * MS, False, 22, "EINVAL: kernel without PR_TIMER_CREATE_RESTORE_IDS"),
        ev.Decision(
            49 * MS, "walk-mode", "prctl gave EINVAL: timers are recreated by the walk", "info"
        ),
    ]
    reach = int(top * fraction)
    created = [i for i in ids if i <= reach]
    t = 50 * MS
    rate = 1_150_000.0
    for step in range(1, 5):
        current = reach * step // 4
        done = sum(1 for i in ids if i <= current)
        t = 50 * MS + int(current / rate * 1e9)
        new = tuple(
            i for i in created if reach * (step - 1) // 4 < i <= current or (step == 1 and i == 0)
        )
        if new:
            out.append(ev.TimerState(t, "created", new))
        eta = int((top - current) / rate * 1e9)
        out.append(
            ev.Progress(
                t,
                "create",
                done,
                len(ids),
                current,
                top,
                current + 1,
                current + 1 - done,
                rate,
                eta,
            )
        )
    if finish:
        t_end = 50 * MS + int(top / rate * 1e9)
        rest = tuple(i for i in ids if i > reach)
        out.append(ev.TimerState(t_end, "created", rest))
        out.append(ev.Phase(t_end, "create", t_end - 50 * MS))
        out.append(ev.TimerState(t_end, "armed", ids))
        out.append(ev.Verify(t_end + MS, (), tuple(ids)))
        phases = {"spawn": 48 * MS, "create": t_end - 50 * MS, "verify": MS}
        out.append(
            ev.Done(
                t_end + MS,
                True,
                "walk",
                top + 1,
                top + 1 - len(ids),
                2 * (top + 1),
                phases,
                t_end + MS,
                len(ids),
                0,
                False,
            )
        )
    return out


def exact_events(process: ProcessTimers) -> list[ev.Event]:
    """An exact-mode native restore of `process`, start to verification."""
    plan = build_plan(process)
    ids = plan.ids
    n = len(ids)
    t = 48 * MS
    return [
        ev.Start(
            0, "native", 5002, process.pid, process.comm, "exact", n, ids[-1], False, "6.18.0-demo"
        ),
        ev.Phase(t, "spawn", t),
        *(replace(d, t_ns=t) for d in plan.decisions),
        ev.Probe(t + 20_000, True, 0, "exact-ID mode on"),
        ev.Decision(t + 20_000, "exact-mode", "the kernel creates each timer at its ID", "info"),
        ev.TimerState(t + 60_000, "created", ids),
        ev.Progress(t + 60_000, "create", n, n, ids[-1], ids[-1], n, 0, n / 40e-6, 0),
        ev.Phase(t + 60_000, "create", 40_000),
        ev.TimerState(t + 65_000, "armed", ids),
        ev.Verify(t + 300_000, (), tuple(ids)),
        ev.Done(
            t + 300_000,
            True,
            "exact",
            n,
            0,
            2 * n + 2,
            {"spawn": t, "create": 40_000},
            t + 300_000,
            n,
            0,
            False,
        ),
    ]


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
