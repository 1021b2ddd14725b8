"""Deep capture on another host: `timertui deep-values`, which the agent runs there (its
remote/agent/deep.py) and talks to in the agent's frames, answers each request {"pid", "ids",
"itimers"} with the capture as plain values; the DeepCapture is rebuilt here from them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, BinaryIO

from timertui.capture.inject import CaptureRefused, DeepCapture, DeepCaptureError, capture_values
from timertui.errors import InputError
from timertui.model import IntervalTimer, TimerValues
from timertui.remote.agent import wire

_REFUSALS = {r.name: r for r in CaptureRefused}


def serve(stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer requests until end of input (the agent closed it); InputError for bytes that
    are no frame (nothing after them can be trusted)."""
    while True:
        try:
            request = wire.read_frame(stdin)
        except EOFError:
            return 0
        except wire.WireError as exc:
            raise InputError(f"deep-values: not a request frame on stdin ({exc})") from None
        stdout.write(wire.frame(answer(request)))
        stdout.flush()


def answer(request: Any) -> dict[str, Any]:
    try:
        pid, ids, itimers = request["pid"], request["ids"], bool(request["itimers"])
        capture = capture_values(pid, ids, itimers=itimers)
    except (DeepCaptureError, KeyError, TypeError) as exc:
        return {"error": f"bad deep capture request: {exc}", "kind": "bad-request"}
    return {"ok": to_wire(capture)}


def to_wire(c: DeepCapture) -> dict[str, Any]:
    import time

    return {
        "pid": c.pid,
        "values": {i: [v.remaining_ns, v.interval_ns, v.overrun] for i, v in c.values.items()},
        "errors": dict(c.errors),
        "read_ns": dict(c.read_ns),
        "tid": c.tid,
        "stopped_ns": c.stopped_ns,
        "stops": c.stops,
        "signals": c.signals,
        "refused": None if c.refused is None else c.refused.name,
        "detail": c.detail,
        "note": c.note,
        "itimers": None
        if c.itimers is None
        else [[t.which, t.value_s, t.value_us, t.interval_s, t.interval_us] for t in c.itimers],
        "itimer_errors": dict(c.itimer_errors),
        "now_ns": time.monotonic_ns(),  # so the reader can move read_ns onto its own clock
    }


def from_wire(value: Any, now_ns: int) -> DeepCapture:
    """The capture `value` (to_wire's) holds, its read_ns moved onto this host's monotonic
    clock as though the reply arrived at `now_ns` (so a remaining time counts down from the
    read, late by the reply's travel only). ValueError, KeyError or TypeError when malformed."""
    shift = now_ns - _int(value["now_ns"])
    refused = value["refused"]
    itimers = value["itimers"]
    return DeepCapture(
        _int(value["pid"]),
        _ints(value["values"], lambda v: TimerValues(*(_int(x) for x in _three(v)))),
        _ints(value["errors"], _int),
        _ints(value["read_ns"], lambda ns: _int(ns) + shift),
        tid=None if value["tid"] is None else _int(value["tid"]),
        stopped_ns=_int(value["stopped_ns"]),
        stops=_int(value["stops"]),
        signals=_int(value["signals"]),
        # A refusal this timertui does not know (a newer one there) is still a refusal.
        refused=None if refused is None else _REFUSALS.get(refused, CaptureRefused.FAILED),
        detail=str(value["detail"]),
        note=str(value["note"]),
        itimers=None
        if itimers is None
        else tuple(IntervalTimer(*(_int(x) for x in t)) for t in itimers),
        itimer_errors=_ints(value["itimer_errors"], _int),
    )


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"{value!r} is not an integer")
    return value


def _three(value: Any) -> list[Any]:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"{value!r} is not three values")
    return value


def _ints(value: Any, item: Any) -> Mapping[int, Any]:
    """A map keyed by integers, each value through `item`, read-only."""
    if not isinstance(value, dict):
        raise TypeError(f"{str(value)[:60]!r} is not a map")
    return MappingProxyType({_int(k): item(v) for k, v in value.items()})
