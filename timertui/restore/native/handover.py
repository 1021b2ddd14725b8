"""What crosses the pipes between a caller and its restore worker besides the events themselves.

A plan reaches a worker that was not forked with it in hand (spawned, prestarted, or forked by
the worker server) as two pickles (protocol 5) on the control pipe, each after its length as 8
bytes: (plan, its timer arrays), which can be made ahead (encode_plan), then (options, t0_ns).

Pickle, not the generic wire encoding: records pickle as their field dicts, rebuilt in C, about
3x faster both ways for 10,000 timers. The pipe is private between a process and the worker it
started, so the worker unpickles only what its own caller sent.
"""

from __future__ import annotations

import _pickle
import os
import struct

from timertui.restore.native.arrays import TimerArrays, timer_arrays
from timertui.restore.plan import RestorePlan, RunOptions
from timertui.restore.wire import write_all

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

_LENGTH = struct.Struct("=Q")

# Keys of the events pipe that the reader, who holds the plan, resolves before decoding:
# a Verify event with DIFFERING_ONLY_KEY lists only the timers that differ (the plan's other
# timers are equal), so 10,000 equal timers cost the worker nothing to report;
DIFFERING_ONLY_KEY = "differing-only"
# and {EXIT_KEY: wait status} is the worker server's word, after the worker's last event, on
# how it ended (server.py).
EXIT_KEY = "worker-exit"


class CallerGone(Exception):
    """The control pipe ended before the whole plan came: the caller left."""


def encode_plan(plan: RestorePlan) -> bytes:
    """The plan and its timer arrays as send_plan writes them. Made ahead for the app (runner.
    prepare, when a restore screen opens), a start no longer holds the interpreter for the
    arrays and the pickle (~60 ms for 10,000 timers) while the screen should answer keys."""
    return _frame((plan, timer_arrays(plan)))


def send_plan(fd: int, plan: bytes, options: RunOptions, t0_ns: int) -> None:
    """`plan` from encode_plan, then the run's options and start."""
    write_all(fd, plan + _frame((options, t0_ns)))


def receive_plan(fd: int) -> tuple[RestorePlan, TimerArrays, RunOptions, int]:
    """What send_plan sent; CallerGone at end of file."""
    plan, arrays = _receive(fd)
    options, t0_ns = _receive(fd)
    if not (
        isinstance(plan, RestorePlan)
        and isinstance(arrays, TimerArrays)
        and isinstance(options, RunOptions)
    ):
        raise TypeError("the control pipe did not carry a restore plan")
    return plan, arrays, options, int(t0_ns)


def _frame(message: object) -> bytes:
    data = _pickle.dumps(message, protocol=5)
    return _LENGTH.pack(len(data)) + data


def _receive(fd: int) -> Any:
    (size,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))
    return _pickle.loads(_read_exactly(fd, size))


def _read_exactly(fd: int, size: int) -> bytearray:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if not n:
            raise CallerGone
        got += n
    return buf
