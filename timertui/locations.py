"""Where timertui keeps things, shared by the command line and the app: its XDG base directories
(built here only), the snapshot folder and the default name of a snapshot file in it."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

SNAPSHOT_SUFFIX = ".ttsnap"
# A comm may hold any byte but NUL ("kworker/0:1"): only these stay in a file name.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _xdg(variable: str, default: str) -> Path:
    """$VARIABLE/timertui, or ~/DEFAULT/timertui where it is unset, empty or relative (the XDG
    base directory spec ignores a relative one)."""
    base = Path(os.environ.get(variable, ""))
    return (base if base.is_absolute() else Path.home() / default) / "timertui"


def snapshot_dir() -> Path:
    """$XDG_DATA_HOME/timertui/snapshots, or ~/.local/share/timertui/snapshots."""
    return _xdg("XDG_DATA_HOME", ".local/share") / "snapshots"


def costs_dir() -> Path:
    """The simulator's calibrations: $XDG_CACHE_HOME/timertui/costs, or ~/.cache/timertui/costs."""
    return _xdg("XDG_CACHE_HOME", ".cache") / "costs"


def config_dir() -> Path:
    """The user's settings (the app's keymap): $XDG_CONFIG_HOME/timertui, or ~/.config/timertui."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def snapshot_name(
    pid: int, comm: str, others: int = 0, now: datetime.datetime | None = None
) -> str:
    """A snapshot file's default name, e.g. 1234-sleep-20250101-120000.ttsnap: the first process
    captured, how many more when there are ("-and-2-more"), and the local time."""
    now = now or datetime.datetime.now()
    name = _UNSAFE.sub("_", comm).strip("._") or "process"
    more = f"-and-{others}-more" if others else ""
    return f"{pid}-{name}{more}-{now:%Y%m%d-%H%M%S}{SNAPSHOT_SUFFIX}"
