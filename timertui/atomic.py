"""The one way timertui writes a file: atomically and durably, mode 0600 (snapshots name the
user's processes; the costs are the user's own).

A temp file in the destination's directory, fsync, rename, fsync of the directory. If anything
fails, a file already there stays intact and the temp file is removed. The temp file is unnamed
(O_TMPFILE) until just before the rename, so a writer killed meanwhile leaves nothing behind
either.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class DirectorySyncError(OSError):
    """Only the last step failed: the new file is in place, but its rename may not survive a
    crash."""


def write_file(dest: Path, data: bytes) -> None:
    """Write `data` to `dest` as the module says. OSError for a write that did not happen;
    DirectorySyncError (an OSError) for one that did but may not last."""
    fd, tmp = _open_temp(dest)
    try:
        try:
            os.fchmod(fd, 0o600)  # the temp file is 0600 already; say so rather than rely on it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            if tmp is None:
                tmp = _name_temp(fd, dest)
        finally:
            os.close(fd)
        tmp.replace(dest)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    try:
        dfd = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as exc:
        raise DirectorySyncError(exc.errno, exc.strerror, str(dest.parent)) from None


def _open_temp(dest: Path) -> tuple[int, Path | None]:
    """An unnamed file in dest's directory (None for its name), or a named one where the
    filesystem has no O_TMPFILE."""
    try:
        return os.open(dest.parent, os.O_TMPFILE | os.O_WRONLY, 0o600), None
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR):
            raise
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    return fd, Path(name)


def _name_temp(fd: int, dest: Path) -> Path:
    """Give the unnamed file `fd` a temporary name beside `dest`, for the rename."""
    import secrets

    # A directory fd makes os.link use linkat(AT_SYMLINK_FOLLOW): the /proc link is followed
    # to the file instead of being linked itself.
    dfd = os.open(dest.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        while True:
            name = f".{dest.name}.{secrets.token_hex(4)}.tmp"
            try:
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dfd, follow_symlinks=True)
            except FileExistsError:
                continue
            return dest.parent / name
    finally:
        os.close(dfd)
