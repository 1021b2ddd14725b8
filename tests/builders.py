"""Records for tests: timers, processes and armed values of a made-up process, and the events
a restore run gives, picked out by kind. Imported by test modules; never a test module itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from timertui.model import SIGEV_SIGNAL, ProcessTimers, Timer, TimerValues
from timertui.restore import events as ev

PID = 4000
HELPER = 4001
SIGRTMIN = 34
MS = 1_000_000
ONE_SHOT = TimerValues(60_000 * MS, 0, 0)


def timer(
    timer_id: int,
    *,
    clock: int = 1,
    notify: int = SIGEV_SIGNAL,
    target: int = PID,
    signo: int = SIGRTMIN,
    values: TimerValues | None = ONE_SHOT,
) -> Timer:
    return Timer(timer_id, clock, notify, target, signo, 0xC0FFEE00 + timer_id, values)


def process(timers: Iterable[Timer], tids: tuple[int, ...] = (PID,)) -> ProcessTimers:
    return ProcessTimers(PID, 1, "demo", ("demo",), 0, "root", "S", tids, tuple(timers))


def armed(remaining_ms: int, interval_ms: int = 0) -> TimerValues:
    return TimerValues(remaining_ms * MS, interval_ms * MS, 0)


E = TypeVar("E", bound=ev.Event)


def of(kind: type[E], events: Iterable[ev.Event]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def done(events: list[ev.Event]) -> ev.Done:
    (last,) = of(ev.Done, events)
    return last


def decision(events: list[ev.Event], code: str) -> ev.Decision:
    found = [d for d in of(ev.Decision, events) if d.code == code]
    assert found, f"no {code} decision in {[d.code for d in of(ev.Decision, events)]}"
    return found[0]
