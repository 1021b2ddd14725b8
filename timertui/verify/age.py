"""How long ago a checkpoint was taken, from what it carries: CLOCK_MONOTONIC at capture (a
snapshot of this boot), its wall-clock time (a snapshot, an archive's checkpoint time), or,
for a CRIU image directory, which records neither, the time its pstree.img was written."""

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
        try:
            written = os.stat(os.path.join(where, "pstree.img")).st_mtime_ns  # noqa: PTH116, PTH118
        except OSError:
            return UNKNOWN_AGE
        return Age(max(time.time_ns() - written, 0), "when pstree.img was written")
    return UNKNOWN_AGE
