"""Open whatever the user names as a saved source of timers: a snapshot file, a CRIU image
directory, crit's JSON, or a container checkpoint archive (podman's export, Kubernetes'
checkpoint tar), told apart by what is there rather than by the name."""

from __future__ import annotations

import os
import stat

from timertui import snapshot_file
from timertui.errors import InputError
from timertui.model import Snapshot

_SNIFF_BYTES = 512  # a tar's magic is at byte 257
NOT_REGULAR = "not a regular file or directory"
# What a CRIU image directory's import opens: these must be plain files too.
_IMAGE_SUFFIXES = (".img", ".json")


class SourceError(InputError):
    """A path that names nothing we can open as a source."""


def open_source(path: str | os.PathLike[str]) -> Snapshot:
    """The snapshot in `path`: a timertui snapshot file, a CRIU image directory (pstree.img),
    a directory of *.crit.json files, one crit JSON file, or a container checkpoint archive.
    Raises an InputError subclass with one line naming the path and the problem."""
    # criu (and pathlib) are imported only when needed: `restore FILE` counts its start-up time.
    src = os.fspath(path)
    try:
        # Looked at before it is opened: opening a device can act on it, a FIFO waits for a
        # writer. O_NONBLOCK still, should a FIFO take the file's place in between.
        mode = os.stat(src).st_mode  # noqa: PTH116 (pathlib costs start-up time)
        if stat.S_ISDIR(mode):
            _refuse_special_entries(src)
            from timertui import criu

            return criu.import_criu(src)
        if not stat.S_ISREG(mode):
            raise SourceError(f"{src}: {NOT_REGULAR}")
        fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            head = os.read(fd, _SNIFF_BYTES)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise SourceError(f"{src}: no such file or directory") from None
    except PermissionError:
        raise SourceError(f"{src}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"{src}: cannot read: {exc.strerror or exc}") from None
    if head.startswith(snapshot_file.MAGIC):
        return snapshot_file.load(src)
    from timertui import archive, criu

    if archive.kind_of(head) is not None:
        return archive.open_archive(src)
    if head.lstrip().startswith(b"{") or criu.is_image_header(head):
        return criu.import_criu(src)  # crit JSON, or an image it explains is not enough alone
    if not head:
        raise SourceError(f"{src}: empty file")
    raise SourceError(
        f"{src}: not a timertui snapshot, a CRIU image directory or crit JSON, "
        "nor a container checkpoint archive"
    )


def _refuse_special_entries(directory: str) -> None:
    """A FIFO, socket or device named like an image inside the directory would block (or never
    end) the import that opens it: refused here, by name. Missing targets are the import's to
    report."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.endswith(_IMAGE_SUFFIXES):
                continue
            try:
                regular = stat.S_ISREG(entry.stat().st_mode)  # follows a symlink
            except OSError:
                continue
            if not regular:
                raise SourceError(f"{entry.path}: {NOT_REGULAR}")
