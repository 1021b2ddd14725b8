"""CRIU image import without a CRIU install: pstree.img, core-PID.img and inventory.img decoded
field by field, or crit's JSON of them (`crit decode --pretty`), into a normal Snapshot.

Image framing (criu/image.c, lib/pycriu/images/images.py): a little-endian u32 IMG_COMMON_MAGIC
(IMG_SERVICE_MAGIC for service files), then the u32 magic of the image type; inventory.img and
pre-1.1 images carry only the type magic. Then entries, each a u32 length and a protobuf message.
Field numbers follow CRIU's images/*.proto: core.proto (core_entry: mtype=1, tc=3, thread_core=5;
task_core_entry: task_state=1, comm=6, timers=7, rlimits=8; thread_core_entry: creds=10),
timer.proto (task_timers_entry.posix=4, posix_timer_entry 1..11), pstree.proto, rlimit.proto,
creds.proto (uid=1) and inventory.proto (dump_uptime=8).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from timertui.clocks import to_int32
from timertui.errors import InputError
from timertui.model import (
    SIGEV_THREAD_ID,
    CaptureTimes,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerValues,
)
from timertui.snapshot import KTIME_MAX

IMG_COMMON_MAGIC = 0x54564319
IMG_SERVICE_MAGIC = 0x55105940
INVENTORY_MAGIC = 0x58313116
PSTREE_MAGIC = 0x50273030
CORE_MAGIC = 0x55053847

# pstree, core and inventory images hold a few KiB (a core with 100,000 timers about 5 MB, its
# crit JSON about 25 MB): anything larger is not one of them.
_MAX_FILE_BYTES = 64 << 20
RLIMIT_SIGPENDING = 11  # index into task_rlimits_entry.rlimits, as in <asm-generic/resource.h>
_NS = 1_000_000_000

# core_entry.march, and the machine name each stands for (CRIU's own spelling, lowercased).
_MARCH = ("UNKNOWN", "X86_64", "ARM", "AARCH64", "PPC64", "S390", "MIPS", "LOONGARCH64", "RISCV64")
_MARCH_NUMBERS = {name: number for number, name in enumerate(_MARCH)}
# task_state values are compel's (COMPEL_TASK_*); CRIU dumps zombies as TASK_DEAD.
_TASK_STATES = {1: "alive", 2: "zombie", 3: "stopped", 6: "zombie"}
# crit's names for task_state (pycriu's gen_maps), turned back into the numbers crit read.
_CRIT_TASK_STATES = {"Alive": 1, "Zombie": 3, "Stopped": 6}

_CORE_FILE = re.compile(r"core-([0-9]{1,10})\.img")
_CORE_JSON = re.compile(r"core-([0-9]{1,10})\..*json")
_UNKNOWN_UID = -1  # what the capture layer records for an owner it could not read


class CriuError(InputError):
    """A CRIU image directory or crit JSON we cannot import; names the file and the fault."""


class _Malformed(Exception):
    """A field is missing, of the wrong wire type, or out of range; `str` is "path: problem"."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'entry'}: {message}")


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# ---------------------------------------------------------------------------------------------
# Field access shared by the binary images and crit's JSON


class _Fields(Protocol):
    """One message, from either source: a field is asked for by its number and its name."""

    path: str

    def opt_uint(
        self, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
    ) -> int | None: ...

    def opt_int32(self, num: int, name: str) -> int | None: ...

    def opt_string(self, num: int, name: str) -> str | None: ...

    def message(self, num: int, name: str) -> _Fields | None: ...

    def messages(self, num: int, name: str) -> list[_Fields]: ...

    def uints(self, num: int, name: str, bits: int = 64) -> list[int]: ...


def _uint(
    msg: _Fields, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
) -> int:
    """A required unsigned field."""
    value = msg.opt_uint(num, name, bits, names)
    if value is None:
        raise _Malformed(_child(msg.path, name), "required field missing")
    return value


