"""`record`: the decorator that makes timertui's frozen records (a dataclass to every caller, built
without dataclasses' per-class code generation), and building many records at once from columns
or rows; `Choice` and `IntChoice`, the base of closed sets of named constants (an enum to mypy
and to callers, without the enum module). No I/O here."""

from __future__ import annotations

import sys
from collections import deque
from itertools import repeat, starmap
from operator import attrgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, ClassVar, TypeVar, dataclass_transform

    _C = TypeVar("_C", bound=type)
    _R = TypeVar("_R")
else:

    def dataclass_transform(**_: object) -> object:
        """typing's marker for type checkers: nothing at run time (typing is not loaded)."""
        return lambda cls: cls


@dataclass_transform(frozen_default=True)
def record(cls: _C) -> _C:
    """A frozen dataclass as far as callers can tell — positional and keyword construction with
    defaults, equality within the class, hash, repr, `__match_args__`, FrozenInstanceError on
    assignment, and dataclasses.fields/replace/asdict/is_dataclass — but built without
    dataclasses' per-class code generation (an exec per method, ~0.4 ms a class on Python 3.11,
    plus ~7 ms to import dataclasses and inspect), which `timertui restore` pays at every start.

    Fields are the annotated names of the class and of its record bases, in order; ClassVar
    annotations are class attributes. A default is the class attribute of the same name; it is
    shared by every instance, so it must be immutable (a record, a tuple, a number, None).
    `__dataclass_fields__` is built on first use, by dataclasses itself, from the same fields.
    """
    names: list[str] = []
    defaults: dict[str, Any] = {}
    annotations: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        spec: _Spec | None = base.__dict__.get("__record__")
        if spec is not None:
            names += [n for n in spec.names if n not in names]
            defaults.update(spec.defaults)
            annotations.update(spec.annotations)
    # inspect.get_annotations would load inspect, most of what this decorator saves.
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        if _is_classvar(annotation):
            continue
        if name not in names:
            names.append(name)
        annotations[name] = annotation
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
        else:
            defaults.pop(name, None)
    spec = _Spec(cls, tuple(names), defaults, annotations)
    attributes: dict[str, Any] = {"__record__": spec, "__match_args__": spec.names}
    for method in _methods(spec):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        attributes[method.__name__] = method
    for attr in ("__dataclass_fields__", "__dataclass_params__"):
        attributes[attr] = _DataclassView(attr)
    for attr, value in attributes.items():
        setattr(cls, attr, value)
    return cls


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    # An evaluated ClassVar[...] exists only where typing was loaded.
    typing = sys.modules.get("typing")
    if typing is None:
        return False
    return (
        annotation is typing.ClassVar or getattr(annotation, "__origin__", None) is typing.ClassVar
    )


