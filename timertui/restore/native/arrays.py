"""A plan's timers as flat arrays, the form the native worker's C loops take.

The caller makes them before it forks the worker or sends it the plan. After a fork the first
touch of each Python object copies its page (reference counts are writes), so a worker that
walked 10,000 planned timers to build its arrays paid ~30 ms of page copies inside the restore;
reading a few bytes objects costs it nothing.
"""

from __future__ import annotations

import struct
from array import array

from timertui.model import Timer
from timertui.records import column, columns, record
from timertui.restore.plan import PlannedTimer, RestorePlan

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

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
    """The arrays of `plan`, from its timers' columns (records.columns); its cached `ids`
    (which the worker slices) and `valued` are made here too."""
    timers, n = plan.timers, len(plan.timers)
    ids, clocks, notify, signo, sigval, thread, remap, value, interval, arm, source = columns(
        PlannedTimer, timers
    )
    specs = b"".join(map(SPEC.pack, ids, clocks, notify, signo, _zeros(n), sigval))
    own: list[int] = []
    if thread.count(None) != n or remap.count(None) != n:
        own = _where(th is not None or re is not None for th, re in zip(thread, remap, strict=True))
    # What each timer should read back: its value if armed, else 0 and 0.
    if arm.count(True) != n:
        value = tuple(v if a else 0 for v, a in zip(value, arm, strict=True))
        interval = tuple(v if a else 0 for v, a in zip(interval, arm, strict=True))
    captured = column(Timer, source, "values")
    # By type: `None in captured` would call each record's __eq__.
    every_valued = _NONE not in set(map(type, captured))
    valued = range(n) if every_valued else _where(v is not None for v in captured)
    armed = range(n) if arm.count(True) == n else _where(arm)
    plan.ids, plan.valued  # noqa: B018 - cached now, before a fork
    valued_arrays = _value_arrays(valued, ids, value, interval)
    return TimerArrays(
        specs,
        array("i", own).tobytes(),
        array("i", ids).tobytes(),
        valued_arrays,
        # Mostly every valued timer is armed: the same arrays.
        valued_arrays if armed == valued else _value_arrays(armed, ids, value, interval),
        plan.signal_mask,
    )


_NONE = type(None)


def _zeros(n: int) -> list[int]:
    return [0] * n


def _where(flags: Iterable[object]) -> list[int]:
    return [i for i, flag in enumerate(flags) if flag]


def _value_arrays(indices: range | list[int], *column_values: Sequence[int]) -> ValueArrays:
    """The arrays of the timers at `indices`, from the IDs, values and intervals columns."""
    ids, values, intervals = (
        column if len(indices) == len(column) else [column[i] for i in indices]
        for column in column_values
    )
    return ValueArrays(
        array("i", indices).tobytes(),
        array("i", ids).tobytes(),
        array("q", values).tobytes(),
        array("q", intervals).tobytes(),
    )


def subset(arrays: ValueArrays, keep: Callable[[int], bool]) -> ValueArrays:
    """The timers of `arrays` whose plan index `keep` accepts."""
    columns = [array("i", arrays.indices), array("i", arrays.ids)]
    columns += [array("q", arrays.values), array("q", arrays.intervals)]
    picked = [k for k, i in enumerate(columns[0]) if keep(i)]
    return ValueArrays(
        *(array(column.typecode, [column[k] for k in picked]).tobytes() for column in columns)
    )
