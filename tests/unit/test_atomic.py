"""The atomic write's paths that snapshot and costs tests do not take: a filesystem without
O_TMPFILE, and a directory that cannot be synced."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from timertui import atomic


def test_without_o_tmpfile_a_named_temp_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def no_tmpfile(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_tmpfile)
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    atomic.write_file(dest, b"new")
    assert dest.read_bytes() == b"new"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_a_failed_directory_sync_says_the_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync

    def failing_on_directories(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_on_directories)
    dest = tmp_path / "f"
    with pytest.raises(atomic.DirectorySyncError) as failed:
        atomic.write_file(dest, b"new")
    assert (failed.value.errno, failed.value.filename) == (errno.EIO, str(tmp_path))
    assert dest.read_bytes() == b"new"
