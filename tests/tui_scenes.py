"""Deterministic data for the TUI tests: a host with a handful of processes (the demo workload's
real zoo of timers among them) as a frozen or scripted-live source, and a restorer that plays
back a fixed event script, so Pilot tests and SVG snapshots do not depend on this machine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from builders import HOST, TIMES
from textual.pilot import Pilot

from timertui import demo
from timertui.choices import DEMO_IDS, SIM
from timertui.model import (
    SIGEV_SIGNAL,
    Access,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
)
from timertui.restore import events as ev
from timertui.restore.plan import build_plan
from timertui.tui.restorer import RunRequest
from timertui.tui.source import Captured, FrozenSource

DEMO_PID = 4242


def _plain(pid: int, ids: Sequence[int], signo: int = 34) -> tuple[Timer, ...]:
    return tuple(Timer(i, 1, SIGEV_SIGNAL, pid, signo, 0xC0FFEE00 + n) for n, i in enumerate(ids))


def _process(
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
    return _process(DEMO_PID, "alice", "python", argv, timers, tids=(DEMO_PID, helper))


def processes() -> list[ProcessTimers]:
    return [
        _process(1, "root", "systemd", "/sbin/init", (), access=Access.NO_ACCESS),
        _process(812, "chrony", "chronyd", "/usr/sbin/chronyd -F 2", _plain(812, [0])),
        _process(
            1500,
            "bob",
            "stress-ng",
            "stress-ng --timer 1 --timer-freq 1000",
            _plain(1500, range(64)),
        ),
        _process(2210, "postgres", "postgres", "postgres: checkpointer", _plain(2210, [0, 1, 2])),
        _process(
            3001,
            "carol",
            "java",
            "java -jar service.jar",
            _plain(3001, [*range(10), 5_000, 70_000]),
        ),
        demo_process(),
        _process(5150, "www-data", "nginx", "nginx: worker process", _plain(5150, [0, 4])),
    ]


def snapshot(procs: Sequence[ProcessTimers] | None = None) -> Snapshot:
    return Snapshot(HOST, TIMES, tuple(processes() if procs is None else procs))


def frozen_source() -> FrozenSource:
    return FrozenSource(snapshot(), "scene.ttsnap")


class ScriptedSource:
    """A live-looking source whose scans follow a script (the last scan repeats): processes can
    appear, change and vanish between polls."""

    label = "live"
    live = True

    def __init__(self, scans: Sequence[Sequence[ProcessTimers]]) -> None:
        self.scans = [list(s) for s in scans]
        self.calls = 0

    def host(self) -> HostFacts:
        return HOST

    def scan(self, include_all: bool) -> list[ProcessTimers]:
        scan = self.scans[min(self.calls, len(self.scans) - 1)]
        self.calls += 1
        return [p for p in scan if include_all or p.timers or p.access is not Access.OK]

    def capture(self, pids: Sequence[int], deep: bool = False) -> Captured:
        last = self.scans[min(self.calls, len(self.scans)) - 1]
        return Captured(snapshot([p for p in last if p.pid in set(pids)]))


async def until(pilot: Pilot[Any], done: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until `done()` holds. pause(delay), never a bare pause(): that one waits
    for an idle CPU, which a running walk does not give."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


# -- a scripted restore -------------------------------------------------------------------------

MS = 1_000_000


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
        checks = tuple(ev.TimerCheck(i) for i in ids)
        out.append(ev.Verify(t_end + MS, checks))
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
        ev.Verify(t + 300_000, tuple(ev.TimerCheck(i) for i in ids)),
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


class ScriptedStream:
    """Plays `events`; then, unless they ended the run, waits for cancel() like a live walk."""

    def __init__(self, events: list[ev.Event]) -> None:
        self._events = iter(events)
        self._last = events[-1] if events else None
        self._cancelled = threading.Event()
        self._ended = False

    def __iter__(self) -> Iterator[ev.Event]:
        return self

    def __next__(self) -> ev.Event:
        if self._ended:
            raise StopIteration
        for event in self._events:
            return event
        if isinstance(self._last, ev.Done | ev.Error):
            raise StopIteration
        self._cancelled.wait()
        self._ended = True
        t = self._last.t_ns if self._last else 0
        return ev.Error(t, "cancelled", "restore cancelled in the create phase")

    def cancel(self) -> None:
        self._cancelled.set()

    def close(self) -> None:
        self._cancelled.set()


class ScriptedRestorer:
    """Answers every request with `script(process, request)`; no simulator unless `sim`."""

    def __init__(self, script: object, sim: bool = False) -> None:
        self.script = script
        self.sim = sim
        self.requests: list[RunRequest] = []

    def unavailable(self, backend: str) -> str | None:
        if backend == SIM and not self.sim:
            return "the simulator backend is not available in this build"
        return None

    def kernels(self) -> tuple[str, ...]:
        return ("6.15+", "3.10-6.14") if self.sim else ()

    def paces(self) -> tuple[str, ...]:
        return ("instant", "real") if self.sim else ()

    def start(self, process: ProcessTimers, request: RunRequest) -> ScriptedStream:
        self.requests.append(request)
        return ScriptedStream(self.script(process, request))  # type: ignore[operator]
