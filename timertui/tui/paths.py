"""Paths the user types into the app: completion of a partial path, and opening one without ever
blocking on a FIFO, socket or device. Everything here may block (a slow mount, a huge folder):
the app calls it from thread workers only.

    complete("~/snaps/ti")  ->  Completion("~/snaps/timers-", ("timers-1.ttsnap", "timers-2/"))
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from textual.suggester import Suggester

from timertui.criulog.report import LogReport
from timertui.errors import InputError
from timertui.model import Snapshot


@dataclass(frozen=True)
class Completion:
    """`value` is the typed text completed as far as every candidate agrees; `candidates` are the
    matching names in the folder (directories end with /)."""

    value: str
    candidates: tuple[str, ...]


def complete(text: str) -> Completion:
    """Complete the last part of `text` among the names in its folder. Hidden names only when
    the typed part starts with a dot; `~` is expanded for the lookup but kept in the value."""
    if text == "~":
        return Completion("~/", ())
    head, sep, prefix = text.rpartition("/")
    folder = Path(head + sep).expanduser() if sep else Path()
    try:
        with os.scandir(folder) as entries:
            names = [
                entry.name + ("/" if entry.is_dir() else "")
                for entry in entries
                if entry.name.startswith(prefix)
                and (prefix.startswith(".") or not entry.name.startswith("."))
            ]
    except OSError:
        return Completion(text, ())
    names.sort()
    common = os.path.commonprefix(names)  # noqa: RUF071 -- names, not paths: by character
    return Completion(head + sep + common if names else text, tuple(names))


class PathSuggester(Suggester):
    """Inline suggestions of the completed path; the folder is read in a thread."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        found = await asyncio.to_thread(complete, value)
        return found.value if len(found.value) > len(value) else None


@dataclass(frozen=True)
class Opened:
    """What a path opened to: a snapshot (None for CRIU logs alone) and CRIU's logs there."""

    path: str
    snapshot: Snapshot | None
    logs: list[LogReport]


def open_any(path: str) -> Opened:
    """The snapshot at `path` and the CRIU logs beside it (an image directory or archive may hold
    dump.log, restore.log), or the logs alone (a log file, a folder of them). The snapshot's
    InputError when it is neither."""
    from timertui.criulog import open_logs

    where = str(Path(path).expanduser())
    try:
        snapshot = open_checked(path)
    except InputError:
        try:
            return Opened(path, None, open_logs(where))
        except InputError:
            pass
        raise  # the snapshot's reason, the likelier one
    try:
        logs = open_logs(where)
    except InputError:
        logs = []  # images without CRIU's logs beside them
    return Opened(path, snapshot, logs)


def open_checked(path: str) -> Snapshot:
    """The snapshot at `path` (~ expanded): a snapshot file, CRIU image directory or crit JSON;
    an InputError with one line when it is none of them."""
    from timertui import sources

    # open_source refuses a FIFO, socket or device before opening anything: it never blocks.
    return sources.open_source(str(Path(path).expanduser()))
