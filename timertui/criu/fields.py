"""Field access shared by CRIU's binary images and crit's JSON: a message asked for its fields by
number and name, and the errors an import raises."""

from __future__ import annotations

from typing import Protocol

from timertui.errors import InputError


class CriuError(InputError):
    """A CRIU image directory or crit JSON we cannot import; names the file and the fault."""


class Malformed(Exception):
    """A field is missing, of the wrong wire type, or out of range; `str` is "path: problem"."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'entry'}: {message}")


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class Fields(Protocol):
    """One message, from either source: a field is asked for by its number and its name."""

    path: str

    def opt_uint(
        self, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
    ) -> int | None: ...

    def opt_int32(self, num: int, name: str) -> int | None: ...

    def opt_string(self, num: int, name: str) -> str | None: ...

    def message(self, num: int, name: str) -> Fields | None: ...

    def messages(self, num: int, name: str) -> list[Fields]: ...

    def uints(self, num: int, name: str, bits: int = 64) -> list[int]: ...


def uint(
    msg: Fields, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
) -> int:
    """A required unsigned field."""
    value = msg.opt_uint(num, name, bits, names)
    if value is None:
        raise Malformed(child(msg.path, name), "required field missing")
    return value


def in_bits(value: int, bits: int, path: str) -> int:
    if not 0 <= value < 1 << bits:
        raise Malformed(path, f"{value} does not fit uint{bits}")
    return value
