"""A plan through the control pipe to a worker not forked with it (handover.py): a small plan in
marshal, a big one in pickle, both arriving equal; anything else is refused."""

from __future__ import annotations

import os
import threading
from array import array
from collections.abc import Callable

import pytest
from builders import HELPER, PID, armed, process, timer

from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import SIGEV_THREAD_ID
from timertui.restore.native import handover
from timertui.restore.native.arrays import timer_arrays
from timertui.restore.plan import RestorePlan, RunOptions, TargetSpec, build_plan


def _plan(count: int) -> RestorePlan:
    timers = [timer(i, values=armed(1000 + i, 5)) for i in range(1, count - 1)]
    timers += [
        timer(count - 1, notify=SIGEV_THREAD_ID, target=HELPER, values=armed(7)),
        timer(count, clock=make_cpu_clock(PID, CpuClockType.SCHED), values=None),
    ]
    return build_plan(process(timers, tids=(PID, HELPER)), target=TargetSpec(taken_ids=(0,)))


def _received(write: Callable[[int], object]) -> tuple[object, ...]:
    """receive_plan of what `write(fd)` writes, from a thread (a big plan overfills a pipe)."""
    r, w = os.pipe()

    def writer() -> None:
        try:
            write(w)
        finally:
            os.close(w)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        return handover.receive_plan(r)
    finally:
        thread.join()
        os.close(r)


@pytest.mark.parametrize(
    ("count", "how"), [(3, b"M"), (handover.MARSHAL_MAX_TIMERS + 1, b"P")], ids=["small", "big"]
)
def test_a_plan_arrives_as_it_was_sent(count: int, how: bytes) -> None:
    plan = _plan(count)
    encoded = handover.encode_plan(plan)
    assert encoded[8:9] == how  # after the length
    options = RunOptions(mode="walk", hold=True, chunk_ns=123)
    got, arrays, got_options, t0 = _received(
        lambda fd: handover.send_plan(fd, encoded, options, 42)
    )
    assert got == plan and got_options == options and t0 == 42
    assert isinstance(got, RestorePlan) and got.timers[-1].clock_remap is not None
    assert arrays == timer_arrays(plan)
    assert list(array("i", arrays.own)) == [count - 2, count - 1]


def test_an_early_end_or_a_foreign_message_is_refused() -> None:
    encoded = handover.encode_plan(_plan(3))
    with pytest.raises(handover.CallerGone):
        _received(lambda fd: os.write(fd, encoded[:-3]))
    foreign = len(b"X{}").to_bytes(8, "little") + b"X{}"
    with pytest.raises(TypeError, match="did not carry a restore plan"):
        _received(lambda fd: os.write(fd, foreign))
    with pytest.raises(TypeError, match="did not carry a restore plan"):
        # Well framed, but not a plan: options where the plan goes.
        _received(lambda fd: handover.send_plan(fd, b"", RunOptions(), 1))
