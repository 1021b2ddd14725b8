"""How the app starts restores: a `Restorer` turns a process and the user's choices into the
restore's event stream. The app is given one (tests give it one whose events are known), and the
default runs the real backends of timertui.restore."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from timertui.choices import NATIVE, SIM, Mode
from timertui.model import ProcessTimers
from timertui.restore.events import Event

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

    def start(self, process: ProcessTimers, request: RunRequest) -> Iterator[Event]:
        """The restore's events. The stream may have a thread-safe `cancel()` and a `close()`;
        closing it stops the restore and leaves nothing running."""
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

    def start(self, process: ProcessTimers, request: RunRequest) -> Iterator[Event]:
        from timertui import restore
        from timertui.clocks import uses_alarm_clocks
        from timertui.restore.native import runner as native
        from timertui.restore.plan import build_plan

        if request.backend == SIM:
            plan = build_plan(process)
            # The modelled target runs on this host where the kernel profile says nothing.
            host = native.local_facts(probe_alarm=uses_alarm_clocks(process.timers))
            return restore.run(
                plan,
                SIM,
                request.mode,
                request.hold,
                kernel=request.kernel,
                pace=request.pace,
                host=host,
            )
        # The app is threaded: the worker is forked by the server, or spawned, never forked
        # from the app.
        plan = build_plan(process, facts=native.local_facts())
        return restore.run(
            plan, NATIVE, request.mode, request.hold, start="spawn", server=self.server
        )
