"""The timers of one process, decoded: ID, clock, notify and target, signal, sigval, and the
armed values when a deep capture recorded them."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from timertui.capture.describe import clock_text, notify_text, signal_text
from timertui.model import Timer
from timertui.tui import look

_COLUMNS = (("ID", "id"), ("CLOCK", "clock"), ("NOTIFY", "notify"), ("SIGNAL", "signal"))
_SIGVAL = ("SIGVAL", "sigval")
_DEEP = (("REMAINING", "remaining"), ("INTERVAL", "interval"), ("OVERRUN", "overrun"))


class TimersTable(DataTable[Text]):
    """Rebuilt only when the timers differ from what it shows (a poll usually changes none)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._shown_timers: tuple[Timer, ...] | None = None
        self._deep: bool | None = None

    def show(self, timers: tuple[Timer, ...]) -> None:
        if timers == self._shown_timers:
            return
        self._shown_timers = timers
        deep = any(t.values is not None for t in timers)
        if deep != self._deep:
            self._deep = deep
            self.clear(columns=True)
            for label, key in (*_COLUMNS, _SIGVAL, *(_DEEP if deep else ())):
                self.add_column(label, key=key)
        else:
            self.clear()
        for t in timers:
            self.add_row(*self._cells(t, deep), key=str(t.id))

    @staticmethod
    def _cells(t: Timer, deep: bool) -> list[Text]:
        cells = [
            Text(f"{t.id:,}", justify="right"),
            Text(clock_text(t)),
            Text(notify_text(t)),
            Text(signal_text(t)),
            Text(f"0x{t.sigval:x}"),
        ]
        if deep:
            v = t.values
            # A remaining time of 0 is how the kernel reports a disarmed timer.
            remaining = "disarmed" if v and v.remaining_ns == 0 else None
            cells += [
                Text(remaining or look.duration(v.remaining_ns if v else None), justify="right"),
                Text(look.duration(v.interval_ns if v else None), justify="right"),
                Text(look.count(v.overrun if v else None), justify="right"),
            ]
        return cells
