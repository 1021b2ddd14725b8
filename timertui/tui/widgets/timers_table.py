"""The timers of one process, decoded: ID, clock, notify and target, signal, sigval, and their
armed values — saved in a snapshot, or read live by a deep capture and counted down here between
captures."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from timertui.capture.describe import clock_text, notify_text, signal_text
from timertui.clocks import decode_clock
from timertui.model import Timer, TimerValues
from timertui.tui import look

_HEAD = (("ID", "id"), ("CLOCK", "clock"))
# The values come right after the clock: they are what changes, and the pane is narrow.
_DEEP = (("REMAINING", "remaining"), ("INTERVAL", "interval"), ("OVERRUN", "overrun"))
_TAIL = (("NOTIFY", "notify"), ("SIGNAL", "signal"), ("SIGVAL", "sigval"))


@dataclass(frozen=True)
class LiveValues:
    """Values a deep capture read, with when (CLOCK_MONOTONIC ns) each timer was read."""

    values: Mapping[int, TimerValues]
    read_ns: Mapping[int, int]


def remaining_after(values: TimerValues, elapsed_ns: int) -> int:
    """The remaining time `elapsed_ns` after it was read: a periodic timer starts its next
    period when it fires; a one-shot one stays at 0 once fired. 0 means disarmed."""
    if values.remaining_ns == 0:
        return 0
    left = values.remaining_ns - elapsed_ns
    if left > 0:
        return left
    if values.interval_ns == 0:
        return 0
    return values.interval_ns - (-left) % values.interval_ns


def remaining_text(values: TimerValues | None, elapsed_ns: int = 0) -> str:
    if values is None:
        return look.NO_VALUE
    left = remaining_after(values, elapsed_ns)
    # The kernel reports a disarmed timer as 0 remaining; a fired one-shot ends the same way.
    return "disarmed" if left == 0 else look.duration(left)


class TimersTable(DataTable[Text]):
    """Rebuilt only when the timers differ from what it shows (a poll usually changes none)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._shown_timers: tuple[Timer, ...] | None = None
        self._live: LiveValues | None = None
        self._wall: frozenset[int] = frozenset()
        self._deep: bool | None = None

    def show(self, timers: tuple[Timer, ...], live: LiveValues | None = None) -> None:
        if timers == self._shown_timers and live is self._live:
            return
        self._shown_timers, self._live = timers, live
        # CPU-time clocks advance only while the process runs: those keep their captured value
        # until the next capture; the others count down with the wall clock.
        self._wall = frozenset(t.id for t in timers if decode_clock(t.clock).cpu is None)
        deep = live is not None or any(t.values is not None for t in timers)
        if deep != self._deep:
            self._deep = deep
            self.clear(columns=True)
            for label, key in (*_HEAD, *(_DEEP if deep else ()), *_TAIL):
                self.add_column(label, key=key)
        else:
            self.clear()
        now = time.monotonic_ns()
        for t in timers:
            self.add_row(*self._cells(t, deep, now), key=str(t.id))

    def tick(self, now_ns: int | None = None) -> None:
        """Count the live values down to `now_ns`."""
        live = self._live
        if live is None:
            return
        now_ns = time.monotonic_ns() if now_ns is None else now_ns
        for tid, values in live.values.items():
            key = str(tid)
            if key in self.rows and tid in self._wall:
                elapsed = now_ns - live.read_ns.get(tid, now_ns)
                cell = Text(remaining_text(values, elapsed), justify="right")
                self.update_cell(key, "remaining", cell, update_width=True)

    def _cells(self, t: Timer, deep: bool, now_ns: int) -> list[Text]:
        cells = [Text(f"{t.id:,}", justify="right"), Text(clock_text(t))]
        if deep:
            live = self._live
            v = live.values.get(t.id) if live is not None else t.values
            elapsed = 0
            if live is not None and t.id in self._wall:
                elapsed = now_ns - live.read_ns.get(t.id, now_ns)
            cells += [
                Text(remaining_text(v, elapsed), justify="right"),
                Text(look.duration(v.interval_ns) if v else look.NO_VALUE, justify="right"),
                Text(look.count(v.overrun if v else None), justify="right"),
            ]
        return [*cells, Text(notify_text(t)), Text(signal_text(t)), Text(f"0x{t.sigval:x}")]