def _in_bits(value: int, bits: int, path: str) -> int:
    if not 0 <= value < 1 << bits:
        raise _Malformed(path, f"{value} does not fit uint{bits}")
    return value


# ---------------------------------------------------------------------------------------------
# Protobuf wire format

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
                raise _Malformed(path, f"varint at byte {pos} exceeds 64 bits")
            return value, index + 1
        shift += 7
    if end - pos >= _MAX_VARINT_BYTES:
        raise _Malformed(path, f"varint at byte {pos} is longer than 10 bytes")
    raise _Malformed(path, f"varint at byte {pos} runs past the end of its message")


class _PbMessage:
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
                raise _Malformed(path, f"field number 0 at byte {pos}")
            if wire == _VARINT:
                value, pos = _varint(buf, pos, end, path)
                occurrence = (wire, value, 0)
            elif wire == _LEN:
                size, pos = _varint(buf, pos, end, path)
                if size > end - pos:
                    raise _Malformed(
                        path, f"field {num} claims {size} bytes, {end - pos} remain in its message"
                    )
                occurrence = (wire, pos, pos + size)
                pos += size
            elif wire in (_FIXED32, _FIXED64):
                size = 4 if wire == _FIXED32 else 8
                if size > end - pos:
                    raise _Malformed(path, f"field {num} runs past the end of its message")
                occurrence = (wire, int.from_bytes(buf[pos : pos + size], "little"), 0)
                pos += size
            else:
                raise _Malformed(path, f"field {num} has wire type {wire}, unused by CRIU")
            self.fields.setdefault(num, []).append(occurrence)

    def _last(self, num: int, name: str, wire: int) -> tuple[int, int, int] | None:
        found = self.fields.get(num)
        if not found:
            return None
        occurrence = found[-1]  # protobuf: the last value of a scalar wins
        if occurrence[0] != wire:
            raise _Malformed(
                _child(self.path, name),
                f"wire type {_WIRE_NAMES[occurrence[0]]}, expected {_WIRE_NAMES[wire]}",
            )
        return occurrence

    def opt_uint(
        self, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
    ) -> int | None:
        found = self._last(num, name, _VARINT)
        return None if found is None else _in_bits(found[1], bits, _child(self.path, name))

    def opt_int32(self, num: int, name: str) -> int | None:
        found = self._last(num, name, _VARINT)
        return None if found is None else to_int32(found[1])

    def opt_string(self, num: int, name: str) -> str | None:
        found = self._last(num, name, _LEN)
        if found is None:
            return None
        # Odd bytes in a comm stay visible, as the /proc reader shows them.
        return self.buf[found[1] : found[2]].decode("utf-8", "backslashreplace")

    def message(self, num: int, name: str) -> _PbMessage | None:
        ranges = self._ranges(num, name)
        return _PbMessage(self.buf, ranges, _child(self.path, name)) if ranges else None

    def messages(self, num: int, name: str) -> list[_Fields]:
        return [
            _PbMessage(self.buf, [r], f"{_child(self.path, name)}[{i}]")
            for i, r in enumerate(self._ranges(num, name))
        ]

    def _ranges(self, num: int, name: str) -> list[tuple[int, int]]:
        ranges = []
        for wire, start, end in self.fields.get(num, ()):
            if wire != _LEN:
                raise _Malformed(
                    _child(self.path, name), f"wire type {_WIRE_NAMES[wire]}, expected a message"
                )
            ranges.append((start, end))
        return ranges

    def uints(self, num: int, name: str, bits: int = 64) -> list[int]:
        """A repeated unsigned field, written one by one or packed."""
        path = _child(self.path, name)
        values: list[int] = []
        for wire, a, b in self.fields.get(num, ()):
            if wire == _VARINT:
                values.append(_in_bits(a, bits, path))
            elif wire == _LEN:
                pos = a
                while pos < b:
                    value, pos = _varint(self.buf, pos, b, path)
                    values.append(_in_bits(value, bits, path))
            else:
                raise _Malformed(path, f"wire type {_WIRE_NAMES[wire]}, expected varints")
        return values


