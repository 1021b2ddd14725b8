"""The snapshot file: what a capture saw, in a form that survives disks, mail and new versions.

Layout (all integers big-endian):

    offset size  field
    0      8     magic  b"\\x89TTSNAP\\n"  (high byte and newline catch 7-bit and text-mode copies)
    8      2     format major
    10     2     format minor
    12     4     CRC-32 of bytes 0..12, so a damaged version reads as damage, not as "newer"
    ---- the 16 bytes above stay the same in every format; what follows is format 1.x ----
    16     8     payload length (must equal the bytes that follow the header)
    24     32    SHA-256 of bytes 0..24 followed by the payload
    56     ...   payload: one msgpack map (see `_pack_snapshot`)

SHA-256 rather than CRC-32 for the payload: both catch every single flipped byte and the length
field catches truncation, but damage spread over many bytes slips past a 32-bit check once in
4 billion, and hashing costs ~0.6 ms for 10,000 timers (CPython's own SHA-256; OpenSSL's, 5x
faster per byte but ~3 ms to load, only for payloads over _OPENSSL_BYTES). Readers ignore map
keys they do not know, so a newer minor (which only adds keys) still loads; a newer major is
refused.

Minor versions: 1.1 adds each process's `container` (a map of Container's fields, or nil) and
`ns_pid`; a 1.0 file has neither and loads with both unset. 1.2 adds each process's `timerfds`
(columns, as timers), `itimers` (nil when not read, else [which, value s, value us, interval s,
interval us] each) and `problems` (strings); an older file loads with none, itimers unknown.

Timers are stored per process as columns (one array per field), which keeps files small and
decoding 10,000 timers to a few milliseconds.
"""

from __future__ import annotations

import gc
import os
import stat
import struct
import zlib
from operator import itemgetter

from timertui.errors import InputError
from timertui.model import (
    INT_MAX,
    NOTIFY_VALUES,
    SIGEV_NONE,
    SIGEV_THREAD_ID,
    Access,
    CaptureTimes,
    Container,
    HostFacts,
    IntervalTimer,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerFd,
    TimerValues,
)
from timertui.records import build_records, record, record_tuple
from timertui.signals import SIGRTMAX, valid_timer_signal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from hashlib import _Hash
    from typing import Any

# Loading a snapshot is on `timertui restore`'s start-up path: pathlib, the atomic write,
# hashlib (OpenSSL) and clocks load only where they are needed.

MAGIC = b"\x89TTSNAP\n"
FORMAT_MAJOR = 1
FORMAT_MINOR = 2

_PREAMBLE = struct.Struct(">8sHHI")
_HEADER = struct.Struct(">Q32s")
HEADER_SIZE = _PREAMBLE.size + _HEADER.size
_CRC_SPAN = _PREAMBLE.size - 4

KTIME_MAX = 2**63 - 1  # the kernel keeps timer values as signed 64-bit nanoseconds
_U64_MAX = 2**64 - 1
_INT32_MIN = -(2**31)
# Strings that are not valid UTF-8 (odd comm bytes) round-trip instead of failing the save.
_UNICODE_ERRORS = "surrogateescape"
# Payloads up to this size are read in pure Python (_unpacked): ~2 ms for 16 KiB (800 timers),
# about what msgpack's import costs; past it msgpack's C reader is the faster.
_SMALL_PAYLOAD = 16 << 10

_OPENSSL_BYTES = 1 << 20

_NONE = type(None)
_TIMER_COLUMNS = ("id", "clock", "notify", "target", "signo", "sigval")
_VALUE_COLUMNS = ("remaining_ns", "interval_ns", "overrun")
_TIMERFD_COLUMNS: tuple[str, ...] = TimerFd.__record__.names  # type: ignore[attr-defined]
_INT64 = (-(2**63), 2**63 - 1)
# The clocks timerfd_create takes (REALTIME, MONOTONIC, BOOTTIME and the two alarm clocks).
TIMERFD_CLOCKS = frozenset({0, 1, 7, 8, 9})


