"""Where timertui keeps things, shared by the command line and the app: the snapshot folder and
the default name of a snapshot file in it."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

SNAPSHOT_SUFFIX = ".ttsnap"
# A comm may hold any byte but NUL ("kworker/0:1"): only these stay in a file name.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def snapshot_dir() -> Path:
    """$XDG_DATA_HOME/timertui/snapshots, or ~/.local/share/timertui/snapshots."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "timertui" / "snapshots"


def snapshot_name(
    pid: int, comm: str, others: int = 0, now: datetime.datetime | None = None
) -> str:
    """A snapshot file's default name, e.g. 1234-sleep-20250101-120000.ttsnap: the first process
    captured, how many more when there are ("-and-2-more"), and the local time."""
    now = now or datetime.datetime.now()
    name = _UNSAFE.sub("_", comm).strip("._") or "process"
    more = f"-and-{others}-more" if others else ""
    return f"{pid}-{name}{more}-{now:%Y%m%d-%H%M%S}{SNAPSHOT_SUFFIX}"