# ---------------------------------------------------------------------------------------------
# crit's JSON


class _JsonMessage:
    """A message as `crit decode --pretty` prints it: names for fields, enums and task states,
    and hex strings for the fields CRIU marks as hex."""

    def __init__(self, obj: dict[str, Any], path: str) -> None:
        self.obj = obj
        self.path = path

    def opt_uint(
        self, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
    ) -> int | None:
        value = self.obj.get(name)
        if value is None:
            return None
        path = _child(self.path, name)
        if names is not None and isinstance(value, str) and value in names:
            return names[value]
        return _in_bits(_json_int(value, path), bits, path)

    def opt_int32(self, num: int, name: str) -> int | None:
        value = self.obj.get(name)
        if value is None:
            return None
        path = _child(self.path, name)
        number = _json_int(value, path)
        if not -(2**31) <= number < 2**31:
            raise _Malformed(path, f"{number} does not fit int32")
        return number

    def opt_string(self, num: int, name: str) -> str | None:
        value = self.obj.get(name)
        if value is None or isinstance(value, str):
            return value
        raise _Malformed(_child(self.path, name), f"expected a string, got {value!r}")

    def message(self, num: int, name: str) -> _JsonMessage | None:
        value = self.obj.get(name)
        return None if value is None else _json_object(value, _child(self.path, name))

    def messages(self, num: int, name: str) -> list[_Fields]:
        path = _child(self.path, name)
        return [
            _json_object(v, f"{path}[{i}]") for i, v in enumerate(_json_list(self.obj, name, path))
        ]

    def uints(self, num: int, name: str, bits: int = 64) -> list[int]:
        path = _child(self.path, name)
        return [
            _in_bits(_json_int(v, f"{path}[{i}]"), bits, f"{path}[{i}]")
            for i, v in enumerate(_json_list(self.obj, name, path))
        ]


def _json_int(value: Any, path: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)  # crit prints (criu).hex fields as "0x..."
        except ValueError:
            pass
    raise _Malformed(path, f"expected an integer, got {value!r}")


def _json_object(value: Any, path: str) -> _JsonMessage:
    if not isinstance(value, dict):
        raise _Malformed(path, f"expected an object, got {type(value).__name__}")
    return _JsonMessage(value, path)


