"""The ID gap map: the ID space 0..highest ID laid out in cells, the timers marked, the gaps as
runs of free cells, and beside it the largest gap and what the legacy walk would cost.

In a restore the same map fills in: each timer's cell shows its state, and the free cells the walk
has already run through turn from `·` to `░`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from timertui import gaps
from timertui.tui import formats
from timertui.tui.widgets.style_cache import StyleCache
from timertui.words import counted

# When timers of several states share a cell, the cell shows the one that needs attention most.
_RANK = ("failed", "differs", "pending", "created", "armed", "verified")
_RANK_OF = {state: rank for rank, state in enumerate(_RANK)}
_PENDING = _RANK_OF["pending"]
_STATE_CELL = {
    "failed": (formats.MAP_FAILED, "gapmap--failed"),
    "differs": (formats.MAP_FAILED, "gapmap--failed"),
    "pending": (formats.MAP_PENDING, "gapmap--pending"),
    "created": (formats.MAP_TIMER, "gapmap--timer"),
    "armed": (formats.MAP_TIMER, "gapmap--timer"),
    "verified": (formats.MAP_TIMER, "gapmap--verified"),
}
_MIN_MAP_COLUMNS = 16


class _WorstStates:
    """The worst state in each cell of `width` IDs: counts of each state per cell, so a change
    of state costs a count up and a count down."""

    def __init__(self, ids: Iterable[int], states: Mapping[int, str]) -> None:
        # Made when a run starts, on the event loop: every timer pending but the few that are
        # not, and the cells counted from their totals (no call per timer).
        self._rank = dict.fromkeys(ids, _PENDING)
        self._counts: dict[int, list[int]] = {}
        self.width = 0
        self._early = [t for t, state in states.items() if state != "pending"]

    def rebin(self, width: int, totals: Sequence[int], states: Mapping[int, str]) -> None:
        """Count again for cells of `width` IDs holding `totals` timers each (the map was
        resized, or is drawn for the first time); the states stay known."""
        self.width = width
        self._counts = {}
        for bucket, total in enumerate(totals):
            if total:
                self._counts[bucket] = [total if r == _PENDING else 0 for r in range(len(_RANK))]
        for tid, rank in self._rank.items():
            if rank != _PENDING:
                counts = self._counts[tid // width]
                counts[_PENDING] -= 1
                counts[rank] += 1
        early, self._early = self._early, []
        self.update(states, early)

    def update(self, states: Mapping[int, str], changed: Iterable[int]) -> None:
        for tid in changed:
            old = self._rank.get(tid)
            new = _rank(states, tid)
            if old is not None and new != old:
                counts = self._counts[tid // self.width]
                counts[old] -= 1
                counts[new] += 1
                self._rank[tid] = new

    def cells(self) -> Iterator[tuple[int, int]]:
        """(cell, worst state's rank) for every cell holding timers."""
        for bucket, counts in self._counts.items():
            yield bucket, next(rank for rank, n in enumerate(counts) if n)


def _rank(states: Mapping[int, str], tid: int) -> int:
    return _RANK_OF.get(states.get(tid, "pending"), _PENDING)


class GapMap(StyleCache, Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "gapmap--timer",
        "gapmap--free",
        "gapmap--walked",
        "gapmap--pending",
        "gapmap--failed",
        "gapmap--verified",
        "gapmap--axis",
        "gapmap--note",
    }

    def __init__(self, *, stats: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stats = stats
        self.report: gaps.GapReport | None = None
        self.states: Mapping[int, str] | None = None
        self.walked = -1
        self._empty = "no timers"
        # The worst state per cell, kept up to date from the timers that changed: a walk
        # changes a few timers between redraws, ten a second, of up to 100,000.
        self._worst: _WorstStates | None = None
        self._changed: set[int] = set()
        self._strips: list[Strip] | None = None
        self._counts_key = (0, 0)  # (report, cell width) the timer counts per cell are for
        self._counts: list[int] = []
        self._strips_size = Size(0, 0)

    def show(
        self,
        report: gaps.GapReport | None,
        states: Mapping[int, str] | None = None,
        walked: int = -1,
        changed: Iterable[int] = (),
        *,
        empty: str = "no timers",
    ) -> None:
        """The IDs to draw; with `states` (timer ID -> restore state; `changed`, the timers
        whose state changed since the last call with the same mapping) and `walked` (the
        highest ID the walk has reached) the map shows a restore's progress. `empty` says why
        there is nothing to draw."""
        new_states = report is not self.report or states is not self.states
        if not new_states and walked == self.walked and empty == self._empty:
            changed = set(changed)
            if not changed:
                return  # the same picture: no redraw (a poll shows the same process again)
        if new_states:
            self._worst = None
        self.report, self.states, self.walked = report, states, walked
        if self._worst is not None:
            self._changed.update(changed)
        self._empty = empty
        self._strips = None  # drawn again at the next paint
        self.refresh()

    def notify_style_update(self) -> None:
        self._strips = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        # The Line API: a walk redraws the map ten times a second, and segments built here
        # cost a fraction of a Text that Textual would lay out again.
        if self._strips is None or self._strips_size != self.size:
            self._strips, self._strips_size = self._draw(), self.size
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _draw(self) -> list[Strip]:
        width_cells = self.size.width
        report = self.report
        if report is None or not report.ids:
            return [self._line([(self._empty, "gapmap--note")])]
        stat_lines = self._stat_lines(report) if self.stats else []
        rows = max(1, self.size.height - len(stat_lines))
        max_id = report.ids[-1]
        axis = len(f"{max_id:,}")
        if width_cells - axis - 1 < _MIN_MAP_COLUMNS:
            axis = 0
        columns = max(1, width_cells - (axis + 1 if axis else 0))
        width = gaps.bucket_width(max_id, columns * rows)
        cells = self._cells(report, width)
        strips = []
        for row in range(rows):
            start = row * columns
            if start >= len(cells):
                break
            parts = [(f"{start * width:>{axis},}│", "gapmap--axis")] if axis else []
            # Runs of equal cells go in as one segment.
            parts += [
                (char * len(list(run)), style)
                for (char, style), run in itertools.groupby(cells[start : start + columns])
            ]
            strips.append(self._line(parts))
        strips += [self._line([(line, "gapmap--note")]) for line in stat_lines]
        return strips

    def _line(self, parts: list[tuple[str, str]]) -> Strip:
        """One screen line of (text, component class) parts, cut or padded to the width."""
        base = self.rich_style
        segments = [Segment(text, base + self._style(style)) for text, style in parts]
        return Strip(segments).crop_extend(0, self.size.width, base)

    def _cells(self, report: gaps.GapReport, width: int) -> list[tuple[str, str]]:
        if self._counts_key != (id(report), width):
            self._counts_key, self._counts = (id(report), width), gaps.bucketize(report.ids, width)
        counts = self._counts
        cells: list[tuple[str, str]] = []
        for index, used in enumerate(counts):
            if used:
                cells.append((formats.MAP_TIMER, "gapmap--timer"))
            elif index * width <= self.walked:
                cells.append((formats.MAP_WALKED, "gapmap--walked"))
            else:
                cells.append((formats.MAP_FREE, "gapmap--free"))
        if self.states is not None:
            worst = self._worst
            if worst is None:
                worst = self._worst = _WorstStates(report.ids, self.states)
            if worst.width != width:
                worst.rebin(width, counts, self.states)
            worst.update(self.states, self._changed)
            self._changed = set()
            for bucket, rank in worst.cells():
                cells[bucket] = _STATE_CELL[_RANK[rank]]
        return cells

    def _stat_lines(self, report: gaps.GapReport) -> list[str]:
        first, last = report.ids[0], report.ids[-1]
        largest = report.largest_gap
        return [
            f"IDs {first:,}..{last:,} · {counted(len(report.ids), 'timer')} · "
            f"{counted(len(report.gaps), 'gap')}",
            "no gaps: dense from 0"
            if largest is None
            else f"largest gap {largest.length:,} ({largest.start:,}..{largest.end:,})",
            f"legacy walk: {report.walk.creates:,} creates",
            f"exact IDs: {len(report.ids):,} creates",
        ]
