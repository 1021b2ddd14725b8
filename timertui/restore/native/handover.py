"""What crosses the pipes between a caller and its restore worker besides the events themselves.

A plan reaches a worker that was not forked with it in hand (spawned, prestarted, or forked by
the worker server) as one pickle (protocol 5) of (plan, its timer arrays, options, t0_ns) on the
control pipe, after its length as 8 bytes.

Pickle, not the generic wire encoding: records pickle as their field dicts, rebuilt in C, about
3x faster both ways for 10,000 timers. The pipe is private between a process and the worker it
started, so the worker unpickles only what its own caller sent.
"""

from __future__ import annotations

import _pickle
import os
import struct

from timertui.restore.native.arrays import TimerArrays
from timertui.restore.plan import RestorePlan, RunOptions
from timertui.restore.wire import write_all

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


def send_plan(
    fd: int, plan: RestorePlan, arrays: TimerArrays, options: RunOptions, t0_ns: int
) -> None:
    data = _pickle.dumps((plan, arrays, options, t0_ns), protocol=5)
    write_all(fd, _LENGTH.pack(len(data)) + data)


def receive_plan(fd: int) -> tuple[RestorePlan, TimerArrays, RunOptions, int]:
    """What send_plan sent; CallerGone at end of file."""
    (size,) = _LENGTH.unpack(_read_exactly(fd, _LENGTH.size))
    plan, arrays, options, t0_ns = _pickle.loads(_read_exactly(fd, size))
    if not (
        isinstance(plan, RestorePlan)
        and isinstance(arrays, TimerArrays)
        and isinstance(options, RunOptions)
    ):
        raise TypeError("the control pipe did not carry a restore plan")
    return plan, arrays, options, int(t0_ns)


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
