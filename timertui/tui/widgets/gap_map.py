"""The ID gap map: the ID space 0..highest ID laid out in cells, the timers marked, the gaps as
runs of free cells, and beside it the largest gap and what the legacy walk would cost.

In a restore the same map fills in: each timer's cell shows its state, and the free cells the walk
has already run through turn from `·` to `░`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from timertui import gaps
from timertui.tui import look
from timertui.tui.widgets.style_cache import StyleCache
from timertui.words import counted

# When timers of several states share a cell, the cell shows the one that needs attention most.
_RANK = ("failed", "differs", "pending", "created", "armed", "verified")
_RANK_OF = {state: rank for rank, state in enumerate(_RANK)}
_PENDING = _RANK_OF["pending"]
_STATE_CELL = {
    "failed": (look.MAP_FAILED, "gapmap--failed"),
    "differs": (look.MAP_FAILED, "gapmap--failed"),
    "pending": (look.MAP_PENDING, "gapmap--pending"),
    "created": (look.MAP_TIMER, "gapmap--timer"),
    "armed": (look.MAP_TIMER, "gapmap--timer"),
    "verified": (look.MAP_TIMER, "gapmap--verified"),
}
_MIN_MAP_COLUMNS = 16


class _WorstStates:
    """The worst state in each cell of `width` IDs: counts of each state per cell, so a change
    of state costs a count up and a count down."""

    def __init__(self, ids: Iterable[int], states: Mapping[int, str], width: int) -> None:
        self.width = width
        self._rank = {tid: _rank(states, tid) for tid in ids}
        self._counts: dict[int, list[int]] = {}
        for tid, rank in self._rank.items():
            self._counts.setdefault(tid // width, [0] * len(_RANK))[rank] += 1

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
        if report is not self.report or states is not self.states:
            self._worst = None
        self.report, self.states, self.walked = report, states, walked
        if self._worst is not None:
            self._changed.update(changed)
        self._empty = empty
        self.refresh()

    def render(self) -> Text:
        report = self.report
        if report is None or not report.ids:
            return Text(self._empty, style=self._style("gapmap--note"))
        stat_lines = self._stat_lines(report) if self.stats else []
        rows = max(1, self.size.height - len(stat_lines))
        max_id = report.ids[-1]
        axis = len(f"{max_id:,}")
        if self.size.width - axis - 1 < _MIN_MAP_COLUMNS:
            axis = 0
        columns = max(1, self.size.width - (axis + 1 if axis else 0))
        width = gaps.bucket_width(max_id, columns * rows)
        cells = self._cells(report, width)
        out = Text(no_wrap=True, overflow="crop")
        for row in range(rows):
            start = row * columns
            if start >= len(cells):
                break
            if row:
                out.append("\n")
            if axis:
                out.append(f"{start * width:>{axis},}│", style=self._style("gapmap--axis"))
            # Runs of equal cells go in as one span: a walk redraws this map ten times a second.
            for (char, style), run in itertools.groupby(cells[start : start + columns]):
                out.append(char * len(list(run)), style=self._style(style))
        for line in stat_lines:
            out.append("\n")
            out.append_text(line)
        return out

    def _cells(self, report: gaps.GapReport, width: int) -> list[tuple[str, str]]:
        counts = gaps.bucketize(report.ids, width)
        cells: list[tuple[str, str]] = []
        for index, used in enumerate(counts):
            if used:
                cells.append((look.MAP_TIMER, "gapmap--timer"))
            elif index * width <= self.walked:
                cells.append((look.MAP_WALKED, "gapmap--walked"))
            else:
                cells.append((look.MAP_FREE, "gapmap--free"))
        if self.states is not None:
            worst = self._worst
            if worst is None or worst.width != width:
                worst = self._worst = _WorstStates(report.ids, self.states, width)
            else:
                worst.update(self.states, self._changed)
            self._changed = set()
            for bucket, rank in worst.cells():
                cells[bucket] = _STATE_CELL[_RANK[rank]]
        return cells

    def _stat_lines(self, report: gaps.GapReport) -> list[Text]:
        note = self._style("gapmap--note")
        first, last = report.ids[0], report.ids[-1]
        largest = report.largest_gap
        lines = [
            f"IDs {first:,}..{last:,} · {counted(len(report.ids), 'timer')} · "
            f"{counted(len(report.gaps), 'gap')}",
            "no gaps: dense from 0"
            if largest is None
            else f"largest gap {largest.length:,} ({largest.start:,}..{largest.end:,})",
            f"legacy walk: {report.walk.creates:,} creates",
            f"exact IDs: {len(report.ids):,} creates",
        ]
        return [Text(line, style=note) for line in lines]
