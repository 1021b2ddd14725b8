"""The timers of one process, decoded: ID, clock, notify and target, signal, sigval, and their
armed values — saved in a snapshot, or read live by a deep capture and counted down here between
captures. Its timerfds (`fd N`) and interval timers (ITIMER_*) follow the POSIX timers, one row
each, with their own words in the same columns. Only the rows on screen are drawn, so a process
with 100,000 timers costs what its visible rows cost; the screen reads live values for the
visible rows (`visible_ids`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message

from timertui.capture.describe import clock_text, notify_text, signal_text
from timertui.clocks import decode_clock
from timertui.model import ITIMER_SIGNALS, USEC_PER_SEC, IntervalTimer, Timer, TimerFd, TimerValues
from timertui.signals import signal_name
from timertui.tui import formats
from timertui.tui.columns import Column
from timertui.tui.widgets.virtual_table import VirtualTable

# In a narrow pane (80 columns) the clock, notify and signal words take fewer cells, so the
# values come into view (an ID never does: a cut number would read as another).
_HEAD = (Column("id", "ID", 13, "right"), Column("clock", "CLOCK", 22, least=12))
# The values come right after the clock: they are what changes, and the pane is narrow.
_DEEP = (
    Column("remaining", "REMAINING", 10, "right"),
    Column("interval", "INTERVAL", 10, "right"),
    Column("overrun", "OVERRUN", 7, "right"),
)
_TAIL = (
    Column("notify", "NOTIFY", 22, least=12),
    Column("signal", "SIGNAL", 20, least=12),  # "(SIGRTMIN+2, unused)"
    Column("sigval", "SIGVAL", 18, fill=True),
)


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
        return formats.NO_VALUE
    left = remaining_after(values, elapsed_ns)
    # The kernel reports a disarmed timer as 0 remaining; a fired one-shot ends the same way.
    return "disarmed" if left == 0 else formats.duration(left)


class TimersTable(VirtualTable):
    """One row per timer, in the order given; values from the snapshot or a live capture."""

    COMPACT_BELOW = 60

    class Scrolled(Message):
        """Other rows came into view (the screen reads their live values)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__((*_HEAD, *_TAIL), id=id)
        self._by_id: dict[int, Timer] = {}
        self._fixed: dict[int, tuple[Text, ...]] = {}
        self._shown_timers: tuple[Timer, ...] | None = None
        self._live: LiveValues | None = None
        self._wall: frozenset[int] = frozenset()
        self._deep = False
        self._now_ns = 0
        # Rows of the other kinds by key ("fd:N", "it:WHICH"): cells before, of and after the
        # value columns.
        self._others: dict[str, _Cells] = {}

    def show(
        self,
        timers: tuple[Timer, ...],
        live: LiveValues | None = None,
        timerfds: tuple[TimerFd, ...] = (),
        itimers: tuple[IntervalTimer, ...] | None = None,
    ) -> None:
        others = {f"fd:{t.fd}": _timerfd_cells(t) for t in timerfds}
        others.update({f"it:{t.which}": _itimer_cells(t) for t in itimers or () if t.armed})
        if timers is self._shown_timers and live is self._live and others == self._others:
            return
        same_timers = timers == self._shown_timers and others == self._others
        self._shown_timers, self._live, self._others = timers, live, others
        self._now_ns = time.monotonic_ns()
        deep = live is not None or any(t.values is not None for t in timers) or bool(others)
        if deep != self._deep:
            self._deep = deep
            self.set_columns((*_HEAD, *(_DEEP if deep else ()), *_TAIL))
        if same_timers:
            self.refresh_all_rows()  # new values for the same rows
            return
        # CPU-time clocks advance only while the process runs: those keep their captured value
        # until the next capture; the others count down with the wall clock. (A clock decoded
        # once: 10,000 timers use a few clocks, and a decode per timer took ~40 ms.)
        wall = {c: decode_clock(c).cpu is None for c in {t.clock for t in timers}}
        self._wall = frozenset(t.id for t in timers if wall[t.clock])
        self._by_id = {t.id: t for t in timers}
        self._fixed.clear()
        self.refresh_all_rows()
        self.set_rows([*(str(t.id) for t in timers), *others])

    def visible_ids(self) -> tuple[int, ...]:
        """The POSIX timer IDs on screen (the other kinds' rows need no live reading)."""
        return tuple(int(key) for key in self.visible_keys() if key[:1].isdigit())

    def tick(self, now_ns: int | None = None) -> None:
        """Count the live values down to `now_ns` (the rows on screen are drawn again)."""
        if self._live is None or not self._wall:
            return
        self._now_ns = time.monotonic_ns() if now_ns is None else now_ns
        self.refresh_all_rows()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if int(old) != int(new):
            self.post_message(self.Scrolled())

    def row_cells(self, key: str) -> Sequence[Text]:
        if key in self._others:
            head, values, tail = self._others[key]
            return [*head, *(values if self._deep else ()), *tail]
        t = self._by_id[int(key)]
        fixed = self._fixed.get(t.id)
        if fixed is None:
            # What never changes, made once: the countdown redraws the rows ten times a second.
            fixed = self._fixed[t.id] = (
                Text(f"{t.id:,}"),
                Text(clock_text(t)),
                Text(notify_text(t)),
                Text(signal_text(t)),
                Text(f"0x{t.sigval:x}"),
            )
        cells = list(fixed[:2])
        if self._deep:
            live = self._live
            v = live.values.get(t.id) if live is not None else t.values
            elapsed = 0
            if live is not None and t.id in self._wall:
                elapsed = self._now_ns - live.read_ns.get(t.id, self._now_ns)
            cells += [
                Text(remaining_text(v, elapsed)),
                Text(formats.duration(v.interval_ns) if v else formats.NO_VALUE),
                Text(formats.count(v.overrun if v else None)),
            ]
        return [*cells, *fixed[2:]]


_Cells = tuple[tuple[Text, ...], tuple[Text, ...], tuple[Text, ...]]


def _timerfd_cells(t: TimerFd) -> _Cells:
    from timertui.capture.describe import timerfd_flags_text

    # A periodic timerfd that fired and waits to be read shows it_value 0 as a disarmed one
    # does: told apart by its ticks (CRIU restores it disarmed: #3162).
    if t.stalled_periodic:
        remaining = "unread"
    else:
        remaining = "disarmed" if t.remaining_ns == 0 else formats.duration(t.remaining_ns)
    note = f"ticks {t.ticks:,}" + (" · stalled (CRIU #3162)" if t.stalled_periodic else "")
    return (
        (Text(f"fd {t.fd}"), Text(decode_clock(t.clock).name)),
        (Text(remaining), Text(formats.duration(t.interval_ns)), Text(formats.NO_VALUE)),
        (Text(f"timerfd {timerfd_flags_text(t)}"), Text(note), Text(formats.NO_VALUE)),
    )


def _itimer_cells(t: IntervalTimer) -> _Cells:
    def text(seconds: int, micros: int) -> str:
        return formats.duration((seconds * USEC_PER_SEC + micros) * 1000)

    signal = signal_name(ITIMER_SIGNALS[t.which]) if 0 <= t.which < 3 else formats.NO_VALUE
    return (
        (
            Text(t.name),
            Text(("REAL", "VIRTUAL (CPU)", "PROF (CPU)")[t.which] if 0 <= t.which < 3 else "-"),
        ),
        (
            Text(text(t.value_s, t.value_us)),
            Text(text(t.interval_s, t.interval_us)),
            Text(formats.NO_VALUE),
        ),
        (Text("interval timer"), Text(signal), Text(formats.NO_VALUE)),
    )
