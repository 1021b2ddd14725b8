"""The members of a tar stream, one header at a time (POSIX ustar, pax and GNU long names: what
Go's archive/tar, GNU tar and Python's tarfile write), without trusting it: every header's
checksum is checked, a name with `..` or a leading `/`, a link, a device or FIFO, or a kind we do
not know is refused, and the extended headers are bounded. Member data is read only when asked,
up to a limit; what is not read is skipped."""

from __future__ import annotations

from collections.abc import Iterator

from timertui.archive.compression import ArchiveError, Stream
from timertui.records import record

BLOCK = 512
_EXTENDED_MAX = 1 << 20  # a pax header or GNU long name longer than this is no checkpoint's
_SKIP_CHUNK = 1 << 20
_REGULAR = b"0\x007"
_DIRECTORY = b"5"
_REFUSED = {
    b"1": "a hard link",
    b"2": "a symbolic link",
    b"K": "a link",
    b"3": "a character device",
    b"4": "a block device",
    b"6": "a FIFO",
}


@record
class Member:
    name: str  # normalised: no leading "./", no trailing "/"
    size: int
    mtime: int  # seconds since the epoch
    directory: bool


class TarReader:
    """`members()` yields each member in order; while it is the current one, `read(limit)`
    gives its data (ArchiveError past `limit`), otherwise it is skipped."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.name = stream.name
        self._left = 0  # data (with padding) of the current member not yet read

    def members(self) -> Iterator[Member]:
        pax: dict[str, str] = {}
        long_name = ""
        while True:
            self._skip_rest()
            block = self._exact(BLOCK, "a member header")
            if block == bytes(BLOCK):
                return  # the end-of-archive marker (a second zero block may follow)
            flag, name, size, mtime = self._header(block)
            if flag in (b"x", b"g", b"L"):
                data = self._extended(size, flag)
                if flag == b"x":
                    pax = _pax_records(data, self.name)
                elif flag == b"L":
                    long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                continue
            name = pax.get("path") or long_name or name
            if "size" in pax:
                size = _pax_int(pax["size"], "size", self.name)
            if "mtime" in pax:
                mtime = int(float(pax["mtime"])) if _is_number(pax["mtime"]) else mtime
            pax, long_name = {}, ""
            if flag in _REFUSED:
                raise ArchiveError(f"{self.name}: member {name!r} is {_REFUSED[flag]}")
            if flag not in _REGULAR and flag != _DIRECTORY:
                raise ArchiveError(f"{self.name}: member {name!r} has unknown type {flag!r}")
            clean = _checked_name(name, self.name)
            self._left = _padded(size)
            yield Member(clean, size, mtime, flag == _DIRECTORY)

    def read(self, member: Member, limit: int, what: str) -> bytes:
        """The current member's data, refused when it claims more than `limit` bytes."""
        if member.size > limit:
            raise ArchiveError(
                f"{self.name}: {member.name} claims {member.size:,} bytes, more than any "
                f"{what} holds ({limit:,})"
            )
        data = self._exact(member.size, member.name)
        self._left -= member.size
        return data

    def _skip_rest(self) -> None:
        if self._left:
            passed = self.stream.skip(self._left, _SKIP_CHUNK)
            if passed < self._left:
                raise ArchiveError(f"{self.name}: truncated: the data of a member is cut off")
            self._left = 0

    def _exact(self, size: int, what: str) -> bytes:
        chunks, got = [], 0
        while got < size:
            data = self.stream.read(size - got)
            if not data:
                raise ArchiveError(f"{self.name}: truncated: {what} is cut off")
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)

    def _header(self, block: bytes) -> tuple[bytes, str, int, int]:
        stored = _octal(block[148:156], "checksum", self.name)
        unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
        signed = unsigned - sum(b for b in block[:148] + block[156:] if b > 127) * 2
        if stored not in (unsigned, signed):
            raise ArchiveError(
                f"{self.name}: not a tar archive, or damaged: a header checksum fails"
            )
        name = block[:100].split(b"\0", 1)[0]
        if block[257:263] == b"ustar\0":
            prefix = block[345:500].split(b"\0", 1)[0]
            if prefix:
                name = prefix + b"/" + name
        size = _number(block[124:136], "size", self.name)
        mtime = _number(block[136:148], "mtime", self.name)
        flag = block[156:157]
        return flag, name.decode("utf-8", "surrogateescape"), size, mtime

    def _extended(self, size: int, flag: bytes) -> bytes:
        if size > _EXTENDED_MAX:
            raise ArchiveError(
                f"{self.name}: an extended header ({flag.decode()}) claims {size:,} bytes"
            )
        data = self._exact(size, "an extended header")
        self._left = _padded(size) - size
        return data


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _number(field: bytes, what: str, name: str) -> int:
    """A numeric header field: octal text, or base-256 (the high bit set) for big values."""
    if field[:1] and field[0] & 0x80:
        if field[0] & 0x40:
            raise ArchiveError(f"{name}: a negative {what} in a member header")
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    return _octal(field, what, name)


def _octal(field: bytes, what: str, name: str) -> int:
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ArchiveError(f"{name}: not a tar archive, or damaged: bad {what} field") from None


def _pax_records(data: bytes, name: str) -> dict[str, str]:
    """pax extended header records: "LENGTH key=value\\n", LENGTH counting the whole record."""
    records, pos = {}, 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0 or not data[pos:space].isdigit():
            raise ArchiveError(f"{name}: a damaged pax header")
        end = pos + int(data[pos:space])
        if end > len(data) or end <= space or data[end - 1 : end] != b"\n":
            raise ArchiveError(f"{name}: a damaged pax header")
        key, _, value = data[space + 1 : end - 1].partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos = end
    return records


def _pax_int(text: str, what: str, name: str) -> int:
    if not text.isdigit() or len(text) > 20:
        raise ArchiveError(f"{name}: a pax {what} that is no number: {text[:40]!r}")
    return int(text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return len(text) < 40


def _checked_name(name: str, archive: str) -> str:
    """The member's name without "./" and trailing "/"; absolute names and `..` refused."""
    if name.startswith("/"):
        raise ArchiveError(f"{archive}: member {name!r} has an absolute name")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{archive}: member {name!r} climbs out with '..'")
    if not parts:
        return ""
    return "/".join(parts)
