"""Frozen records and dataclasses to plain values (dicts, lists, ints, str) and back, for msgpack
and JSON.

One generic converter for events and plans: nested records (timertui.records.record) and
dataclasses become dicts, tuples lists, enums their values; decoding follows the field
annotations, so the classes stay the single schema.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
import types
import typing
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
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        # Schema tuples are homogeneous: plain items (10,000 timer IDs) go as they are, which
        # msgpack and json both write as arrays.
        if obj and type(obj[0]) in _PLAIN:
            return obj
        return [to_wire(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_wire(v) for k, v in obj.items()}
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
    decoded: T = _decoder(typing.cast(Any, cls))(data)
    return decoded


def prepare_decoder(cls: type) -> None:
    """Build from_wire's decoder for `cls` now (it resolves the annotations of every class
    inside), for a reader that has time to spare before the data comes."""
    _decoder(cls)


@functools.cache
def _decoder(tp: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [_decoder(a) for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp}")
        only = inner[0]
        return lambda v: None if v is None else only(v)
    if origin is tuple:
        item = _decoder(args[0])
        return lambda v: tuple(item(x) for x in _expect(v, list | tuple, tp))
    if origin is dict:
        value = _decoder(args[1])
        return lambda v: {str(k): value(x) for k, x in _expect(v, dict, tp).items()}
    if origin is typing.Literal:
        return lambda v: _expect(v, str | int, tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if isinstance(tp, type) and _field_names(tp) is not None:
        return _dataclass_decoder(tp)
    if tp is float:
        return lambda v: float(_expect(v, int | float, tp))
    if tp in (int, str, bool):
        return lambda v: _expect(v, tp, tp)
    if tp is Any:
        return lambda v: v
    raise TypeError(f"no wire decoder for {tp}")


def _dataclass_decoder(cls: type) -> Callable[[Any], Any]:
    names = _field_names(cls) or ()
    fields = [(name, _decoder(_field_type(cls, name))) for name in names]

    def decode(v: Any) -> Any:
        data = _expect(v, dict, cls)
        try:
            return cls(**{name: dec(data[name]) for name, dec in fields if name in data})
        except TypeError as exc:
            raise WireError(f"{cls.__name__}: {exc}") from None

    return decode


def _field_type(cls: type, name: str) -> Any:
    """The evaluated annotation of field `name` of `cls` (or of the base that declares it), as
    typing.get_type_hints gives it. Each annotation string is evaluated once per module:
    get_type_hints compiles every annotation of every class again, ~5 ms for the event
    classes, which `timertui restore` pays."""
    for base in cls.__mro__:
        annotation = base.__dict__.get("__annotations__", {}).get(name)  # noqa: RUF063
        if annotation is not None:
            if isinstance(annotation, str):
                return _evaluated(annotation, base.__module__)
            return annotation
    raise TypeError(f"{cls.__name__}.{name} has no annotation")


@functools.cache
def _evaluated(annotation: str, module: str) -> Any:
    return eval(annotation, vars(sys.modules[module]))  # our own modules' annotations


def _expect(value: Any, kind: Any, what: Any) -> Any:
    if not isinstance(value, kind):
        raise WireError(f"expected {getattr(what, '__name__', what)}, got {value!r}")
    return value


def write_all(fd: int, data: bytes) -> None:
    """os.write until all of `data` is out (pipes take large writes in parts)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
