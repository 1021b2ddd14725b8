"""Markers and number formats shared by the screens. Every state is shown as text or a marker as
well as a colour, so the app reads the same under NO_COLOR and on a monochrome terminal."""

from __future__ import annotations

from timertui.model import ProcessTimers
from timertui.words import counted, duration_text

MARKED = "●"
GONE = "✕"
NO_VALUE = "-"

# Timer states in a restore, in the order a timer moves through them.
STATE_MARKERS: dict[str, str] = {
    "pending": "·",
    "created": "+",
    "armed": "▶",
    "verified": "✓",
    "differs": "≠",
    "failed": "✗",
}

# The gap map's cells.
MAP_FREE = "·"
MAP_WALKED = "░"
MAP_TIMER = "█"
MAP_PENDING = "▒"
MAP_FAILED = "✗"


def count(value: int | None) -> str:
    return NO_VALUE if value is None else f"{value:,}"


def duration(ns: int | None) -> str:
    if ns is None or ns < 0:
        return NO_VALUE
    return duration_text(ns)


def rate(per_second: float) -> str:
    if per_second >= 1_000_000:
        return f"{per_second / 1_000_000:.2f} M/s"
    if per_second >= 1_000:
        return f"{per_second / 1_000:.1f} k/s"
    return f"{per_second:.0f}/s"


def timers_text(process: ProcessTimers, with_ids: bool = False) -> str:
    """What a process holds: "12 timers", with its other kinds when it has some ("0 timers,
    1 timerfd, 1 interval timer"); `with_ids`: " · IDs up to 2,000,000" too, when it has
    POSIX timers."""
    parts = [counted(len(process.timers), "timer")]
    if process.timerfds:
        parts.append(counted(len(process.timerfds), "timerfd"))
    armed = sum(t.armed for t in process.itimers or ())
    if armed:
        parts.append(counted(armed, "interval timer"))
    text = ", ".join(parts)
    if with_ids and process.timers:
        text += f" · IDs up to {max(t.id for t in process.timers):,}"
    return text
