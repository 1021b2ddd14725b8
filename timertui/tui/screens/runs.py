"""What the restore screen and the race view share: starting restores in thread workers, and
stopping them all when asked or when the screen goes away (no worker process outlives it)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import partial

from textual import work
from textual.timer import Timer

from timertui.model import ProcessTimers
from timertui.tui.messages import cancelled, pump
from timertui.tui.restorer import Restorer, RunRequest, RunStream
from timertui.tui.screens.base import AppScreen, freeze_heap

REDRAW_SECONDS = 0.1


class RunsScreen(AppScreen):
    def __init__(self, process: ProcessTimers, origin: str, restorer: Restorer) -> None:
        super().__init__()
        self.process = process
        self.origin = origin
        self.restorer = restorer
        self._streams: dict[str, RunStream] = {}
        self._starting: dict[str, RunRequest] = {}  # runs whose worker starts after a frame
        self._redraw: Timer | None = None

    @work(thread=True, group="prepare", exit_on_error=False, name="planning the restore")
    def prepare_runs(self) -> None:
        """What a start needs, made while the user chooses (the screens call it on mount)."""
        self.restorer.prepare(self.process)

    def redraw_soon(self, draw: Callable[[], None]) -> None:
        """Draw at most REDRAW_SECONDS apart. This VM's CPUs share a core: every cycle the UI
        spends drawing a walk's 50 progress events a second slows the walk it shows."""
        if self._redraw is None:
            self._redraw = self.set_timer(REDRAW_SECONDS, partial(self._redrawn, draw))

    def _redrawn(self, draw: Callable[[], None]) -> None:
        self._redraw = None
        draw()

    def stream(self, run: str, request: RunRequest) -> None:
        """Start a restore; its events arrive as RestoreEvent messages tagged with `run`."""
        # What exists now (the process's timers, the tables) lives as long as this screen: kept
        # out of the collector's full passes, which otherwise stop the app for a quarter of a
        # second in the middle of a run of 10,000 timers. Given back when the screen goes.
        gc.freeze()
        # The worker starts once the run's first frame (the tables reset, the footer's keys)
        # is drawn: for a big plan the start holds the interpreter for tens of milliseconds
        # (the plan's arrays and its pickle for the worker), and a key pressed meanwhile
        # should wait for one of the two, not both.
        self._starting[run] = request
        self.call_after_refresh(self._start, run)

    def _start(self, run: str) -> None:
        request = self._starting.pop(run, None)
        if request is None:
            return  # cancelled before it started
        self.run_worker(
            partial(self._pump, run, request),
            thread=True,
            group="restore",
            exit_on_error=False,
            name=f"restore ({request.backend}, {request.mode})",
        )

    def _pump(self, run: str, request: RunRequest) -> None:
        stream = self.restorer.start(self.process, request)
        gc.freeze()  # the plan lives as long as the run
        self._streams[run] = stream
        try:
            pump(self, run, stream)
        finally:
            self._streams.pop(run, None)

    def cancel_runs(self) -> None:
        # The stream's own cancel (thread-safe) kills its worker process at once; cancelling the
        # thread worker covers streams without one at their next event.
        for run in self._starting:
            cancelled(self, run)
        self._starting.clear()
        for stream in list(self._streams.values()):
            stream.cancel()
        self.workers.cancel_group(self, "restore")

    def on_unmount(self) -> None:
        self.cancel_runs()
        # The run's objects given back (all that was frozen goes with them); once this screen
        # is gone, what lives is frozen again.
        gc.unfreeze()
        self.app.call_later(freeze_heap)

    def action_back(self) -> None:
        self.dismiss()