def _json_list(obj: dict[str, Any], name: str, path: str) -> list[Any]:
    value = obj.get(name, [])
    if not isinstance(value, list):
        raise _Malformed(path, f"expected an array, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------
# From messages to the model


@dataclass(frozen=True)
class _Task:
    """One pstree entry."""

    pid: int
    ppid: int
    threads: tuple[int, ...]


def _task(entry: _Fields) -> _Task:
    return _Task(
        pid=_uint(entry, 1, "pid", 32),
        ppid=_uint(entry, 2, "ppid", 32),
        threads=tuple(entry.uints(5, "threads", 32)),
    )


def _process(core: _Fields, task: _Task) -> tuple[ProcessTimers, str]:
    """The process a leader's core entry describes, and the machine it names."""
    march = _uint(core, 1, "mtype", 32, _MARCH_NUMBERS)
    tc = core.message(3, "tc")
    if tc is None:
        raise _Malformed(_child(core.path, "tc"), "missing: no task core (a thread's image?)")
    state = _uint(tc, 1, "task_state", 32, _CRIT_TASK_STATES)
    comm = tc.opt_string(6, "comm")
    if comm is None:
        raise _Malformed(_child(tc.path, "comm"), "required field missing")
    timers_msg = tc.message(7, "timers")
    posix = timers_msg.messages(4, "posix") if timers_msg is not None else []
    rlimits_msg = tc.message(8, "rlimits")
    rlimits = rlimits_msg.messages(1, "rlimits") if rlimits_msg is not None else []
    sigpending = None
    if len(rlimits) > RLIMIT_SIGPENDING:
        limit = rlimits[RLIMIT_SIGPENDING]
        sigpending = (_uint(limit, 1, "cur"), _uint(limit, 2, "max"))
    thread_core = core.message(5, "thread_core")
    creds = thread_core.message(10, "creds") if thread_core is not None else None
    uid = _uint(creds, 1, "uid", 32) if creds is not None else _UNKNOWN_UID
    timers = sorted((_timer(entry, task.pid) for entry in posix), key=lambda t: t.id)
    proc = ProcessTimers(
        pid=task.pid,
        ppid=task.ppid,
        comm=comm,
        cmdline=(),  # the arguments live in the memory pages, which we do not read
        uid=uid,
        user="",  # the images name no user; this host's passwd may not be the dump host's
        status=_TASK_STATES.get(state, f"task state {state}"),
        tids=task.threads,
        timers=tuple(timers),
        sigpending=sigpending,
    )
    return proc, _MARCH[march].lower() if 0 < march < len(_MARCH) else ""


def _timer(entry: _Fields, pid: int) -> Timer:
    notify = _uint(entry, 4, "it_sigev_notify", 32)
    thread = entry.opt_int32(11, "notify_thread_id")
    return Timer(
        id=_uint(entry, 1, "it_id", 32),
        clock=to_int32(_uint(entry, 2, "clock_id", 32)),  # clockid_t, stored as uint32
        notify=notify,
        target=(thread or 0) if notify & SIGEV_THREAD_ID else pid,
        signo=to_int32(_uint(entry, 3, "si_signo", 32)),
        sigval=_uint(entry, 5, "sival_ptr"),
        values=TimerValues(
            remaining_ns=_nanoseconds(entry, 9, "vsec", 10, "vnsec"),
            interval_ns=_nanoseconds(entry, 7, "isec", 8, "insec"),
            overrun=_uint(entry, 6, "overrun", 32),
        ),
    )


def _nanoseconds(entry: _Fields, sec_num: int, sec: str, nsec_num: int, nsec: str) -> int:
    seconds, nanos = _uint(entry, sec_num, sec), _uint(entry, nsec_num, nsec)
    if nanos >= _NS:
        raise _Malformed(_child(entry.path, nsec), f"{nanos} is not below one second")
    total = seconds * _NS + nanos
    if total > KTIME_MAX:
        raise _Malformed(_child(entry.path, sec), f"{seconds} s is beyond the kernel's range")
    return total


def _snapshot(
    source: str,
    tasks: list[_Task],
    cores: Mapping[int, tuple[str, _Fields]],
    uptime_us: int | None,
) -> Snapshot:
    """Put processes together; `cores` maps a tid to (file name, core entry)."""
    processes = []
    machine = ""
    for task in tasks:
        if task.pid not in cores:
            raise CriuError(f"{source}: no core image for pid {task.pid} listed in the pstree")
        name, core = cores[task.pid]
        try:
            proc, arch = _process(core, task)
        except _Malformed as exc:
            raise CriuError(f"{name}: {exc}") from None
        processes.append(proc)
        machine = machine or arch
    host = HostFacts(
        kernel_release="",
        boot_id="",
        hostname="",
        machine=machine,
        exact_ids=None,
        sigpending_soft=0,
        sigpending_hard=0,
    )
    # inventory's dump_uptime (only with --track-mem) is /proc/uptime at dump: boot time, in µs.
    boottime = uptime_us * 1000 if uptime_us is not None else 0
    return Snapshot(host, CaptureTimes(0, 0, boottime), tuple(processes), source=f"criu:{source}")


def _check_tree(source: str, tasks: list[_Task], core_tids: dict[int, str]) -> None:
    """Every pid once, and no core image for a task the pstree does not list (a pstree cut
    short at an entry boundary would otherwise import without complaint)."""
    if not tasks:
        raise CriuError(f"{source}: the pstree lists no tasks")
    listed: set[int] = set()
    for task in tasks:
        if task.pid in listed:
            raise CriuError(f"{source}: pid {task.pid} appears twice in the pstree")
        listed.add(task.pid)
        listed.update(task.threads)
    for tid, name in sorted(core_tids.items()):
        if tid not in listed:
            raise CriuError(f"{name}: task {tid} is missing from the pstree (is it truncated?)")


# ---------------------------------------------------------------------------------------------
# Binary images


def is_image_header(head: bytes) -> bool:
    """Whether these first bytes start a CRIU image (for telling file kinds apart)."""
    magics = (IMG_COMMON_MAGIC, IMG_SERVICE_MAGIC, INVENTORY_MAGIC)
    return len(head) >= 4 and int.from_bytes(head[:4], "little") in magics


def _read(path: Path) -> bytes:
    """The file's bytes, up to _MAX_FILE_BYTES: a sparse file or a device such as /dev/zero in
    an image directory must not be read until memory runs out."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = b""
            if size <= _MAX_FILE_BYTES:
                # st_size is 0 for devices and pipes, which may never end: read one byte past
                # the limit at most
                data = f.read() if size else f.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CriuError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if max(size, len(data)) > _MAX_FILE_BYTES:
        raise CriuError(
            f"{path}: larger than {_MAX_FILE_BYTES >> 20} MiB, more than any pstree, core or "
            "inventory image (or its crit JSON) holds"
        )
    return data


def _image(path: Path, magic: int, kind: str) -> list[_Fields]:
    """The entries of a CRIU image, after checking its magic and every entry's length."""
    data = _read(path)
    size = len(data)
    if size < 4:
        raise CriuError(f"{path}: truncated: {size} bytes, too short for a CRIU image")
    found, pos = int.from_bytes(data[:4], "little"), 4
    if found in (IMG_COMMON_MAGIC, IMG_SERVICE_MAGIC):
        if size < 8:
            raise CriuError(f"{path}: truncated: the image type magic is cut off")
        found, pos = int.from_bytes(data[4:8], "little"), 8
    if found != magic:
        raise CriuError(
            f"{path}: not a CRIU {kind} image (magic {found:#010x}, expected {magic:#010x})"
        )
    entries: list[_Fields] = []
    while pos < size:
        if size - pos < 4:
            raise CriuError(f"{path}: truncated: {size - pos} stray bytes after the last entry")
        length = int.from_bytes(data[pos : pos + 4], "little")
        pos += 4
        if length > size - pos:
            raise CriuError(
                f"{path}: truncated: entry at byte {pos - 4} claims {length} bytes, "
                f"{size - pos} remain"
            )
        try:
            entries.append(_PbMessage(data, [(pos, pos + length)], f"entries[{len(entries)}]"))
        except _Malformed as exc:
            raise CriuError(f"{path}: {exc}") from None
        pos += length
    return entries


def _core_image(path: Path) -> _Fields:
    entries = _image(path, CORE_MAGIC, "core")
    if len(entries) != 1:
        raise CriuError(f"{path}: holds {len(entries)} entries, a core image holds one")
    return entries[0]


def _import_images(directory: Path) -> Snapshot:
    pstree = directory / "pstree.img"
    try:
        tasks = [_task(entry) for entry in _image(pstree, PSTREE_MAGIC, "pstree")]
    except _Malformed as exc:
        raise CriuError(f"{pstree}: {exc}") from None
    core_tids = {}
    for path in directory.glob("core-*.img"):
        match = _CORE_FILE.fullmatch(path.name)
        if match:
            core_tids[int(match[1])] = str(path)
    _check_tree(str(pstree), tasks, core_tids)
    cores = {}
    for task in tasks:
        path = directory / f"core-{task.pid}.img"
        if path.exists():
            cores[task.pid] = (str(path), _core_image(path))
    uptime = None
    inventory = directory / "inventory.img"
    if inventory.exists():
        entries = _image(inventory, INVENTORY_MAGIC, "inventory")
        try:
            uptime = entries[0].opt_uint(8, "dump_uptime") if entries else None
        except _Malformed as exc:
            raise CriuError(f"{inventory}: {exc}") from None
    return _snapshot(str(directory), tasks, cores, uptime)


# ---------------------------------------------------------------------------------------------
# crit JSON


def _json_image(path: Path) -> tuple[str, list[_JsonMessage]]:
    """The magic name and entries of one crit JSON file."""
    data = _read(path)
    if is_image_header(data):
        raise CriuError(f"{path}: a single CRIU image; give the directory that holds pstree.img")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise CriuError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("magic"), str):
        raise CriuError(f'{path}: not crit JSON (no "magic" name at the top)')
    try:
        entries = [
            _json_object(e, f"entries[{i}]")
            for i, e in enumerate(_json_list(doc, "entries", "entries"))
        ]
    except _Malformed as exc:
        raise CriuError(f"{path}: {exc}") from None
    return doc["magic"], entries


