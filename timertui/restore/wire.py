"""Frozen records and dataclasses to plain values (dicts, lists, ints, str) and back, for the
worker's pipes (marshal), msgpack and JSON.

One generic converter for events and plans: nested records (timertui.records.record) and
dataclasses become dicts, tuples lists, enums their values; decoding follows the field
annotations, so the classes stay the single schema.
"""

from __future__ import annotations

import os
import sys

from timertui.records import Choice

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")


class WireError(ValueError):
    """A message that does not fit the schema it was decoded against."""


_PLAIN = frozenset({int, str, bool, float, type(None)})


def to_wire(obj: Any) -> Any:
    """A dataclass tree as plain values: dicts keyed by field name, sequences as lists (or
    tuples, when their items are plain already)."""
    cls = type(obj)
    if cls in _PLAIN:
        return obj
    names = _field_names(cls)
    if names is not None:
        return {name: to_wire(getattr(obj, name)) for name in names}
    if isinstance(obj, tuple | list):
        # Schema tuples are homogeneous: plain items (10,000 timer IDs) go as they are, which
        # msgpack and json both write as arrays.
        if obj and type(obj[0]) in _PLAIN:
            return obj
        return [to_wire(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_wire(v) for k, v in obj.items()}
    if _is_enum(cls):
        return obj.value
    return obj


_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The init fields of a record or dataclass type, None for any other type (cached)."""
    try:
        return _NAMES[cls]
    except KeyError:
        pass
    spec = getattr(cls, "__record__", None)
    names: tuple[str, ...] | None = None
    if spec is not None:
        names = spec.names
    elif hasattr(cls, "__dataclass_fields__"):
        import dataclasses

        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    _NAMES[cls] = names
    return names


def from_wire(cls: type[T], data: Any) -> T:
    """Rebuild a `cls` record or dataclass from what to_wire gave (extra keys are ignored)."""
    decoded: T = _class_decoder(cls)(data)
    return decoded


def prepare_decoder(cls: type) -> None:
    """Build from_wire's decoder for `cls` now (it resolves the annotations of every class
    inside), for a reader that has time to spare before the data comes."""
    _class_decoder(cls)


_CLASS_DECODERS: dict[type, Callable[[Any], Any]] = {}


def _class_decoder(cls: type) -> Callable[[Any], Any]:
    """The decoder of a record or dataclass, from its fields' annotations."""
    try:
        return _CLASS_DECODERS[cls]
    except KeyError:
        pass
    names = _field_names(cls)
    if names is None:
        raise TypeError(f"no wire decoder for {cls!r}")
    fields: list[tuple[str, Callable[[Any], Any]]] = []

    def decode(v: Any) -> Any:
        data = _expect(v, dict, cls)
        try:
            return cls(**{name: dec(data[name]) for name, dec in fields if name in data})
        except TypeError as exc:
            raise WireError(f"{cls.__name__}: {exc}") from None

    _CLASS_DECODERS[cls] = decode  # before the fields: a record may hold its own kind
    fields += [(name, _annotation_decoder(*_field_annotation(cls, name))) for name in names]
    return decode


def _field_annotation(cls: type, name: str) -> tuple[str, str]:
    """The annotation text of field `name` of `cls` (or of the base that declares it) and the
    module it is written in."""
    for base in cls.__mro__:
        annotation = base.__dict__.get("__annotations__", {}).get(name)  # noqa: RUF063
        if annotation is None:
            continue
        if isinstance(annotation, type):
            annotation = annotation.__name__
        if not isinstance(annotation, str):
            raise TypeError(f"{cls.__name__}.{name}: annotations are read as text (__future__)")
        return annotation, base.__module__
    raise TypeError(f"{cls.__name__}.{name} has no annotation")


_ANNOTATION_DECODERS: dict[tuple[str, str], Callable[[Any], Any]] = {}
_SCALARS: dict[str, Any] = {"int": int, "str": str, "bool": bool, "bytes": bytes}


def _annotation_decoder(text: str, module: str) -> Callable[[Any], Any]:
    """The decoder for one annotation, read as text rather than evaluated: evaluating needs
    typing (Literal, unions of records), whose import is ~5 ms of every `timertui restore`.
    The forms the schemas use: scalars, `X | None`, `tuple[X, ...]`, `dict[str, X]`, records,
    enums, Any, and aliases that are `str` or `int` at run time (Literal types to mypy)."""
    key = (text, module)
    known = _ANNOTATION_DECODERS.get(key)
    if known is not None:
        return known
    decoder = _read_annotation(text.strip(), module)
    _ANNOTATION_DECODERS[key] = decoder
    return decoder


def _read_annotation(text: str, module: str) -> Callable[[Any], Any]:
    union = _split_outside_brackets(text, "|")
    if len(union) > 1:
        inner = [part for part in union if part != "None"]
        if len(inner) != 1 or len(union) != 2:
            raise TypeError(f"unsupported union {text}")
        only = _annotation_decoder(inner[0], module)
        return lambda v: None if v is None else only(v)
    head, bracket, rest = text.partition("[")
    if bracket:
        args = _split_outside_brackets(rest.removesuffix("]"), ",")
        if head == "tuple" and len(args) == 2 and args[1] == "...":
            scalar = _SCALARS.get(args[0])
            if scalar is not None:
                return lambda v: _scalars(v, scalar, text)
            item = _annotation_decoder(args[0], module)
            return lambda v: tuple(item(x) for x in _expect(v, list | tuple, text))
        if head == "dict" and len(args) == 2:
            value = _annotation_decoder(args[1], module)
            return lambda v: {str(k): value(x) for k, x in _expect(v, dict, text).items()}
        raise TypeError(f"no wire decoder for {text}")
    if text == "Any":
        return lambda v: v
    if text == "float":
        return lambda v: float(_expect(v, int | float, text))
    found: Any = _SCALARS.get(text) or _resolve(text, module)
    if found in (int, str, bool, bytes):
        return lambda v: _expect(v, found, text)
    if isinstance(found, type) and _is_enum(found):
        return found
    if isinstance(found, type) and _field_names(found) is not None:
        return _class_decoder(found)
    raise TypeError(f"no wire decoder for {text}")


def _scalars(value: Any, kind: type, what: str) -> tuple[Any, ...]:
    """A tuple of `kind` items (a restore's 10,000 timer IDs) checked in one C-level pass; an
    item of another type is then named as any other decoder would."""
    items = _expect(value, list | tuple, what)
    if set(map(type, items)) <= {kind}:
        return tuple(items)
    return tuple(_expect(item, kind, kind) for item in items)


def _resolve(name: str, module: str) -> Any:
    """A (dotted) name as the module `module` sees it at run time."""
    first, *rest = name.split(".")
    found = vars(sys.modules[module]).get(first)
    for attr in rest:
        found = getattr(found, attr, None)
    return found


def _split_outside_brackets(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return parts


def _is_enum(cls: type) -> bool:
    """An enum class, or a Choice (records.py: an enum without the enum module). No enum
    object exists unless the enum module was loaded: not loaded here for that."""
    if issubclass(cls, Choice):
        return True
    enum = sys.modules.get("enum")
    return enum is not None and issubclass(cls, enum.Enum)


def _expect(value: Any, kind: Any, what: Any) -> Any:
    if not isinstance(value, kind):
        raise WireError(f"expected {getattr(what, '__name__', what)}, got {value!r}")
    return value


def write_all(fd: int, data: bytes | bytearray) -> None:
    """os.write until all of `data` is out (pipes take large writes in parts)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
