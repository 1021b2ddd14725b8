"""CRIU's own logs (dump.log, restore.log), read and explained: reader.py reads the format in
one streamed pass, explain.py knows CRIU's errors, report.py holds what a log says.

`open_logs(PATH)` takes a log file, a CRIU image directory (the logs CRIU wrote beside its
images with `-o`), or a container checkpoint archive (CRI-O and containerd put dump.log in it),
told apart by what is there, not by the name."""

from __future__ import annotations

import io
import os
import stat

from timertui.criulog.reader import LogError, read_log
from timertui.criulog.report import FAILED, SUCCEEDED, UNFINISHED, UNKNOWN, LogReport

__all__ = [
    "FAILED",
    "SUCCEEDED",
    "UNFINISHED",
    "UNKNOWN",
    "LogError",
    "LogReport",
    "log_names",
    "open_logs",
    "read_log_file",
]

# The names CRIU's users give its logs (`-o dump.log`, podman's and CRI-O's): in this order.
LOG_NAMES = ("dump.log", "pre-dump.log", "restore.log", "criu.log")
ARCHIVE_LOG_BYTES = 64 << 20  # a log inside an archive is read into memory up to this
_SNIFF = 512


def kind_of_name(name: str) -> str:
    base = name.rpartition("/")[2]
    for prefix, kind in (("pre-dump", "pre-dump"), ("dump", "dump"), ("restore", "restore")):
        if base.startswith(prefix):
            return kind
    return ""


def open_logs(path: str) -> list[LogReport]:
    """Each CRIU log at `path`, read. LogError (or the archive's error) in one line when
    there is none, or it cannot be read."""
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116
    except FileNotFoundError:
        raise LogError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise LogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        names = log_names(path)
        if not names:
            raise LogError(
                f"{path}: no CRIU log here (looked for {', '.join(LOG_NAMES)} and *.log)"
            )
        return [read_log_file(f"{path.rstrip('/')}/{name}") for name in names]
    if not stat.S_ISREG(mode):
        raise LogError(f"{path}: not a regular file or directory")
    head = _head(path)
    from timertui import archive

    if archive.kind_of(head) is not None:
        return _archive_logs(path)
    return [read_log_file(path)]


def log_names(directory: str) -> list[str]:
    """The CRIU logs in `directory`: the usual names first, then any other *.log that starts
    like one."""
    try:
        with os.scandir(directory) as entries:
            files = sorted(e.name for e in entries if e.name.endswith(".log") and _regular(e))
    except OSError as exc:
        raise LogError(f"{directory}: cannot read: {exc.strerror or exc}") from None
    usual = [n for n in LOG_NAMES if n in files]
    others = [n for n in files if n not in usual and _looks_like_log(f"{directory}/{n}")]
    return usual + others


def read_log_file(path: str) -> LogReport:
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116
        if not stat.S_ISREG(mode):
            raise LogError(f"{path}: not a regular file")
        # O_NONBLOCK: should a FIFO take the file's place in between, it does not block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise LogError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise LogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with open(fd, "rb") as raw:  # noqa: PTH123
        return read_log(raw, path, kind_of_name(path))


def _archive_logs(path: str) -> list[LogReport]:
    from timertui.archive import ArchiveError, kind_of
    from timertui.archive.compression import Stream
    from timertui.archive.tar import TarReader

    found: dict[str, bytes] = {}
    try:
        raw = open(path, "rb")  # noqa: PTH123, SIM115 - closed below
    except OSError as exc:
        raise LogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with raw:
        kind = kind_of(raw.read(_SNIFF))
        raw.seek(0)
        tar = TarReader(Stream(raw, kind or "tar", path))
        for member in tar.members():
            folder, _, base = member.name.rpartition("/")
            if member.directory or base not in LOG_NAMES or folder not in ("", "checkpoint"):
                continue
            if member.name in found:
                raise ArchiveError(f"{path}: {member.name} appears twice")
            if member.size > ARCHIVE_LOG_BYTES:
                raise LogError(
                    f"{path}: {member.name} holds {member.size:,} bytes, more than is read from "
                    f"an archive ({ARCHIVE_LOG_BYTES >> 20} MiB): extract it "
                    f"(tar -xf ARCHIVE {member.name}) and run `timertui log` on the file"
                )
            found[member.name] = tar.read(member, ARCHIVE_LOG_BYTES, "CRIU log")
    if not found:
        raise LogError(f"{path}: no CRIU log in this archive (looked for {', '.join(LOG_NAMES)})")
    order = {name: i for i, name in enumerate(LOG_NAMES)}
    names = sorted(found, key=lambda n: (order[n.rpartition("/")[2]], n))
    return [read_log(io.BytesIO(found[n]), f"{path}:{n}", kind_of_name(n)) for n in names]


def _head(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            return os.read(fd, _SNIFF)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LogError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _regular(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # follows a symlink
    except OSError:
        return False


def _looks_like_log(path: str) -> bool:
    try:
        with open(path, "rb") as f:  # noqa: PTH123
            read_log(io.BytesIO(f.read(4096)), path)
    except (OSError, LogError):
        return False
    return True
