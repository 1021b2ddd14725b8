"""Messages on a native worker's pipes: each one a length (8 bytes, native order), then its body.

The events are marshal'd plain values (wire.to_wire's maps). marshal is built into the
interpreter, where msgpack's import (~2.5 ms with the datetime module it loads) sat on every
restore's start, in the caller and again in the worker. Both ends run the same interpreter (a
fork, the same executable spawned, or the worker server forked from it), marshal's one
requirement; what the frames carry is still checked against the event schema (events.decode).
marshal is not hardened against crafted bytes (a 5-byte body may claim a list of 2**27 items)
and needs not be: like the plan's pipe (handover.py), this one is private between a process and
the worker it started.
"""

from __future__ import annotations

import marshal
import struct

from timertui.restore.wire import WireError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

LENGTH = struct.Struct("=Q")
# A length past this is a broken stream: the biggest events (a Verify listing 100,000 differing
# timers) are a few MB.
MAX_FRAME = 1 << 30
# The worker server's word on a worker it reaped, after the worker's last event: this mark where
# a length would be, then the wait status. A worker killed in the middle of a write leaves a torn
# frame before it, so the reader also finds it as the stream's last bytes (FrameReader.end).
_EXIT_MARK = LENGTH.pack(2**64 - 1)
_STATUS = struct.Struct("=i")
_EXIT_SIZE = len(_EXIT_MARK) + _STATUS.size


def framed(body: bytes) -> bytes:
    return LENGTH.pack(len(body)) + body


def event_frame(value: Any) -> bytes:
    """One event's frame: `value` is plain (dicts, lists, tuples, str, int, float, bytes, None)."""
    return framed(marshal.dumps(value))


def exit_word(status: int) -> bytes:
    """The worker server's word: `status` is the reaped worker's wait status."""
    return _EXIT_MARK + _STATUS.pack(status)


class FrameReader:
    """Event frames from a pipe read in pieces: feed() what came, iterate the values complete
    so far, end() at end of file. A frame that is not one (a length past MAX_FRAME, a body
    marshal refuses) raises WireError. The server's word, when it came, is `exit_status`."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._at = 0
        self._tail = b""  # the stream's last bytes, read or not
        self.exit_status: int | None = None

    def end(self) -> None:
        """End of file: a torn frame (its worker killed while writing) may have taken the
        server's word into its length or body. An event's frame never ends like the word: its
        last byte closes a marshal dict (b"0"), the word's is a wait status's high byte (0)."""
        tail = self._tail
        if self.exit_status is None and tail[: len(_EXIT_MARK)] == _EXIT_MARK:
            (self.exit_status,) = _STATUS.unpack_from(tail, len(_EXIT_MARK))

    def feed(self, data: bytes) -> None:
        if self._at:
            del self._buf[: self._at]
            self._at = 0
        self._buf += data
        self._tail = (self._tail + data[-_EXIT_SIZE:])[-_EXIT_SIZE:]

    def __iter__(self) -> FrameReader:
        return self

    def __next__(self) -> object:
        buf, at = self._buf, self._at
        body_at = at + LENGTH.size
        if len(buf) < body_at:
            raise StopIteration
        if buf[at:body_at] == _EXIT_MARK:
            if len(buf) < at + _EXIT_SIZE:
                raise StopIteration
            (self.exit_status,) = _STATUS.unpack_from(buf, body_at)
            self._at = at + _EXIT_SIZE
            raise StopIteration
        (size,) = LENGTH.unpack_from(buf, at)
        if size > MAX_FRAME:
            raise WireError(f"an event frame of {size} bytes")
        end = body_at + size
        if len(buf) < end:
            raise StopIteration
        self._at = end
        try:
            value: object = marshal.loads(buf[body_at:end])
        except (ValueError, EOFError, TypeError, MemoryError) as exc:
            raise WireError(f"an event frame that is not one: {exc}") from None
        return value
