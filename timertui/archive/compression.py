"""The byte stream of a checkpoint archive, decompressed by what its first bytes say (never by its
name: podman writes zstd into a file called .tar.gz): zstd, gzip, or a plain tar read as it is.

Memory stays bounded: reads are of at most the size asked for, and a zstd frame that wants a
window over ZSTD_WINDOW_LOG_MAX is refused rather than given the memory. A stream that expands
past BOMB_BYTES to more than BOMB_RATIO times what it was read from is refused as a
decompression bomb (real checkpoints hold memory pages, which compress a few times, not a
thousand)."""

from __future__ import annotations

import gzip
import zlib
from typing import BinaryIO

from backports import zstd

from timertui.errors import InputError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
TAR_MAGIC_OFFSET = 257
TAR_MAGICS = (b"ustar\x0000", b"ustar  \x00")
ZSTD_WINDOW_LOG_MAX = 25  # 32 MiB: what zstd's levels up to 19 use is at most 8 MiB
BOMB_BYTES = 1 << 30
BOMB_RATIO = 1000

_CORRUPT = (OSError, EOFError, zlib.error, zstd.ZstdError)


class ArchiveError(InputError):
    """A checkpoint archive that cannot be read; the message names the file and why."""


def kind_of(head: bytes) -> str | None:
    """ "zstd", "gzip" or "tar" for an archive's first bytes (512 of them for a tar), or None."""
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    magic = head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 8]
    return "tar" if magic in TAR_MAGICS else None


class _Counted:
    """The raw file, counting what is read from it (for the bomb's ratio)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data

    def readable(self) -> bool:
        return True


class Stream:
    """An archive's tar bytes: `read(n)` gives at most n, `skip(n)` passes n (seeking in a plain
    tar). Corrupt or truncated compression and bombs raise ArchiveError naming `name`."""

    def __init__(self, raw: BinaryIO, kind: str, name: str) -> None:
        self.name = name
        self.kind = kind
        self.raw = raw
        self.counted = _Counted(raw)
        self.produced = 0
        self.reader: BinaryIO | gzip.GzipFile | zstd.ZstdFile
        if kind == "zstd":
            options = {zstd.DecompressionParameter.window_log_max: ZSTD_WINDOW_LOG_MAX}
            self.reader = zstd.ZstdFile(self.counted, options=options)  # type: ignore[call-overload]
        elif kind == "gzip":
            self.reader = gzip.GzipFile(fileobj=self.counted, mode="rb")  # type: ignore[call-overload]
        else:
            self.reader = raw

    def read(self, size: int) -> bytes:
        try:
            data = self.reader.read(size)
        except _CORRUPT as exc:
            raise ArchiveError(
                f"{self.name}: corrupt or truncated {self.kind} data: {exc}"
            ) from None
        self.produced += len(data)
        if (
            self.kind != "tar"
            and self.produced > BOMB_BYTES
            and self.produced > BOMB_RATIO * self.counted.consumed
        ):
            raise ArchiveError(
                f"{self.name}: a decompression bomb: {self.counted.consumed:,} {self.kind} bytes "
                f"expand past {self.produced:,}"
            )
        return data

    def skip(self, size: int, chunk: int) -> int:
        """Pass `size` bytes; how many there were (fewer at the end of the data)."""
        if self.kind == "tar":
            here = self.raw.tell()
            end = self.raw.seek(0, 2)
            moved = min(size, end - here)
            self.raw.seek(here + moved)
            self.produced += moved
            return moved
        passed = 0
        while passed < size:
            data = self.read(min(chunk, size - passed))
            if not data:
                break
            passed += len(data)
        return passed