def _import_json(files: list[Path], source: str, single: bool) -> Snapshot:
    tasks: list[_Task] | None = None
    cores: dict[int, tuple[str, _JsonMessage]] = {}
    uptime = None
    for path in files:
        magic, entries = _json_image(path)
        try:
            if magic == "PSTREE":
                tasks = [_task(entry) for entry in entries]
            elif magic == "INVENTORY":
                uptime = entries[0].opt_uint(8, "dump_uptime") if entries else None
            elif magic == "CORE":
                cores[_json_core_pid(path)] = (str(path), _single_entry(path, entries))
            elif single:
                # a name with a line break in it must not break the one-line message
                shown = magic if magic.isprintable() else repr(magic)
                raise CriuError(f"{path}: crit JSON of a {shown} image; expected CORE or PSTREE")
        except _Malformed as exc:
            raise CriuError(f"{path}: {exc}") from None
    if tasks is None:
        # Without the pstree the parent is unknown (0) and only the leader thread is known;
        # in a directory, cores without a task core are other threads, which hold no timers.
        tasks = [
            _Task(pid, 0, (pid,))
            for pid, (_, core) in sorted(cores.items())
            if single or "tc" in core.obj
        ]
        if not tasks:
            raise CriuError(f"{source}: no crit JSON of a process's core image")
    else:
        _check_tree(source, tasks, {tid: name for tid, (name, _) in cores.items()})
    return _snapshot(source, tasks, cores, uptime)


def _json_core_pid(path: Path) -> int:
    match = _CORE_JSON.fullmatch(path.name)
    if match is None:
        raise CriuError(f"{path}: cannot tell the pid: name the file core-PID.crit.json")
    return int(match[1])


def _single_entry(path: Path, entries: list[_JsonMessage]) -> _JsonMessage:
    if len(entries) != 1:
        raise CriuError(f"{path}: holds {len(entries)} entries, a core image holds one")
    return entries[0]


# ---------------------------------------------------------------------------------------------


def import_criu(path: str | Path) -> Snapshot:
    """Import a CRIU image directory (pstree.img + core-PID.img), a directory of crit JSON
    files (*.crit.json), or one crit JSON file. Raises CriuError naming the file and fault."""
    src = Path(path)
    if src.is_dir():
        if (src / "pstree.img").exists():
            return _import_images(src)
        files = sorted(src.glob("*.crit.json"))
        if files:
            return _import_json(files, str(src), single=False)
        raise CriuError(f"{src}: not a CRIU image directory (no pstree.img, no *.crit.json)")
    if not src.exists():
        raise CriuError(f"{src}: no such file or directory")
    return _import_json([src], str(src), single=True)