class SnapshotError(InputError):
    """A snapshot file that cannot be read or written; the message names the file and why."""


@record
class Problem:
    """One thing wrong in a snapshot: where (e.g. "processes[2].timers[5].id") and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# ---------------------------------------------------------------------------------------------
# Encoding


def encode(snap: Snapshot) -> bytes:
    """The complete file contents for `snap`."""
    try:
        import msgpack

        payload: bytes = msgpack.packb(_pack_snapshot(snap), unicode_errors=_UNICODE_ERRORS)
    except (OverflowError, TypeError, ValueError) as exc:
        # Only a snapshot that validate() would flag gets here (e.g. a value beyond 64 bits).
        raise SnapshotError(f"snapshot cannot be encoded: {exc}") from None
    version = MAGIC + struct.pack(">HH", FORMAT_MAJOR, FORMAT_MINOR)
    head = version + struct.pack(">IQ", zlib.crc32(version), len(payload))
    digest = _sha256(len(payload), head)
    digest.update(payload)
    return head + digest.digest() + payload


def _sha256(size: int, data: bytes | memoryview) -> _Hash:
    """A SHA-256 of `data`, to which `size` more bytes will be added: the same digest either
    way, from OpenSSL for big payloads and from CPython's own module (no library to load)
    otherwise."""
    if size <= _OPENSSL_BYTES:
        try:
            own: _Hash = __import__("_sha256").sha256(data)  # importlib costs start-up time
        except ImportError:  # a Python built without it: hashlib has the OpenSSL one
            pass
        else:
            return own
    import hashlib

    return hashlib.sha256(data)


def _pack_snapshot(snap: Snapshot) -> dict[str, Any]:
    host, times = snap.host, snap.times
    return {
        "source": snap.source,
        "host": {
            "kernel_release": host.kernel_release,
            "boot_id": host.boot_id,
            "hostname": host.hostname,
            "machine": host.machine,
            "exact_ids": host.exact_ids,
            "sigpending_soft": host.sigpending_soft,
            "sigpending_hard": host.sigpending_hard,
        },
        "times": {
            "realtime_ns": times.realtime_ns,
            "monotonic_ns": times.monotonic_ns,
            "boottime_ns": times.boottime_ns,
        },
        "processes": [_pack_process(p) for p in snap.processes],
    }


def _pack_process(proc: ProcessTimers) -> dict[str, Any]:
    # A C loop per column, over the records' field dicts (an item is quicker to get than an
    # attribute): 100,000 timers are read 9 times each.
    fields = list(map(vars, proc.timers))
    columns = {key: list(map(itemgetter(key), fields)) for key in _TIMER_COLUMNS}
    values = list(map(itemgetter("values"), fields))
    # By type: `None in values` would call TimerValues.__eq__ once a timer.
    kinds = set(map(type, values))
    if values and _NONE not in kinds:
        value_fields = list(map(vars, values))
        columns.update({key: list(map(itemgetter(key), value_fields)) for key in _VALUE_COLUMNS})
    elif kinds - {_NONE}:
        for key in _VALUE_COLUMNS:
            columns[key] = [None if v is None else getattr(v, key) for v in values]
    return {
        "pid": proc.pid,
        "ppid": proc.ppid,
        "comm": proc.comm,
        "cmdline": list(proc.cmdline),
        "uid": proc.uid,
        "user": proc.user,
        "status": proc.status,
        "tids": list(proc.tids),
        "access": proc.access.value,
        "sigpending": list(proc.sigpending) if proc.sigpending is not None else None,
        "timers": columns,
        "container": None if proc.container is None else vars(proc.container),
        "ns_pid": proc.ns_pid,
        "timerfds": {key: [getattr(t, key) for t in proc.timerfds] for key in _TIMERFD_COLUMNS},
        "itimers": None
        if proc.itimers is None
        else [[t.which, t.value_s, t.value_us, t.interval_s, t.interval_us] for t in proc.itimers],
        "problems": list(proc.problems),
    }


def save(snap: Snapshot, path: str | os.PathLike[str]) -> None:
    """Write `snap` to `path` atomically, mode 0600 (timertui.atomic): if anything fails, a file
    already at `path` stays intact and no temp file is left."""
    from pathlib import Path

    from timertui.atomic import DirectorySyncError, write_file

    dest = Path(path)
    data = encode(snap)
    try:
        write_file(dest, data)
    except DirectorySyncError as exc:
        raise SnapshotError(f"{exc.filename}: cannot sync the directory: {exc.strerror}") from None
    except OSError as exc:
        raise SnapshotError(f"{dest}: cannot write: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------------------
# Decoding


class _Bad(Exception):
    """A field of the payload is missing or of the wrong type or value."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")


