"""The ID gap map: the ID space 0..highest ID laid out in cells, the timers marked, the gaps as
runs of free cells, and beside it the largest gap and what the legacy walk would cost.

In a restore the same map fills in: each timer's cell shows its state, and the free cells the walk
has already run through turn from `·` to `░`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
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
_STATE_CELL = {
    "failed": (look.MAP_FAILED, "gapmap--failed"),
    "differs": (look.MAP_FAILED, "gapmap--failed"),
    "pending": (look.MAP_PENDING, "gapmap--pending"),
    "created": (look.MAP_TIMER, "gapmap--timer"),
    "armed": (look.MAP_TIMER, "gapmap--timer"),
    "verified": (look.MAP_TIMER, "gapmap--verified"),
}
_MIN_MAP_COLUMNS = 16


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
        self._version = 0
        self._empty = "no timers"
        # The worst state per cell, kept while the states and the cell width stay the same: a
        # walk redraws ten times a second, and 100,000 timers take a while to go through.
        self._worst_key: tuple[int, int, int, int] | None = None
        self._worst: dict[int, int] = {}

    def show(
        self,
        report: gaps.GapReport | None,
        states: Mapping[int, str] | None = None,
        walked: int = -1,
        version: int = 0,
        *,
        empty: str = "no timers",
    ) -> None:
        """The IDs to draw; with `states` (timer ID -> restore state, `version` counting its
        changes) and `walked` (the highest ID the walk has reached) the map shows a restore's
        progress. `empty` says why there is nothing to draw."""
        self.report, self.states, self.walked = report, states, walked
        self._empty = empty
        self._version = version
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
            for bucket, rank in self._worst_states(report, self.states, width).items():
                cells[bucket] = _STATE_CELL[_RANK[rank]]
        return cells

    def _worst_states(
        self, report: gaps.GapReport, states: Mapping[int, str], width: int
    ) -> dict[int, int]:
        key = (id(report), id(states), self._version, width)
        if key != self._worst_key:
            worst: dict[int, int] = {}
            pending = _RANK_OF["pending"]
            for tid in report.ids:
                rank = _RANK_OF.get(states.get(tid, "pending"), pending)
                bucket = tid // width
                if rank < worst.get(bucket, len(_RANK)):
                    worst[bucket] = rank
            self._worst_key, self._worst = key, worst
        return self._worst

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
