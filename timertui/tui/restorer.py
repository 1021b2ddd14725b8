"""How the app starts restores: a `Restorer` turns a process and the user's choices into the
restore's event stream, a `RunStream`. The app is given one (tests give it one whose events are
known), and the default runs the real backends of timertui.restore."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from timertui.choices import NATIVE, SIM, Mode
from timertui.model import ProcessTimers
from timertui.restore.events import Event

if TYPE_CHECKING:
    from timertui.restore.native.server import WorkerServer
    from timertui.restore.plan import RestorePlan

# The simulator's defaults in the app: a kernel before exact IDs, where a restore has to walk,
# played back in real time so the walk is seen taking its time.
WALK_KERNEL = "3.10-6.14"
REAL_PACE = "real"


@dataclass(frozen=True)
class RunRequest:
    """What the restore screen's controls chose. `kernel` and `pace` apply to the simulator."""

    backend: str = NATIVE
    mode: Mode = "auto"
    hold: bool = False
    kernel: str = ""
    pace: str = ""


class RunStream(Protocol):
    """One restore's events, in order. `cancel()` is safe from any thread: the restore stops
    and the stream ends with an Error `cancelled`. `close()` stops the restore and leaves nothing
    running, the stream ending without more events."""

    def __iter__(self) -> Iterator[Event]: ...

    def __next__(self) -> Event: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class Restorer(Protocol):
    def unavailable(self, backend: str) -> str | None:
        """Why `backend` cannot run here, or None when it can."""
        ...

    def kernels(self) -> tuple[str, ...]:
        """The simulator's kernel profiles (empty without a simulator)."""
        ...

    def paces(self) -> tuple[str, ...]:
        """The simulator's playback pacings (empty without a simulator)."""
        ...

    def prepare(self, process: ProcessTimers) -> None:
        """Do ahead, in a thread worker, what a start of `process` needs (its plans): called
        when a screen that restores it opens, so that the start's key stays quick."""
        ...

    def start(self, process: ProcessTimers, request: RunRequest) -> RunStream:
        """The restore's events (the worker starts at the first)."""
        ...

    def close(self) -> None:
        """End what the restorer keeps running between restores."""
        ...


class BackendRestorer:
    """The real backends: native (a worker process on this kernel) and the simulator.

    It starts the worker server (timertui.restore.native.server) when made — the app makes it in its
    __init__, before it has threads, on its main thread (which the server's PR_SET_PDEATHSIG
    follows) — and native restores fork their worker there, in a millisecond or two, instead
    of spawning a fresh interpreter (~170 ms; still the way when the server is gone).
    `close()` ends the server and its workers."""

    def __init__(self) -> None:
        from timertui.restore.native.server import WorkerServer

        self.server: WorkerServer | None = WorkerServer.start()
        # The last process's plans by backend, as `prepare` or a start made them.
        self._plans: dict[str, tuple[ProcessTimers, RestorePlan]] = {}
        self._planning = threading.Lock()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def unavailable(self, backend: str) -> str | None:
        return None  # both are part of the package

    def kernels(self) -> tuple[str, ...]:
        from timertui.restore.sim import runner as simulator

        return tuple(simulator.PROFILES)

    def paces(self) -> tuple[str, ...]:
        from timertui.restore.sim import runner as simulator

        return tuple(simulator.PACES)

    def prepare(self, process: ProcessTimers) -> None:
        # 10,000 timers plan in ~60 ms: in the start's thread, beside the screen drawing the
        # run, that is a key held up that long.
        for backend in (NATIVE, SIM):
            self._plan(process, backend)

    def _plan(self, process: ProcessTimers, backend: str) -> RestorePlan:
        """The plan for `process` on `backend`: the one made ahead, unless the host's facts it
        was made with have changed (a native plan checks RLIMIT_SIGPENDING headroom)."""
        from timertui.restore.native import runner as native
        from timertui.restore.plan import build_plan

        facts = native.local_facts() if backend == NATIVE else None
        with self._planning:  # a start waits for the same plan being made ahead
            made = self._plans.get(backend)
            if made is not None and made[0] is process and made[1].facts == facts:
                return made[1]
            plan = build_plan(process, facts=facts)
            if backend == NATIVE:
                native.prepare(plan)  # its worker's bytes too, off the start's key
            self._plans[backend] = (process, plan)
            return plan

    def start(self, process: ProcessTimers, request: RunRequest) -> RunStream:
        from timertui import restore
        from timertui.clocks import uses_alarm_clocks
        from timertui.restore.native import runner as native
        from timertui.restore.stream import EventStream

        plan = self._plan(process, request.backend)
        if request.backend == SIM:
            # The modelled target runs on this host where the kernel profile says nothing.
            host = native.local_facts(probe_alarm=uses_alarm_clocks(process.timers))
            events = restore.run(
                plan,
                SIM,
                request.mode,
                request.hold,
                kernel=request.kernel,
                pace=request.pace,
                host=host,
            )
        else:
            # The app is threaded: the worker is forked by the server, or spawned, never forked
            # from the app.
            events = restore.run(
                plan, NATIVE, request.mode, request.hold, start="spawn", server=self.server
            )
        if not isinstance(events, EventStream):  # what every backend returns (restore.stream)
            raise TypeError(f"restore backend {request.backend!r} returned no EventStream")
        return events
