"""A plan's timers as flat arrays, the form the native worker's C loops take.

The caller makes them before it forks the worker or sends it the plan. After a fork the first
touch of each Python object copies its page (reference counts are writes), so a worker that
walked 10,000 planned timers to build its arrays paid ~30 ms of page copies inside the restore;
reading a few bytes objects costs it nothing.
"""

from __future__ import annotations

import struct
from array import array
from operator import attrgetter

from timertui.records import record
from timertui.restore.plan import PlannedTimer, RestorePlan

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SPEC = struct.Struct("=5i4xQ")  # struct tt_spec, timertui/_native/timers.h


@record
class ValueArrays:
    """Some timers of a plan — their indices in it, IDs, remaining times and intervals (0 and 0
    for a timer not armed: what it should read back) — as native int[] / long long[] bytes."""

    indices: bytes
    ids: bytes
    values: bytes
    intervals: bytes

    @property
    def count(self) -> int:
        return len(self.indices) // 4


@record
class TimerArrays:
    """`specs`: struct tt_spec[] as planned; the timers at `own` name the target's own pid or
    threads (a remapped CPU clock, a SIGEV_THREAD_ID thread), which only the worker knows, and
    it fills them in. `ids`: the wanted IDs as int[]. `valued`: the timers with captured values
    (verify reads them back); `armed`: those armed. `signal_mask`: the plan's, which takes a
    pass over the timers too."""

    specs: bytes
    own: bytes
    ids: bytes
    valued: ValueArrays
    armed: ValueArrays
    signal_mask: int


def timer_arrays(plan: RestorePlan) -> TimerArrays:
    """The arrays of `plan`; its cached `ids`, which the worker slices, are made here too."""
    timers = plan.timers
    ids = list(plan.ids)
    clocks, notify, signo, sigval = (list(map(attrgetter(f), timers)) for f in _FIELDS)
    specs = b"".join(map(SPEC.pack, ids, clocks, notify, signo, _zeros(len(timers)), sigval))
    own = [i for i, t in enumerate(timers) if t.clock_remap is not None or t.thread is not None]
    return TimerArrays(
        specs,
        array("i", own).tobytes(),
        array("i", ids).tobytes(),
        value_arrays(timers, lambda t: t.source.values is not None),
        value_arrays(timers, attrgetter("arm")),
        plan.signal_mask,
    )


_FIELDS = ("clock", "notify", "signo", "sigval")


def _zeros(n: int) -> list[int]:
    return [0] * n


def value_arrays(
    timers: Sequence[PlannedTimer], which: Callable[[PlannedTimer], object]
) -> ValueArrays:
    """The arrays of the timers `which` picks."""
    indices = [i for i, t in enumerate(timers) if which(t)]
    chosen = timers if len(indices) == len(timers) else [timers[i] for i in indices]
    return ValueArrays(
        array("i", indices).tobytes(),
        array("i", map(attrgetter("id"), chosen)).tobytes(),
        array("q", [t.value_ns if t.arm else 0 for t in chosen]).tobytes(),
        array("q", [t.interval_ns if t.arm else 0 for t in chosen]).tobytes(),
    )


def subset(arrays: ValueArrays, keep: Callable[[int], bool]) -> ValueArrays:
    """The timers of `arrays` whose plan index `keep` accepts."""
    columns = [array("i", arrays.indices), array("i", arrays.ids)]
    columns += [array("q", arrays.values), array("q", arrays.intervals)]
    picked = [k for k, i in enumerate(columns[0]) if keep(i)]
    return ValueArrays(
        *(array(column.typecode, [column[k] for k in picked]).tobytes() for column in columns)
    )