def load(path: str | os.PathLike[str]) -> Snapshot:
    """Read and check a snapshot file; any fault raises SnapshotError naming the file."""
    src = os.fspath(path)
    try:
        with open(src, "rb") as f:  # noqa: PTH123
            head = f.read(HEADER_SIZE)
            if not head or not MAGIC.startswith(head[: len(MAGIC)]):
                # Checked before reading the rest, so a huge unrelated file is not read whole.
                raise SnapshotError(f"{src}: not a timertui snapshot (no snapshot magic)")
            info = os.fstat(f.fileno())
            if len(head) == HEADER_SIZE and stat.S_ISREG(info.st_mode):
                # The same: a (sparse) file far longer than its header says is not read.
                _check_header(head, info.st_size - HEADER_SIZE, src)
            data = head + f.read()
    except IsADirectoryError:
        raise SnapshotError(f"{src}: is a directory, not a snapshot file") from None
    except OSError as exc:
        raise SnapshotError(f"{src}: cannot read: {exc.strerror or exc}") from None
    return decode(data, src)


def decode(data: bytes, name: str = "<bytes>") -> Snapshot:
    """Check the header and integrity, then build the Snapshot; SnapshotError on any fault."""
    if not data or not data.startswith(MAGIC[: len(data)]):
        raise SnapshotError(f"{name}: not a timertui snapshot (no snapshot magic)")
    if len(data) < HEADER_SIZE:
        raise SnapshotError(f"{name}: truncated: {len(data)} bytes, shorter than the header")
    _check_header(data, len(data) - HEADER_SIZE, name)
    digest = _HEADER.unpack_from(data, _PREAMBLE.size)[1]
    view = memoryview(data)
    check = _sha256(len(view) - HEADER_SIZE, view[: _PREAMBLE.size + 8])
    check.update(view[HEADER_SIZE:])
    if check.digest() != digest:
        raise SnapshotError(f"{name}: damaged: the payload fails its SHA-256 check")
    tree = _unpacked(view[HEADER_SIZE:], name)
    try:
        with _collector_paused():
            return _unpack_snapshot(tree)
    except _Bad as exc:
        raise SnapshotError(f"{name}: {exc}") from None


def _unpacked(payload: memoryview, name: str) -> Any:
    """The payload's msgpack tree. A small one is read by the standard-library reader the remote
    agent carries (same values: tests/unit/test_snapshot.py): msgpack's import, ~2.5 ms with the
    datetime module it loads, would be most of `timertui restore`'s start for a few timers."""
    if len(payload) <= _SMALL_PAYLOAD:
        from timertui.remote.agent import wire

        try:
            return wire.unpackb(bytes(payload), _UNICODE_ERRORS, strict_map_key=True)
        except wire.WireError as exc:
            raise SnapshotError(f"{name}: the payload is not valid msgpack: {exc}") from None
    import msgpack

    try:
        return msgpack.unpackb(payload, unicode_errors=_UNICODE_ERRORS)
    except (ValueError, msgpack.UnpackException) as exc:
        raise SnapshotError(f"{name}: the payload is not valid msgpack: {exc}") from None


