"""`--deep` for `show` and `snapshot`: each timer's armed state read from inside the process."""

from __future__ import annotations

import dataclasses

from timertui.capture.inject import capture_values
from timertui.model import Access, ProcessTimers


def attach_values(proc: ProcessTimers) -> tuple[ProcessTimers, str | None]:
    """`proc` with Timer.values filled by a deep capture, and the refusal reason when there was
    one (then `proc` comes back as it was). A timer deleted since `proc` was read keeps None."""
    if proc.access is not Access.OK:
        # The timers are unknown, but the capture's own checks name why we may not look.
        refusal = capture_values(proc.pid)
        return proc, refusal.reason if refusal.refused is not None else proc.access.value
    if not proc.timers:
        return proc, None
    capture = capture_values(proc.pid, [t.id for t in proc.timers])
    if capture.refused is not None:
        return proc, capture.reason
    timers = tuple(dataclasses.replace(t, values=capture.values.get(t.id)) for t in proc.timers)
    return dataclasses.replace(proc, timers=timers), None
