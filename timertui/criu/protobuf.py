"""The protobuf wire format, as far as CRIU's images need it: varints, fixed-width and
length-delimited fields, merged repeated messages; every read bounded by its message's end."""

from __future__ import annotations

from timertui.clocks import to_int32
from timertui.criu.fields import Fields, Malformed, child, in_bits

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_WIRE_NAMES = {
    _VARINT: "varint",
    _FIXED64: "fixed64",
    _LEN: "length-delimited",
    _FIXED32: "fixed32",
}
_MAX_VARINT_BYTES = 10


def _varint(buf: bytes, pos: int, end: int, path: str) -> tuple[int, int]:
    """The varint at `pos` and the position after it; never reads at or past `end`."""
    value = shift = 0
    for index in range(pos, min(end, pos + _MAX_VARINT_BYTES)):
        byte = buf[index]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if value >= 1 << 64:
                raise Malformed(path, f"varint at byte {pos} exceeds 64 bits")
            return value, index + 1
        shift += 7
    if end - pos >= _MAX_VARINT_BYTES:
        raise Malformed(path, f"varint at byte {pos} is longer than 10 bytes")
    raise Malformed(path, f"varint at byte {pos} runs past the end of its message")


class PbMessage:
    """The fields of one protobuf message: field number -> occurrences (wire type, a, b), where
    (a, b) is the (start, end) of the bytes for a length-delimited field and (value, 0) else.
    Several ranges are one message merged, as protobuf merges repeated non-repeated messages."""

    def __init__(self, buf: bytes, ranges: list[tuple[int, int]], path: str) -> None:
        self.buf = buf
        self.path = path
        self.fields: dict[int, list[tuple[int, int, int]]] = {}
        for start, end in ranges:
            self._parse(start, end)

    def _parse(self, pos: int, end: int) -> None:
        buf, path = self.buf, self.path
        while pos < end:
            key, pos = _varint(buf, pos, end, path)
            num, wire = key >> 3, key & 7
            if num == 0:
                raise Malformed(path, f"field number 0 at byte {pos}")
            if wire == _VARINT:
                value, pos = _varint(buf, pos, end, path)
                occurrence = (wire, value, 0)
            elif wire == _LEN:
                size, pos = _varint(buf, pos, end, path)
                if size > end - pos:
                    raise Malformed(
                        path, f"field {num} claims {size} bytes, {end - pos} remain in its message"
                    )
                occurrence = (wire, pos, pos + size)
                pos += size
            elif wire in (_FIXED32, _FIXED64):
                size = 4 if wire == _FIXED32 else 8
                if size > end - pos:
                    raise Malformed(path, f"field {num} runs past the end of its message")
                occurrence = (wire, int.from_bytes(buf[pos : pos + size], "little"), 0)
                pos += size
            else:
                raise Malformed(path, f"field {num} has wire type {wire}, unused by CRIU")
            self.fields.setdefault(num, []).append(occurrence)

    def _last(self, num: int, name: str, wire: int) -> tuple[int, int, int] | None:
        found = self.fields.get(num)
        if not found:
            return None
        occurrence = found[-1]  # protobuf: the last value of a scalar wins
        if occurrence[0] != wire:
            raise Malformed(
                child(self.path, name),
                f"wire type {_WIRE_NAMES[occurrence[0]]}, expected {_WIRE_NAMES[wire]}",
            )
        return occurrence

    def opt_uint(
        self, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
    ) -> int | None:
        found = self._last(num, name, _VARINT)
        return None if found is None else in_bits(found[1], bits, child(self.path, name))

    def opt_int32(self, num: int, name: str) -> int | None:
        found = self._last(num, name, _VARINT)
        return None if found is None else to_int32(found[1])

    def opt_string(self, num: int, name: str) -> str | None:
        found = self._last(num, name, _LEN)
        if found is None:
            return None
        # Odd bytes in a comm stay visible, as the /proc reader shows them.
        return self.buf[found[1] : found[2]].decode("utf-8", "backslashreplace")

    def message(self, num: int, name: str) -> PbMessage | None:
        ranges = self._ranges(num, name)
        return PbMessage(self.buf, ranges, child(self.path, name)) if ranges else None

    def messages(self, num: int, name: str) -> list[Fields]:
        return [
            PbMessage(self.buf, [r], f"{child(self.path, name)}[{i}]")
            for i, r in enumerate(self._ranges(num, name))
        ]

    def _ranges(self, num: int, name: str) -> list[tuple[int, int]]:
        ranges = []
        for wire, start, end in self.fields.get(num, ()):
            if wire != _LEN:
                raise Malformed(
                    child(self.path, name), f"wire type {_WIRE_NAMES[wire]}, expected a message"
                )
            ranges.append((start, end))
        return ranges

    def uints(self, num: int, name: str, bits: int = 64) -> list[int]:
        """A repeated unsigned field, written one by one or packed."""
        path = child(self.path, name)
        values: list[int] = []
        for wire, a, b in self.fields.get(num, ()):
            if wire == _VARINT:
                values.append(in_bits(a, bits, path))
            elif wire == _LEN:
                pos = a
                while pos < b:
                    value, pos = _varint(self.buf, pos, b, path)
                    values.append(in_bits(value, bits, path))
            else:
                raise Malformed(path, f"wire type {_WIRE_NAMES[wire]}, expected varints")
        return values