class _collector_paused:  # a context manager, as contextlib's decorator would make it
    """No cyclic collection while thousands of timers are built: they hold no cycles, and the
    passes the allocations would set off (each walking every object so far) take more than
    half of decoding 100,000 timers. Then they go to the oldest generation without a pass
    (frozen and thawed), not to the young one, whose next collection would walk them all;
    not when something else is frozen, which the thaw would let go. (A class, not
    contextlib's decorator: contextlib costs `timertui restore`'s start ~1 ms.)"""

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *_: object) -> None:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        if self.enabled:
            gc.enable()


def _check_header(head: bytes, held: int, name: str) -> None:
    """The version header's checksum and version, and its payload length against the `held`
    bytes that follow the header."""
    _, major, minor, crc = _PREAMBLE.unpack_from(head)
    if zlib.crc32(head[:_CRC_SPAN]) != crc:
        raise SnapshotError(f"{name}: damaged: the version header fails its checksum")
    if major > FORMAT_MAJOR:
        raise SnapshotError(
            f"{name}: snapshot format {major}.x is newer than this timertui "
            f"({FORMAT_MAJOR}.x); upgrade"
        )
    if major < FORMAT_MAJOR:
        raise SnapshotError(f"{name}: snapshot format {major}.{minor} is not supported")
    length = _HEADER.unpack_from(head, _PREAMBLE.size)[0]
    if length != held:
        raise SnapshotError(
            f"{name}: damaged or truncated: the header says {length} payload bytes, "
            f"the file holds {held}"
        )


