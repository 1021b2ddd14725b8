"""msgpack frames in the standard library alone: a 4-byte big-endian length, then one msgpack
value. The subset the agent needs — nil, booleans, integers up to 64 bits, float64, str, bin,
arrays, maps — read and written as the msgpack library does, so the other end uses msgpack
itself. Python 3.9: no match, no `X | Y` at run time. timertui's snapshot_file reads small
snapshots with it too (its start then has no msgpack to import)."""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: snapshot_file reads with us
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

MAX_FRAME = 256 << 20  # a length beyond this is a broken stream, not a frame
HEADER = struct.Struct(">I")

_pack_B = struct.Struct(">B").pack
_pack_H = struct.Struct(">H").pack
_pack_I = struct.Struct(">I").pack
_pack_Q = struct.Struct(">Q").pack
_pack_b = struct.Struct(">b").pack
_pack_h = struct.Struct(">h").pack
_pack_i = struct.Struct(">i").pack
_pack_q = struct.Struct(">q").pack
_pack_d = struct.Struct(">d").pack


class WireError(ValueError):
    """Bytes that are not a value of the subset, or a value that cannot be written."""


def packb(value: Any) -> bytes:
    out: list[bytes] = []
    _pack(value, out.append)
    return b"".join(out)


def frame(value: Any) -> bytes:
    body = packb(value)
    return HEADER.pack(len(body)) + body


def read_frame(stream: IO[bytes]) -> Any:
    """The value of the next frame on `stream`; EOFError at its end (even mid-frame)."""
    (size,) = HEADER.unpack(_read_exact(stream, HEADER.size))
    if size > MAX_FRAME:
        raise WireError(f"a frame of {size} bytes")
    return unpackb(_read_exact(stream, size))


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _pack(value: Any, write: Callable[[bytes], None]) -> None:  # noqa: PLR0915
    kind = type(value)
    if value is None:
        write(b"\xc0")
    elif kind is bool:
        write(b"\xc3" if value else b"\xc2")
    elif kind is int:
        _pack_int(value, write)
    elif kind is str:
        data = value.encode("utf-8", "surrogateescape")
        n = len(data)
        if n < 32:
            write(bytes((0xA0 | n,)))
        elif n < 0x100:
            write(b"\xd9" + _pack_B(n))
        elif n < 0x10000:
            write(b"\xda" + _pack_H(n))
        else:
            write(b"\xdb" + _pack_I(n))
        write(data)
    elif kind is bytes or kind is bytearray:
        n = len(value)
        if n < 0x100:
            write(b"\xc4" + _pack_B(n))
        elif n < 0x10000:
            write(b"\xc5" + _pack_H(n))
        else:
            write(b"\xc6" + _pack_I(n))
        write(bytes(value))
    elif kind is float:
        write(b"\xcb" + _pack_d(value))
    elif kind is list or kind is tuple:
        n = len(value)
        if n < 16:
            write(bytes((0x90 | n,)))
        elif n < 0x10000:
            write(b"\xdc" + _pack_H(n))
        else:
            write(b"\xdd" + _pack_I(n))
        for item in value:
            _pack(item, write)
    elif kind is dict:
        n = len(value)
        if n < 16:
            write(bytes((0x80 | n,)))
        elif n < 0x10000:
            write(b"\xde" + _pack_H(n))
        else:
            write(b"\xdf" + _pack_I(n))
        for key, item in value.items():
            _pack(key, write)
            _pack(item, write)
    else:
        raise WireError(f"cannot send a value of type {kind.__name__}")


def _pack_int(n: int, put: Callable[[bytes], None]) -> None:
    if 0 <= n < 0x80:
        put(bytes((n,)))
    elif -32 <= n < 0:
        put(bytes((n & 0xFF,)))
    elif n >= 0:
        if n < 0x100:
            put(b"\xcc" + _pack_B(n))
        elif n < 0x10000:
            put(b"\xcd" + _pack_H(n))
        elif n < 0x100000000:
            put(b"\xce" + _pack_I(n))
        elif n < 1 << 64:
            put(b"\xcf" + _pack_Q(n))
        else:
            raise WireError(f"integer {n} beyond 64 bits")
    elif n >= -0x80:
        put(b"\xd0" + _pack_b(n))
    elif n >= -0x8000:
        put(b"\xd1" + _pack_h(n))
    elif n >= -0x80000000:
        put(b"\xd2" + _pack_i(n))
    elif n >= -(1 << 63):
        put(b"\xd3" + _pack_q(n))
    else:
        raise WireError(f"integer {n} beyond 64 bits")


