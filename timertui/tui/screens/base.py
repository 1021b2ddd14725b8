"""What every screen of the app shares: worker failures become a visible notification, and
the heap kept out of the collector's full passes."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from timertui.errors import InputError

if TYPE_CHECKING:
    from timertui.tui.app import TimerTuiApp


def freeze_heap() -> None:
    """Keep what exists now out of the collector's full passes (gc.freeze): they walk every
    object the app holds (~70,000, ~30 ms) and came in the middle of polls of 5,000 processes,
    where the keys' p99 halved without them. After a full collection, once: no cycle that is
    already garbage (a screen just closed) is kept with them."""
    gc.collect()
    gc.freeze()


def failure_text(error: BaseException | None) -> str:
    # Bad input already reads as one line; anything else keeps its type so it can be searched.
    if isinstance(error, InputError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class ReportsWorkerErrors:
    """Worker.StateChanged does not bubble, so every screen that starts workers has this one
    handler; workers run with exit_on_error=False and their errors end up here."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            worker = event.worker
            worker.node.app.notify(
                failure_text(worker.error),
                title=f"{worker.name or 'background task'} failed",
                severity="error",
                timeout=10,
                markup=False,
            )


class AppScreen(ReportsWorkerErrors, Screen[None]):
    @property
    def timer_app(self) -> TimerTuiApp:
        return cast("TimerTuiApp", self.app)