class _Spec:
    """A record class's fields: names in order, defaults, annotations (for dataclasses)."""

    def __init__(
        self,
        cls: type,
        names: tuple[str, ...],
        defaults: dict[str, Any],
        annotations: dict[str, Any],
    ) -> None:
        self.cls = cls
        self.names = names
        self.defaults = defaults
        self.annotations = annotations
        required = [n for n in names if n not in defaults]
        if required and names.index(required[-1]) >= len(required):
            raise TypeError(f"{cls.__name__}: non-default field {required[-1]!r} after a default")
        self.min_args = len(required)
        self.tail = tuple(defaults[n] for n in names[self.min_args :])
        self.fields = frozenset(names)

    def complete(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """The field values, in order, of a call with defaults or keywords."""
        low, high = self.min_args, len(self.names)
        if not kwargs and low <= len(args) <= high:
            return args + self.tail[len(args) - low :]
        given = {**self.defaults, **kwargs} if self.defaults else kwargs
        if not args and len(given) == high and given.keys() <= self.fields:
            return tuple(map(given.__getitem__, self.names))
        return self.bind(args, kwargs)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """The field values for any call; TypeError as a call would raise it."""
        names, where = self.names, f"{self.cls.__name__}.__init__()"
        if len(args) > len(names):
            given, most = len(args) + 1, len(names) + 1
            raise TypeError(f"{where} takes {most} positional arguments but {given} were given")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{where} got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{where} got multiple values for argument {key!r}")
            values[key] = value
        missing = [n for n in names if n not in values and n not in self.defaults]
        if missing:
            raise TypeError(f"{where} missing required arguments: {', '.join(map(repr, missing))}")
        return tuple(values[n] if n in values else self.defaults[n] for n in names)


def _methods(spec: _Spec) -> tuple[Any, ...]:
    """The methods dataclass(frozen=True) would write, as closures over the class's fields."""
    cls, names, high = spec.cls, spec.names, len(spec.names)
    # The field values as a tuple (attrgetter of one name gives the bare value).
    key: Callable[[Any], Any] = (
        attrgetter(*names) if len(names) > 1 else lambda obj: tuple(getattr(obj, n) for n in names)
    )

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs or len(args) != high:
            if not args and tuple(kwargs) == names:  # every field by keyword, in order
                self.__dict__.update(kwargs)
                return
            args = spec.complete(args, kwargs)
        # The instance's own dict, in field order, not through our __setattr__. The lengths
        # are equal by now: a strict zip would cost a tenth of a construction.
        self.__dict__.update(zip(names, args))  # noqa: B905

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        mine, theirs = self.__dict__, other.__dict__
        if len(mine) == high == len(theirs):  # fields only (no cached_property values)
            return bool(mine == theirs)
        return bool(key(self) == key(other))

    def __hash__(self: Any) -> int:
        return hash(key(self))

    def __repr__(self: Any) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{self.__class__.__qualname__}({fields})"

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            _frozen(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            _frozen(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    return __init__, __eq__, __hash__, __repr__, __setattr__, __delattr__


def build_records(cls: type[_R], *columns: Iterable[Any]) -> list[_R]:
    """Records of the record class `cls` from one column per field (in field order, no
    defaults filled in), as `list(map(cls, *columns))` gives them but ~3x faster (see
    records_from_rows)."""
    names = cls.__record__.names  # type: ignore[attr-defined]
    if len(columns) != len(names):
        raise TypeError(f"{cls.__name__}: {len(columns)} columns for {len(names)} fields")
    return records_from_rows(cls, zip(*columns, strict=True))


def records_from_rows(cls: type[_R], rows: Iterable[tuple[Any, ...]]) -> list[_R]:
    """Records of the record class `cls`, one per row of every field's value in field order.
    The field dicts and the instances are made in C loops, with no call of __init__ per
    record (what decoding 100,000 timers or planning 10,000 mostly cost)."""
    names = cls.__record__.names  # type: ignore[attr-defined]
    try:
        # A row of another length fails the display's call: no pass of its own to check.
        dicts = list(starmap(_dict_display(names), rows))
    except TypeError:
        raise TypeError(f"{cls.__name__}: a row without exactly {len(names)} fields") from None
    made = list(map(object.__new__, repeat(cls, len(dicts))))
    # object.__setattr__, past the record's frozen __setattr__: each instance gets its dict.
    deque(map(object.__setattr__, made, repeat("__dict__"), dicts), maxlen=0)
    return made


if TYPE_CHECKING:
    _Tuple = tuple[Any, ...]
else:
    _Tuple = tuple


class RecordTuple(_Tuple):
    """Records of one class made from their columns (record_tuple), which it keeps: columns()
    gives them back without a pass over the records. To everything else a tuple: equal to one,
    hashed, encoded and pickled as one (the columns stay behind)."""

    record_class: type
    kept: tuple[tuple[Any, ...], ...]

    def __reduce__(self) -> tuple[type, tuple[tuple[Any, ...]]]:
        return tuple, (tuple(self),)


def record_tuple(cls: type[_R], *field_columns: Sequence[Any]) -> tuple[_R, ...]:
    """build_records as a tuple that keeps the columns (RecordTuple): a decoder or a planner
    that has them saves its consumers a pass over 10,000 records."""
    made = RecordTuple(build_records(cls, *field_columns))
    kept = tuple(c if isinstance(c, tuple) else tuple(c) for c in field_columns)
    made.record_class, made.kept = cls, kept
    return made


def column(cls: type[_R], records: Sequence[_R], name: str) -> Sequence[Any]:
    """The values of field `name` of `records` (of the record class `cls`): the column a
    RecordTuple kept, or one attrgetter pass."""
    if type(records) is RecordTuple and records.record_class is cls:
        return records.kept[cls.__record__.names.index(name)]  # type: ignore[attr-defined]
    return list(map(attrgetter(name), records))


def columns(cls: type[_R], records: Sequence[_R]) -> list[tuple[Any, ...]]:
    """The field values of `records`, all of the record class `cls`, one tuple per field in
    field order: the ones a RecordTuple kept, or made in C loops — a record's dict holds its
    fields first and in order (every way of making one above keeps that; derived values come
    after them), so no attribute is looked up per record, ~5x faster than an attrgetter pass
    per field."""
    if type(records) is RecordTuple and records.record_class is cls:
        return list(records.kept)
    names = cls.__record__.names  # type: ignore[attr-defined]
    if not records:
        return [() for _ in names]
    if set(map(type, records)) != {cls}:
        raise TypeError(f"columns of {cls.__name__}: records of another class among them")
    return list(zip(*map(dict.values, map(vars, records)), strict=False))[: len(names)]


_DISPLAYS: dict[tuple[str, ...], Callable[..., dict[str, Any]]] = {}


def _dict_display(names: tuple[str, ...]) -> Callable[..., dict[str, Any]]:
    """`lambda a, b: {"a": a, "b": b}` for these field names: one opcode builds each dict, a
    third faster than dict(zip(names, row)). Made on first use only (an eval: the cost records
    avoid at import), once per record class."""
    made = _DISPLAYS.get(names)
    if made is None:
        params = ", ".join(f"_{i}" for i in range(len(names)))
        display = ", ".join(f"{name!r}: _{i}" for i, name in enumerate(names))
        made = _DISPLAYS[names] = eval(f"lambda {params}: {{{display}}}")
    return made


if TYPE_CHECKING:
    import functools

    cached = functools.cached_property
else:

    class cached:  # named as the decorator it stands for
        """functools.cached_property, for a record's derived value (stored in the instance's
        dict, past the frozen __setattr__), without importing functools: ~1 ms of
        `timertui restore`'s start."""

        def __init__(self, func):
            self.func = func
            self.name = func.__name__
            self.__doc__ = func.__doc__

        def __get__(self, obj, owner=None):
            if obj is None:
                return self
            value = obj.__dict__[self.name] = self.func(obj)
            return value


def _frozen(message: str) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(message)


class _DataclassView:
    """`__dataclass_fields__` / `__dataclass_params__` of a record, made on first use by
    dataclasses from the record's fields, so dataclasses' functions work on records."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: object, owner: type) -> Any:
        import dataclasses

        spec: _Spec = owner.__record__  # type: ignore[attr-defined]
        shadow = dataclasses.make_dataclass(
            owner.__name__,
            [
                (n, spec.annotations[n], dataclasses.field(default=spec.defaults[n]))
                if n in spec.defaults
                else (n, spec.annotations[n])
                for n in spec.names
            ],
            frozen=True,
        )
        for attr in ("__dataclass_fields__", "__dataclass_params__"):
            setattr(owner, attr, shadow.__dict__[attr])
        return shadow.__dict__[self.attr]


# -- closed sets of named constants -------------------------------------------------------------

if TYPE_CHECKING:
    import enum

    Choice = enum.Enum
    IntChoice = enum.IntEnum
else:

    class _ChoiceType(type):
        """Iterating a Choice class gives its members in order; calling it with a value gives the
        member that has it (ValueError for none), as an enum class does."""

        def __iter__(cls):
            return iter(cls._members_)

        def __len__(cls):
            return len(cls._members_)

        def __call__(cls, value):
            if isinstance(value, cls):
                return value
            try:
                return cls._by_value_[value]
            except (KeyError, TypeError):
                raise ValueError(f"{value!r} is not a valid {cls.__qualname__}") from None

    class Choice(metaclass=_ChoiceType):
        """What enum.Enum is to the code that uses it — members as class attributes with `name`
        and `value`, compared by identity, iterated in order, found by value, pickled by name —
        made without the enum module (~2 ms of every command's start, `timertui restore`'s
        counted). mypy sees enum.Enum (and IntEnum for IntChoice). A subclass's public class
        attributes that are plain values become its members."""

        _members_: ClassVar[tuple[Choice, ...]] = ()
        _by_value_: ClassVar[dict[object, Choice]] = {}

        def __init_subclass__(cls):
            members = []
            for name, value in list(vars(cls).items()):
                if name.startswith("_") or not isinstance(value, int | str):
                    continue
                member = cls._make_(value)
                member._name_, member._value_ = name, value
                setattr(cls, name, member)
                members.append(member)
            cls._members_ = tuple(members)
            cls._by_value_ = {m._value_: m for m in members}

        @classmethod
        def _make_(cls, value):
            return object.__new__(cls)

        @property
        def name(self):
            return self._name_

        @property
        def value(self):
            return self._value_

        def __repr__(self):
            return f"<{type(self).__qualname__}.{self._name_}: {self._value_!r}>"

        def __str__(self):
            return f"{type(self).__qualname__}.{self._name_}"

        def __reduce_ex__(self, protocol):
            return getattr, (type(self), self._name_)

        def __copy__(self):
            return self

        def __deepcopy__(self, memo):
            return self

    class IntChoice(int, Choice):
        """IntEnum's stand-in: each member is also its int value."""

        @classmethod
        def _make_(cls, value):
            return int.__new__(cls, value)

        __str__ = int.__repr__
        __format__ = int.__format__
        __hash__ = int.__hash__
        __eq__ = int.__eq__
