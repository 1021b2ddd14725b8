"""How the app verifies one process of an opened checkpoint against a live process: the engine
(timertui.verify) as a generator of Reports that the verify screen's thread worker drains;
tests give the app a script of Reports instead."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Protocol

from timertui.model import ProcessTimers, Snapshot
from timertui.verify.findings import Report


class Verifier(Protocol):
    def __call__(
        self,
        snapshot: Snapshot,
        process: ProcessTimers,
        live_pid: int,
        sleep: Callable[[float], object],
    ) -> Generator[Report, None, None]:
        """Reports on `process` of `snapshot` against live process `live_pid`, the last one
        `done`, waiting between the watch's looks with `sleep`; raises InputError (one line)
        for a live pid that cannot be verified. Closing it stops the watch."""
        ...


def engine_verifier(
    snapshot: Snapshot, process: ProcessTimers, live_pid: int, sleep: Callable[[float], object]
) -> Generator[Report, None, None]:
    from timertui.verify.age import checkpoint_age
    from timertui.verify.engine import verify
    from timertui.verify.pairing import pair_one

    pairing = pair_one(process, live_pid)
    yield from verify((pairing,), checkpoint_age(snapshot), sleep=sleep)