def _need(obj: dict[str, Any], key: str, path: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise _Bad(_join(path, key), "missing") from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _typed(kind: type, what: str, nullable: bool = False) -> Callable[[Any, str, str], Any]:
    def get(obj: dict[str, Any], key: str, path: str) -> Any:
        value = _need(obj, key, path)
        # `type(...) is` so that msgpack's true/false never pass for integers.
        if type(value) is kind or (nullable and value is None):
            return value
        raise _Bad(_join(path, key), f"expected {what}, got {_describe(value)}")

    return get


_int = _typed(int, "an integer")
_str = _typed(str, "a string")
_map = _typed(dict, "a map")
_list = _typed(list, "an array")
_bool_or_nil = _typed(bool, "true, false or nil", nullable=True)
_int_or_nil = _typed(int, "an integer or nil", nullable=True)


_TYPE_NAMES = {int: "an integer", str: "a string", dict: "a map", list: "an array"}


def _describe(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "a boolean"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _items(
    values: list[Any], kind: type, path: str, suffix: str = "", nullable: bool = False
) -> list[Any]:
    """`values` when every element has type `kind` exactly (or is nil when `nullable`);
    otherwise a _Bad naming the first wrong element as path[index]suffix."""
    allowed = {kind, type(None)} if nullable else {kind}
    if set(map(type, values)) <= allowed:  # the fast path: one C-level pass
        return values
    index, bad = next((i, v) for i, v in enumerate(values) if type(v) not in allowed)
    raise _Bad(f"{path}[{index}]{suffix}", f"expected {_TYPE_NAMES[kind]}, got {_describe(bad)}")


def _unpack_snapshot(tree: Any) -> Snapshot:
    if type(tree) is not dict:
        raise _Bad("payload", f"expected a map, got {_describe(tree)}")
    host = _map(tree, "host", "")
    times = _map(tree, "times", "")
    processes = _list(tree, "processes", "")
    return Snapshot(
        host=HostFacts(
            kernel_release=_str(host, "kernel_release", "host"),
            boot_id=_str(host, "boot_id", "host"),
            hostname=_str(host, "hostname", "host"),
            machine=_str(host, "machine", "host"),
            exact_ids=_bool_or_nil(host, "exact_ids", "host"),
            sigpending_soft=_int(host, "sigpending_soft", "host"),
            sigpending_hard=_int(host, "sigpending_hard", "host"),
        ),
        times=CaptureTimes(
            realtime_ns=_int(times, "realtime_ns", "times"),
            monotonic_ns=_int(times, "monotonic_ns", "times"),
            boottime_ns=_int(times, "boottime_ns", "times"),
        ),
        processes=tuple(_unpack_process(p, f"processes[{i}]") for i, p in enumerate(processes)),
        source=_str(tree, "source", ""),
    )


def _unpack_process(proc: Any, path: str) -> ProcessTimers:
    if type(proc) is not dict:
        raise _Bad(path, f"expected a map, got {_describe(proc)}")
    access = _str(proc, "access", path)
    try:
        state = Access(access)
    except ValueError:
        raise _Bad(f"{path}.access", f"unknown access state {access!r}") from None
    sigpending = proc.get("sigpending")
    if sigpending is not None:
        pair = _items(_list(proc, "sigpending", path), int, f"{path}.sigpending")
        if len(pair) != 2:
            raise _Bad(f"{path}.sigpending", f"expected [soft, hard], got {len(pair)} values")
        sigpending = (pair[0], pair[1])
    return ProcessTimers(
        pid=_int(proc, "pid", path),
        ppid=_int(proc, "ppid", path),
        comm=_str(proc, "comm", path),
        cmdline=tuple(_items(_list(proc, "cmdline", path), str, f"{path}.cmdline")),
        uid=_int(proc, "uid", path),
        user=_str(proc, "user", path),
        status=_str(proc, "status", path),
        tids=tuple(_items(_list(proc, "tids", path), int, f"{path}.tids")),
        timers=_unpack_timers(_map(proc, "timers", path), f"{path}.timers"),
        access=state,
        sigpending=sigpending,
        container=_unpack_container(proc.get("container"), f"{path}.container"),
        ns_pid=_int_or_nil(proc, "ns_pid", path) if "ns_pid" in proc else None,
        timerfds=_unpack_timerfds(proc, path),
        itimers=_unpack_itimers(proc, path),
        problems=tuple(_items(_list(proc, "problems", path), str, f"{path}.problems"))
        if "problems" in proc
        else (),
    )


def _unpack_timerfds(proc: dict[str, Any], path: str) -> tuple[TimerFd, ...]:
    """A process's timerfds (format 1.2): columns of integers, one per TimerFd field."""
    if "timerfds" not in proc:
        return ()
    columns, where = _map(proc, "timerfds", path), f"{path}.timerfds"
    count = len(_list(columns, "fd", where))
    values = []
    for key in _TIMERFD_COLUMNS:
        column: list[Any] = _list(columns, key, where)
        if len(column) != count:
            raise _Bad(f"{where}.{key}", f"{len(column)} values for {count} timerfds")
        values.append(_items(column, int, where, f".{key}"))
    return tuple(build_records(TimerFd, *values))


def _unpack_itimers(proc: dict[str, Any], path: str) -> tuple[IntervalTimer, ...] | None:
    """A process's interval timers (format 1.2): nil (not read), or 5 integers each."""
    if proc.get("itimers") is None:
        return None
    found = []
    for index, item in enumerate(_list(proc, "itimers", path)):
        where = f"{path}.itimers[{index}]"
        if type(item) is not list or len(item) != 5:
            raise _Bad(
                where,
                f"expected [which, value s, value us, interval s, interval us], "
                f"got {_describe(item)}",
            )
        found.append(IntervalTimer(*_items(item, int, where)))
    return tuple(found)


_CONTAINER_FIELDS = Container.__record__.names  # type: ignore[attr-defined]


def _unpack_container(value: Any, path: str) -> Container | None:
    """A process's container (format 1.1): nil or a map of strings; keys it does not know are
    a newer minor's and ignored, missing ones empty."""
    if value is None:
        return None
    if type(value) is not dict:
        raise _Bad(path, f"expected a map or nil, got {_describe(value)}")
    fields = {}
    for key in _CONTAINER_FIELDS:
        if key in value:
            fields[key] = _str(value, key, path)
    for key in ("runtime", "id"):
        fields.setdefault(key, _need(value, key, path))
    return Container(**fields)


def _unpack_timers(columns: dict[str, Any], path: str) -> tuple[Timer, ...]:
    count = len(_list(columns, "id", path))

    def column(key: str, nullable: bool = False) -> list[Any]:
        values: list[Any] = _list(columns, key, path)
        if len(values) != count:
            raise _Bad(f"{path}.{key}", f"{len(values)} values for {count} timers")
        return _items(values, int, path, f".{key}", nullable)

    # As tuples that keep their columns (records.record_tuple): a restore plans from them.
    base = [column(key) for key in _TIMER_COLUMNS]
    if "remaining_ns" not in columns:
        return record_tuple(Timer, *base, (None,) * count)
    remaining, interval, overrun = (column(key, nullable=True) for key in _VALUE_COLUMNS)
    if None not in remaining and None not in interval and None not in overrun:
        # The usual deep capture: every timer has values, so no per-timer checks.
        every = record_tuple(TimerValues, remaining, interval, overrun)
        return record_tuple(Timer, *base, every)
    values: list[TimerValues | None] = []
    for index, (rem, ival, over) in enumerate(zip(remaining, interval, overrun, strict=True)):
        if rem is not None and ival is not None and over is not None:
            values.append(TimerValues(rem, ival, over))
        elif rem is None and ival is None and over is None:
            values.append(None)
        else:
            raise _Bad(
                f"{path}[{index}]", "remaining_ns, interval_ns and overrun must be all set or nil"
            )
    return record_tuple(Timer, *base, values)


# ---------------------------------------------------------------------------------------------
# Validation


def validate(snap: Snapshot) -> list[Problem]:
    """Every problem in `snap` at once, each with its field path; an empty list when sound."""
    problems: list[Problem] = []
    seen_pids: dict[int, int] = {}
    for index, proc in enumerate(snap.processes):
        path = f"processes[{index}]"
        if proc.pid in seen_pids:
            problems.append(
                Problem(
                    f"{path}.pid",
                    f"duplicate pid {proc.pid} (also processes[{seen_pids[proc.pid]}])",
                )
            )
        else:
            seen_pids[proc.pid] = index
        problems.extend(_process_problems(proc, path))
    return problems


def _process_problems(proc: ProcessTimers, path: str) -> Iterator[Problem]:
    tids = frozenset(proc.tids)
    first_index: dict[int, int] = {}
    for index, timer in enumerate(proc.timers):
        # The path is built only for a timer with problems: most have none.
        found = list(_timer_problems(timer, tids))
        if timer.id in first_index:
            found.insert(
                0, ("id", f"duplicate timer ID {timer.id} (also timers[{first_index[timer.id]}])")
            )
        else:
            first_index[timer.id] = index
        for field, message in found:
            yield Problem(f"{path}.timers[{index}].{field}", message)
    yield from _timerfd_problems(proc, path)
    yield from _itimer_problems(proc, path)


def _timerfd_problems(proc: ProcessTimers, path: str) -> Iterator[Problem]:
    seen: dict[int, int] = {}
    for index, t in enumerate(proc.timerfds):
        where = f"{path}.timerfds[{index}]"
        if not 0 <= t.fd <= INT_MAX:
            yield Problem(f"{where}.fd", f"fd {t.fd} outside 0..{INT_MAX}")
        elif t.fd in seen:
            yield Problem(f"{where}.fd", f"duplicate fd {t.fd} (also timerfds[{seen[t.fd]}])")
        seen.setdefault(t.fd, index)
        if t.clock not in TIMERFD_CLOCKS:
            yield Problem(f"{where}.clock", f"clock {t.clock} is not one timerfd_create takes")
        for key, high in (
            ("ticks", _U64_MAX),
            ("remaining_ns", KTIME_MAX),
            ("interval_ns", KTIME_MAX),
            ("deadline_ns", KTIME_MAX),
        ):
            value = getattr(t, key)
            if not 0 <= value <= high:
                yield Problem(f"{where}.{key}", f"{key} {value} outside 0..{high}")
        if not 0 <= t.settime_flags <= 3:
            yield Problem(
                f"{where}.settime_flags", f"settime flags {t.settime_flags} not within 0..3"
            )
        if not 0 <= t.flags <= INT_MAX:
            yield Problem(f"{where}.flags", f"flags {t.flags} outside 0..{INT_MAX}")


def _itimer_problems(proc: ProcessTimers, path: str) -> Iterator[Problem]:
    """Which timer each is, once; values only within 64 bits (a value out of the kernel's
    range is kept, for the restore to decide on: CRIU's "Invalid timer value")."""
    seen: set[int] = set()
    for index, t in enumerate(proc.itimers or ()):
        where = f"{path}.itimers[{index}]"
        if t.which not in (0, 1, 2) or t.which in seen:
            yield Problem(f"{where}.which", f"which {t.which} is not a new one of 0, 1, 2")
        seen.add(t.which)
        for key in ("value_s", "value_us", "interval_s", "interval_us"):
            value = getattr(t, key)
            if not _INT64[0] <= value <= _INT64[1]:
                yield Problem(f"{where}.{key}", f"{key} {value} outside the signed 64-bit range")


def _clock_problem(clock: int) -> str | None:
    """What is wrong with a clock ID for timers; remembered, as a process uses few clocks (at
    most _CLOCKS_KEPT, should a hostile file hold many)."""
    if clock in _CLOCK_PROBLEMS:
        return _CLOCK_PROBLEMS[clock]
    if len(_CLOCK_PROBLEMS) >= _CLOCKS_KEPT:
        _CLOCK_PROBLEMS.clear()
    problem = _CLOCK_PROBLEMS[clock] = _find_clock_problem(clock)
    return problem


_CLOCK_PROBLEMS: dict[int, str | None] = {}
_CLOCKS_KEPT = 256


def _find_clock_problem(clock: int) -> str | None:
    if not _INT32_MIN <= clock <= INT_MAX:
        return f"clock {clock} outside the 32-bit range"
    from timertui.clocks import decode_clock

    info = decode_clock(clock)
    return None if info.timer_allowed else f"clock {clock} ({info.name}) not usable for timers"


def _timer_problems(timer: Timer, tids: frozenset[int]) -> Iterator[tuple[str, str]]:
    """(field, message) for each problem of one timer, the duplicate-ID check aside."""
    if not 0 <= timer.id <= INT_MAX:
        yield "id", f"timer ID {timer.id} outside 0..{INT_MAX}"
    clock = _clock_problem(timer.clock)
    if clock is not None:
        yield "clock", clock
    if timer.notify not in NOTIFY_VALUES:
        yield "notify", f"notify {timer.notify} is not one of 0, 1, 2, 4"
    elif timer.notify != SIGEV_NONE and not valid_timer_signal(timer.signo):
        yield "signo", f"signal {timer.signo} out of range 1..{SIGRTMAX}"
    if timer.notify == SIGEV_THREAD_ID and timer.target not in tids:
        yield "target", f"thread target {timer.target} not among the process's TIDs {sorted(tids)}"
    if not 0 <= timer.sigval <= _U64_MAX:
        yield "sigval", f"sigval {timer.sigval} outside the unsigned 64-bit range"
    if timer.values is not None:
        for key, value, high in (
            ("remaining_ns", timer.values.remaining_ns, KTIME_MAX),
            ("interval_ns", timer.values.interval_ns, KTIME_MAX),
            ("overrun", timer.values.overrun, INT_MAX),
        ):
            if not 0 <= value <= high:
                yield f"values.{key}", f"{key} {value} outside 0..{high}"
