"""`timertui --no-native`: the app without native restores or deep capture, as `timertui serve
--public` runs it for visitors (listing processes, snapshots and the simulator stay). Both are
refused where the user asks for them, with the reason: the snapshot dialog's deep switch is off
with a note, `v` is not offered, a race's native lanes say "not available", and a native start
on the restore screen fails with that line."""

from __future__ import annotations

from typing import Any

from timertui.choices import NATIVE
from timertui.errors import InputError
from timertui.model import ProcessTimers
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import ProcessSource
from timertui.tui.restorer import BackendRestorer, RunRequest, RunStream

REASON = "off in this public demo (timertui serve --public without --allow-native)"


class NoNativeRestorer(BackendRestorer):
    """The simulator only: a native restore is refused before any worker runs."""

    def __init__(self) -> None:
        super().__init__()
        self.close()  # no worker server: nothing here forks a worker

    def unavailable(self, backend: str) -> str | None:
        return f"native restore is {REASON}" if backend == NATIVE else super().unavailable(backend)

    def start(self, process: ProcessTimers, request: RunRequest) -> RunStream:
        refused = self.unavailable(request.backend)
        if refused is not None:
            raise InputError(f"{refused}: pick the simulator")
        return super().start(process, request)


class NoNativeApp(TimerTuiApp):
    """The app with NoNativeRestorer, deep capture refused, and a first notice saying both."""

    def __init__(self, source: ProcessSource, **options: Any) -> None:
        super().__init__(source, restorer=NoNativeRestorer(), **options)

    def deep_unavailable(self) -> str | None:
        return f"deep capture (ptrace) is {REASON}"

    def on_mount(self) -> None:
        self.notify(
            f"native restores and deep capture are {REASON}; the simulator is on",
            title="public demo",
            timeout=8,
            markup=False,
        )
