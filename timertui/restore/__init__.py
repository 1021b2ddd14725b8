"""Replaying the restore of a snapshot's timers: a plan (plan.py), one event schema (events.py)
and backends that run the plan and emit the events — `native` (a worker process on this kernel)
and `sim` (timertui.restore.sim, a model of a chosen kernel).

    plan = build_plan(process, facts=native.local_facts())
    for event in run(plan, mode="walk"):
        ...

Backends return an EventStream (stream.py): closing it, or `cancel()` from any thread, stops the
restore and leaves nothing running. With hold=True the stream goes on after `done` with
expirations until it is closed or cancelled (that is the release).
"""

from __future__ import annotations

import sys

from timertui.choices import BACKENDS, NATIVE, SIM, Mode, StartMethod
from timertui.errors import InputError
from timertui.restore.events import Event
from timertui.restore.plan import DEFAULT_CHUNK_NS, RestorePlan, RunOptions

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Generator
    from typing import Any

# Backend -> module with `start(plan, options, **backend_options)` returning the events.
_MODULES = {NATIVE: "timertui.restore.native.runner", SIM: "timertui.restore.sim.runner"}


class BackendError(InputError):
    """An unknown or unavailable restore backend."""


def run(
    plan: RestorePlan,
    backend: str = "native",
    mode: Mode = "auto",
    hold: bool = False,
    *,
    allow_wrap: bool = False,
    start: StartMethod = "auto",
    chunk_ns: int = DEFAULT_CHUNK_NS,
    **backend_options: Any,
) -> Generator[Event, None, None]:
    """The restore of `plan` as a stream of events. Closing the generator (or, for native, its
    thread-safe `cancel()`) stops the restore; nothing is left running."""
    if backend not in _MODULES:
        raise BackendError(f"unknown restore backend {backend!r} (have: {', '.join(BACKENDS)})")
    try:
        __import__(_MODULES[backend])  # not importlib: ~0.2 ms of a command's start
        module = sys.modules[_MODULES[backend]]
    except ModuleNotFoundError as exc:
        raise BackendError(f"restore backend {backend!r} is not available: {exc}") from None
    options = RunOptions(mode, hold, allow_wrap, chunk_ns, start)
    stream: Generator[Event, None, None] = module.start(plan, options, **backend_options)
    return stream
