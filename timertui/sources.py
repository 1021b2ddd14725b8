"""Open whatever the user names as a saved source of timers: a snapshot file, a CRIU image
directory, or crit's JSON, told apart by what is there rather than by the name."""

from __future__ import annotations

import os

from timertui import snapshot
from timertui.errors import InputError
from timertui.model import Snapshot

_SNIFF_BYTES = 64


class SourceError(InputError):
    """A path that names nothing we can open as a source."""


def open_source(path: str | os.PathLike[str]) -> Snapshot:
    """The snapshot in `path`: a timertui snapshot file, a CRIU image directory (pstree.img),
    a directory of *.crit.json files, or one crit JSON file. Raises an InputError subclass
    with one line naming the path and the problem."""
    # criu (and pathlib) are imported only when needed: `restore FILE` counts its start-up time.
    src = os.fspath(path)
    try:
        if os.path.isdir(src):  # noqa: PTH112
            from timertui import criu

            with os.scandir(src) as entries:
                next(entries, None)  # a directory we may not list fails here, plainly
            return criu.import_criu(src)
        with open(src, "rb") as f:  # noqa: PTH123
            head = f.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise SourceError(f"{src}: no such file or directory") from None
    except PermissionError:
        raise SourceError(f"{src}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"{src}: cannot read: {exc.strerror or exc}") from None
    if head.startswith(snapshot.MAGIC):
        return snapshot.load(src)
    from timertui import criu

    if head.lstrip().startswith(b"{") or criu.is_image_header(head):
        return criu.import_criu(src)  # crit JSON, or an image it explains is not enough alone
    if not head:
        raise SourceError(f"{src}: empty file")
    raise SourceError(f"{src}: not a timertui snapshot, a CRIU image directory or crit JSON")
