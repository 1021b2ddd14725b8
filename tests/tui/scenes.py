"""What the TUI tests drive the app with, beside the records of tests/builders.py: the scene's
host as a frozen or scripted-live source, a restorer that plays back a fixed event script, and
the waits (for the app's workers, for a condition), so Pilot tests and SVG snapshots do not
depend on this machine. The app itself, its size and its cursor: tests/tui/conftest.py."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from builders import HOST, snapshot_of
from rich.console import Console
from textual.pilot import Pilot

from timertui.choices import SIM
from timertui.model import Access, HostFacts, ProcessTimers
from timertui.restore import events as ev
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import Captured, FrozenSource
from timertui.tui.restorer import RunRequest
from timertui.tui.widgets.process_table import ProcessTable
from timertui.tui.widgets.screen_help import ScreenHelp


def frozen_source() -> FrozenSource:
    return FrozenSource(snapshot_of(), "scene.ttsnap")


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
        return Captured(snapshot_of([p for p in last if p.pid in set(pids)]))

    def values_off(self) -> None:
        """Nothing to let go of."""


async def until(pilot: Pilot[Any], done: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until `done()` holds. pause(delay), never a bare pause(): that one waits
    for an idle CPU, which a running walk does not give."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


async def on_process(pilot: Pilot[Any], pid: int) -> ProcessTable:
    """Until the processes screen's cursor is on `pid` (a live scan can take a while)."""
    table = pilot.app.screen.query_one(ProcessTable)
    await until(pilot, lambda: table.highlighted_pid == pid)
    return table


def keys_listed(app: TimerTuiApp) -> str:
    """What the help panel's key list (Textual's KeyPanel) shows now, as plain text."""
    table = app.screen.query_one(ScreenHelp).query_one("KeyPanel BindingsTable").render()
    console = Console(file=io.StringIO(), width=200, color_system=None)
    with console.capture() as capture:
        console.print(table)
    return capture.get()


async def settle(pilot: Pilot[Any]) -> None:
    """Until the app's workers (scans, loads) are done and the messages they sent are handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


# -- a scripted restore -------------------------------------------------------------------------


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
        self.prepared: list[ProcessTimers] = []
        self.closed = False

    def unavailable(self, backend: str) -> str | None:
        if backend == SIM and not self.sim:
            return "the simulator backend is not available in this build"
        return None

    def kernels(self) -> tuple[str, ...]:
        return ("6.15+", "3.10-6.14") if self.sim else ()

    def paces(self) -> tuple[str, ...]:
        return ("instant", "real") if self.sim else ()

    def prepare(self, process: ProcessTimers) -> None:
        self.prepared.append(process)

    def start(self, process: ProcessTimers, request: RunRequest) -> ScriptedStream:
        self.requests.append(request)
        return ScriptedStream(self.script(process, request))  # type: ignore[operator]

    def close(self) -> None:
        self.closed = True


# What the fixtures of tests/tui/conftest.py hand a test: the app (on the scene's frozen source,
# saving snapshots under tmp_path, unless told otherwise), its run at the tests' terminal size,
# and the SVG comparison at that size.
MakeApp = Callable[..., TimerTuiApp]
RunApp = Callable[..., AbstractAsyncContextManager[Pilot[None]]]
Snap = Callable[..., bool]
