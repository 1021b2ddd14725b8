"""Gap analysis of one process's timer IDs, and the cost of CRIU's legacy create/delete walk.

The walk (CRIU's restorer without PR_TIMER_CREATE_RESTORE_IDS) restores timers in ID order; for
each it calls timer_create until the kernel hands out the wanted ID, deleting every other one.
The kernel's per-process allocator takes `counter & INT_MAX`, skips IDs in use, and increments
the counter on every attempt. So the walk from counter c visits c, c+1, ... in order: an ID at
or above c costs (id - position + 1) creates, and an ID below c is only reached by running the
counter past INT_MAX and back to 0. The timers restored so far all lie behind the counter, so
the walk never meets an ID in use and the cost has a closed form: O(number of timers).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from timertui.errors import InputError
from timertui.model import INT_MAX

# Eighths of a block, for the text gap map: any occupied bucket shows at least the lowest one.
_LEVELS = " ▁▂▃▄▅▆▇█"


class GapError(InputError):
    """IDs the analysis cannot take: out of range or duplicated."""


@dataclass(frozen=True)
class Gap:
    """A run of free IDs: start, start+1, ..., start+length-1."""

    start: int
    length: int

    @property
    def end(self) -> int:
        """The last free ID of the run."""
        return self.start + self.length - 1


@dataclass(frozen=True)
class WalkCost:
    """What the legacy walk costs from `start_counter` (the kernel counter's position)."""

    start_counter: int
    creates: int
    deletes: int
    wrap_needed: bool
    # Creates spent running the counter from start_counter past the largest ID back to 0;
    # zero without a wrap. With a wrap, the same IDs from counter 0 cost the difference.
    wrap_extra_creates: int
    # Where the counter stands after the walk: the next create would try this ID first.
    end_counter: int


@dataclass(frozen=True)
class GapReport:
    ids: tuple[int, ...]  # sorted
    gaps: tuple[Gap, ...]  # in ID order, the one before the first ID included
    largest_gap: Gap | None  # the first of the longest, None without gaps
    density: float  # timers / (max ID + 1); 0.0 without timers
    walk: WalkCost


def analyze(ids: Iterable[int], start_counter: int = 0, *, id_max: int = INT_MAX) -> GapReport:
    """Gaps, density and walk cost of one process's timer IDs.

    `id_max` is the largest ID the allocator hands out: INT_MAX on Linux; a smaller value
    models the same allocator in a small ID space (tests and demos can then reach the wrap).
    """
    ordered = _checked(ids, id_max)
    gaps = tuple(_gaps(ordered))
    largest = max(gaps, key=lambda g: g.length, default=None)
    density = len(ordered) / (ordered[-1] + 1) if ordered else 0.0
    return GapReport(ordered, gaps, largest, density, walk_cost(ordered, start_counter, id_max))


def walk_cost(sorted_ids: Sequence[int], start_counter: int = 0, id_max: int = INT_MAX) -> WalkCost:
    """The legacy walk's cost for IDs already sorted, unique and within 0..id_max."""
    space = id_max + 1
    position = start_counter % space  # the kernel masks the counter with INT_MAX
    if not sorted_ids:
        return WalkCost(position, 0, 0, False, 0, position)
    first, last = sorted_ids[0], sorted_ids[-1]
    wrap = first < position
    extra = space - position if wrap else 0
    creates = extra + last + 1 - (0 if wrap else position)
    return WalkCost(
        start_counter=position,
        creates=creates,
        deletes=creates - len(sorted_ids),
        wrap_needed=wrap,
        wrap_extra_creates=extra,
        end_counter=(last + 1) % space,
    )


def _checked(ids: Iterable[int], id_max: int) -> tuple[int, ...]:
    ordered = tuple(sorted(ids))
    for bad in ordered[:1] + ordered[-1:]:  # the smallest and the largest
        if not 0 <= bad <= id_max:
            raise GapError(f"timer ID {bad} outside 0..{id_max}")
    for prev, cur in itertools.pairwise(ordered):
        if prev == cur:
            raise GapError(f"duplicate timer ID {cur}")
    return ordered


def _gaps(ordered: tuple[int, ...]) -> Iterable[Gap]:
    expected = 0  # the first ID that would follow without a gap
    for tid in ordered:
        if tid > expected:
            yield Gap(expected, tid - expected)
        expected = tid + 1


def bucketize(ids: Iterable[int], width: int) -> list[int]:
    """Timers per bucket of `width` IDs, buckets covering 0..max ID ([] without IDs)."""
    if width < 1:
        raise ValueError(f"bucket width must be at least 1, got {width}")
    ordered = list(ids)
    if not ordered:
        return []
    counts = [0] * (max(ordered) // width + 1)
    for tid in ordered:
        counts[tid // width] += 1
    return counts


def bucket_width(max_id: int, columns: int) -> int:
    """The smallest bucket width that fits IDs 0..max_id into `columns` buckets."""
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    return max(1, -(-(max_id + 1) // columns))


def gap_map(ids: Sequence[int], columns: int = 64) -> str:
    """A one-line picture of IDs 0..max: each character a bucket, blank where every ID is free,
    a block whose height grows with the share of the bucket's IDs in use."""
    if not ids:
        return ""
    width = bucket_width(max(ids), columns)
    top = len(_LEVELS) - 1
    return "".join(
        _LEVELS[0] if count == 0 else _LEVELS[max(1, count * top // width)]
        for count in bucketize(ids, width)
    )
