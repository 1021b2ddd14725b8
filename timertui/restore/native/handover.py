"""What crosses the pipes between a caller and its restore worker besides the events (frames.py).

A plan reaches a worker that was not forked with it in hand (spawned, prestarted, or forked by
the worker server) as two messages on the control pipe, each after its length as 8 bytes and a
byte saying how it is encoded: (plan, its timer arrays), which can be made ahead (encode_plan),
then (options, t0_ns).

A big plan goes as a pickle (protocol 5): records pickle as their field dicts, rebuilt in C,
about 3x faster both ways than the generic wire encoding for 10,000 timers. A small one goes as
that wire encoding in marshal (built in): pickle's modules are ~1 ms of loading on each side,
which `timertui restore` pays at every start and the prestarted worker before it can begin. The
pipe is private between a process and the worker it started, so the worker decodes only what
its own caller sent.
"""

from __future__ import annotations

import marshal
import os

from timertui.restore.native.arrays import TimerArrays, timer_arrays
from timertui.restore.native.frames import LENGTH, framed
from timertui.restore.plan import RestorePlan, RunOptions
from timertui.restore.wire import from_wire, to_wire, write_all

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

_PICKLED, _MARSHALLED = b"P", b"M"
# Plans up to this many timers go in marshal: past it pickle's speed outweighs its loading.
MARSHAL_MAX_TIMERS = 200

# A Verify event on the events pipe with this key lists only the timers that differ: the reader,
# who holds the plan, adds the plan's other timers as equal before decoding it, so 10,000 equal
# timers cost the worker nothing to report.
DIFFERING_ONLY_KEY = "differing-only"


class CallerGone(Exception):
    """The control pipe ended before the whole plan came: the caller left."""


def encode_plan(plan: RestorePlan) -> bytes:
    """The plan and its timer arrays as send_plan writes them. Made ahead for the app (runner.
    prepare, when a restore screen opens), a start no longer holds the interpreter for the
    arrays and the pickle (~60 ms for 10,000 timers) while the screen should answer keys."""
    message = (plan, timer_arrays(plan))
    if len(plan.timers) > MARSHAL_MAX_TIMERS:
        return _pickled(message)
    return _marshalled(message)


def send_plan(fd: int, plan: bytes, options: RunOptions, t0_ns: int) -> None:
    """`plan` from encode_plan, then the run's options and start."""
    write_all(fd, plan + _marshalled((options, t0_ns)))


def receive_plan(fd: int) -> tuple[RestorePlan, TimerArrays, RunOptions, int]:
    """What send_plan sent; CallerGone at end of file, TypeError for anything else."""
    plan, arrays = _receive(fd, RestorePlan, TimerArrays)
    options, t0_ns = _receive(fd, RunOptions, int)
    if not (
        isinstance(plan, RestorePlan)
        and isinstance(arrays, TimerArrays)
        and isinstance(options, RunOptions)
    ):
        raise TypeError("the control pipe did not carry a restore plan")
    return plan, arrays, options, int(t0_ns)


def _pickled(message: tuple[object, object]) -> bytes:
    import _pickle  # only for big plans: see the module's doc

    return _framed(_PICKLED, _pickle.dumps(message, protocol=5))


def _marshalled(message: tuple[object, object]) -> bytes:
    return _framed(_MARSHALLED, marshal.dumps(to_wire(message)))


def _framed(how: bytes, data: bytes) -> bytes:
    return framed(how + data)


def _receive(fd: int, first: type, second: type) -> Any:
    """A pair of `first` and `second` (a record class or int) as _pickled or _marshalled
    framed it."""
    (size,) = LENGTH.unpack(_read_exactly(fd, LENGTH.size))
    data = _read_exactly(fd, size)
    how, body = bytes(data[:1]), memoryview(data)[1:]
    if how == _PICKLED:
        import _pickle

        return _pickle.loads(body)
    if how != _MARSHALLED:
        raise TypeError("the control pipe did not carry a restore plan")
    try:
        one, two = marshal.loads(body)
        return tuple(
            value if kind is int else from_wire(kind, value)
            for kind, value in ((first, one), (second, two))
        )
    except (ValueError, EOFError, TypeError) as exc:  # a WireError is a ValueError
        raise TypeError(f"the control pipe did not carry a restore plan: {exc}") from None


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
