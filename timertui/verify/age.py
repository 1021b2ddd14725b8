"""How long ago a checkpoint was taken, from what it carries: CLOCK_MONOTONIC at capture (a
snapshot of this boot), its wall-clock time (a snapshot, an archive's checkpoint time), or,
for a CRIU image directory, which records neither, when its images were written."""

from __future__ import annotations

import os
import time

from timertui.capture.host import boot_id
from timertui.model import Snapshot
from timertui.records import record


@record
class Age:
    """`ns` since the checkpoint (None: unknown) and how that was known, in words."""

    ns: int | None
    source: str = ""


UNKNOWN_AGE = Age(None)


def checkpoint_age(snapshot: Snapshot) -> Age:
    times, host = snapshot.times, snapshot.host
    if times.monotonic_ns and host.boot_id and host.boot_id == boot_id():
        return Age(max(time.monotonic_ns() - times.monotonic_ns, 0), "CLOCK_MONOTONIC at capture")
    if times.realtime_ns:
        return Age(max(time.time_ns() - times.realtime_ns, 0), "the checkpoint's wall-clock time")
    where = snapshot.source.removeprefix("criu:")
    if where != snapshot.source:
        # The first image written: the dump read the timers after it, so this age is not
        # shorter than the timers' (a shorter one would call a timer that ran down wrong).
        try:
            with os.scandir(where) as entries:
                written = min(e.stat().st_mtime_ns for e in entries if e.name.endswith(".img"))
        except (OSError, ValueError):
            return UNKNOWN_AGE
        return Age(max(time.time_ns() - written, 0), "when its first image was written")
    return UNKNOWN_AGE