# Fixed-size items by first byte: (struct format, size).
_FIXED = {
    0xCA: (">f", 4),
    0xCB: (">d", 8),
    0xCC: (">B", 1),
    0xCD: (">H", 2),
    0xCE: (">I", 4),
    0xCF: (">Q", 8),
    0xD0: (">b", 1),
    0xD1: (">h", 2),
    0xD2: (">i", 4),
    0xD3: (">q", 8),
}
# Length-prefixed items by first byte: (kind, size of the length).
_SIZED = {
    0xC4: ("bin", 1),
    0xC5: ("bin", 2),
    0xC6: ("bin", 4),
    0xD9: ("str", 1),
    0xDA: ("str", 2),
    0xDB: ("str", 4),
    0xDC: ("array", 2),
    0xDD: ("array", 4),
    0xDE: ("map", 2),
    0xDF: ("map", 4),
}
_LENGTH = {1: ">B", 2: ">H", 4: ">I"}
_MAX_DEPTH = 64


def unpackb(data: bytes, unicode_errors: str = "strict", strict_map_key: bool = False) -> Any:
    """The one value `data` holds; WireError for anything else (trailing bytes included).
    As msgpack's options: `unicode_errors`, how str values that are not UTF-8 decode;
    `strict_map_key`, map keys str or bytes only."""
    value, end = _Reader(unicode_errors, strict_map_key).unpack(data, 0, 0)
    if end != len(data):
        raise WireError(f"{len(data) - end} bytes after the value")
    return value


def _take(data: bytes, at: int, size: int) -> int:
    end = at + size
    if end > len(data):
        raise WireError("the value is cut short")
    return end


class _Reader:
    """One unpackb call's options, for its recursive readers."""

    def __init__(self, unicode_errors: str, strict_map_key: bool) -> None:
        self.unicode_errors = unicode_errors
        self.key_types = (str, bytes) if strict_map_key else None

    def unpack(self, data: bytes, at: int, depth: int) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise WireError("values nested too deep")
        end = _take(data, at, 1)
        head = data[at]
        at = end
        if head < 0x80:
            return head, at
        if head >= 0xE0:
            return head - 0x100, at
        if head < 0x90:
            return self.unpack_map(data, at, head & 0x0F, depth)
        if head < 0xA0:
            return self.unpack_array(data, at, head & 0x0F, depth)
        if head < 0xC0:
            end = _take(data, at, head & 0x1F)
            return self.text(data[at:end]), end
        if head == 0xC0:
            return None, at
        if head == 0xC2:
            return False, at
        if head == 0xC3:
            return True, at
        fixed = _FIXED.get(head)
        if fixed is not None:
            end = _take(data, at, fixed[1])
            return struct.unpack(fixed[0], data[at:end])[0], end
        sized = _SIZED.get(head)
        if sized is None:
            raise WireError(f"unsupported msgpack type byte 0x{head:02x}")
        kind, width = sized
        end = _take(data, at, width)
        n = struct.unpack(_LENGTH[width], data[at:end])[0]
        at = end
        if kind == "array":
            return self.unpack_array(data, at, n, depth)
        if kind == "map":
            return self.unpack_map(data, at, n, depth)
        end = _take(data, at, n)
        return (self.text(data[at:end]) if kind == "str" else data[at:end]), end

    def text(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8", self.unicode_errors)
        except UnicodeDecodeError:
            raise WireError("a str that is not UTF-8") from None

    def unpack_array(self, data: bytes, at: int, n: int, depth: int) -> tuple[Any, int]:
        if n > len(data) - at:  # each item takes a byte at least
            raise WireError("an array longer than the bytes left")
        items: list[Any] = []
        for _ in range(n):
            item, at = self.unpack(data, at, depth + 1)
            items.append(item)
        return items, at

    def unpack_map(self, data: bytes, at: int, n: int, depth: int) -> tuple[Any, int]:
        if 2 * n > len(data) - at:
            raise WireError("a map longer than the bytes left")
        result: dict[Any, Any] = {}
        for _ in range(n):
            key, at = self.unpack(data, at, depth + 1)
            if isinstance(key, (list, dict)):
                raise WireError("a map key that is an array or a map")
            if self.key_types is not None and not isinstance(key, self.key_types):
                raise WireError(f"a map key of type {type(key).__name__}")
            item, at = self.unpack(data, at, depth + 1)
            result[key] = item
        return result, at
