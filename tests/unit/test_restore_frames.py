"""The worker's event frames (frames.py): values back equal however the pipe splits them, the
worker server's word found in the stream and behind a torn frame, anything else refused with
WireError alone."""

from __future__ import annotations

import contextlib
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from timertui.restore import events as ev
from timertui.restore.native.frames import LENGTH, FrameReader, event_frame, exit_word
from timertui.restore.wire import WireError

EVENTS = [
    ev.encode(ev.Phase(5, "create", 1_000)),
    ev.encode(ev.Verify(9, (), tuple(range(10_000)))),
    {"kind": "x", "nested": [(1, "a", None, 2.5, b"\x00")], 7: -(2**70)},
]
STREAM = b"".join(event_frame(e) for e in EVENTS)


def _read(chunks: list[bytes]) -> tuple[list[object], FrameReader]:
    reader = FrameReader()
    values: list[object] = []
    for chunk in chunks:
        reader.feed(chunk)
        values += list(reader)
    reader.end()
    return values, reader


@given(st.lists(st.integers(0, len(STREAM)), max_size=8))
def test_values_come_back_equal_however_the_pipe_splits_them(cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(edges)]
    values, reader = _read([*chunks, exit_word(9)])
    # marshal keeps tuples; the decoders take lists and tuples alike
    assert [ev.decode(v) for v in values[:2]] == [ev.decode(e) for e in EVENTS[:2]]
    assert values[2] == EVENTS[2]
    assert reader.exit_status == 9


@given(st.integers(1, len(event_frame(EVENTS[1])) - 1))
def test_the_servers_word_behind_a_torn_frame_is_found_at_the_end(cut: int) -> None:
    """A worker killed in the middle of a write: its frame ends at `cut`, anywhere (inside the
    length too), and the server writes its word after it."""
    torn = event_frame(EVENTS[0]) + event_frame(EVENTS[1])[:cut] + exit_word(137)
    reader = FrameReader()
    reader.feed(torn)
    values = []
    try:
        for value in reader:
            values.append(value)
    except WireError:
        pass  # a torn length claims more than a frame may: the end still tells
    assert values == [EVENTS[0]]
    assert reader.exit_status is None
    reader.end()
    assert reader.exit_status == 137


def test_a_stream_without_the_servers_word_has_no_exit_status() -> None:
    values, reader = _read([STREAM[:-3]])
    assert len(values) == 2 and reader.exit_status is None


def test_frames_that_are_not_frames_are_refused() -> None:
    for data in (
        LENGTH.pack(2**40) + b"x",  # a length past MAX_FRAME
        LENGTH.pack(3) + b"\xff\x00\x00",  # a body marshal refuses
        LENGTH.pack(1) + b"i",  # an int cut short inside a whole frame
    ):
        reader = FrameReader()
        reader.feed(data)
        try:
            list(reader)
        except WireError as exc:
            assert "frame" in str(exc)
        else:
            raise AssertionError(f"{data!r} was read")


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(STREAM) - 1), st.integers(0, 255), st.integers(1, len(STREAM)))
def test_a_damaged_stream_gives_values_or_wire_error(at: int, byte: int, cut: int) -> None:
    """A byte changed anywhere, the stream cut anywhere: values, or WireError, nothing else
    (a count claiming millions of items costs marshal an allocation, not a crash)."""
    damaged = bytearray(STREAM[:cut])
    if at < cut:
        damaged[at] = byte
    reader = FrameReader()
    reader.feed(bytes(damaged))
    with contextlib.suppress(WireError):
        list(reader)
    reader.end()
