"""Mutation fuzzing of the three decoders that read outside input: the snapshot file
(`snapshot_file.decode`), CRIU images and crit JSON (`sources.open_source` on a directory or file),
and /proc/PID/timers text (`parse_timers`).

Every case starts from a real sample (a snapshot of this host and of the CRIU fixture, the
fixture's images and crit JSON, real /proc timers text) and mutates it with a seeded RNG: bytes
flipped, set to edge values, cut, duplicated or spliced; length fields made to claim 4 GiB;
and, one level up, the structure itself (msgpack trees, protobuf fields, JSON values, timer
lines) given wrong types, missing or repeated fields and out-of-range values — resealed where a
checksum would otherwise reject everything early.

A case passes when the decoder accepts the input (and what it returns goes through the CLI's
own `inspect` rendering and the restore planner without an exception) or raises the target's
documented InputError subclass with a one-line message that names the input. Anything else is a
failure: another exception, a bad message, a case over the time limit (a hang), or MemoryError
— the runs set RLIMIT_AS to what is mapped plus 1 GiB, so an allocation of what a huge length
field claims cannot succeed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import random
import resource
import shutil
import signal
import struct
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import msgpack

from timertui import criu, snapshot_file, sources
from timertui.capture.proc_timers import TimersParseError, parse_timers
from timertui.commands import inspect
from timertui.errors import InputError
from timertui.model import INT_MAX, CaptureTimes, HostFacts, ProcessTimers, Snapshot
from timertui.restore.plan import build_plan

FIXTURE = Path(__file__).resolve().parent.parent.parent / "shared/fixtures/criu-stress-ng"
CASE_LIMIT_S = 5.0  # one decode taking longer is a hang (loaded CI machines included)
MEMORY_HEADROOM = 1 << 30

_EDGE_INTS = (
    0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, INT_MAX, 2**31, 2**32 - 1, 2**32,
    2**63 - 1, 2**63, 2**64 - 1,
)  # fmt: skip
_SIGNED_EDGES = (*_EDGE_INTS, -1, -(2**31), -(2**31) - 1, -(2**63))


@dataclass(frozen=True)
class Failure:
    target: str
    case: int
    kind: str  # crash, message, hang, memory
    detail: str
    label: str  # what was mutated (a file name, a line)
    sample: bytes


@dataclass
class Tally:
    name: str
    cases: int = 0
    accepted: int = 0
    rejected: int = 0
    failures: list[Failure] = field(default_factory=list)
    slowest_ns: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Case:
    """One input: `run` decodes it (raising the target's error for bad input) and hands back
    the result, `use` puts an accepted result through what the CLI does with it; the message of
    a rejection must start with `names`."""

    run: Callable[[], Any]
    names: str
    label: str
    sample: bytes
    use: Callable[[Any], None] = lambda _: None


class _Hang(BaseException):
    """Raised by SIGALRM into a case over its time limit (a BaseException, so no `except
    Exception` in the code under test swallows it)."""


# ---------------------------------------------------------------------------------------------
# Byte-level mutation


class Mutator:
    """AFL-style stacked byte mutations; `tokens` are target-specific strings worth inserting
    (format keywords, headers claiming huge lengths), `donors` other samples to splice from."""

    def __init__(self, rng: random.Random, tokens: tuple[bytes, ...], donors: list[bytes]):
        self.rng = rng
        self.tokens = tokens
        self.donors = donors

    def mutate(self, data: bytes) -> bytes:
        buf = bytearray(data)
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3, 4, 8))):
            self._one(buf)
        return bytes(buf)

    def _one(self, buf: bytearray) -> None:
        rng = self.rng
        op = rng.randrange(12)
        n = len(buf)
        pos = rng.randrange(n) if n else 0
        if not n and op < 6:
            op = 7  # nothing to change in place: insert a token
        if op == 0:
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
        elif op == 2:
            buf[pos] = rng.randrange(256)
        elif op == 3:
            buf[pos] = (buf[pos] + rng.choice((-2, -1, 1, 2, 16))) & 0xFF
        elif op == 4:
            size = rng.choice((2, 4, 8))
            value = rng.choice(_EDGE_INTS) if rng.random() < 0.8 else rng.getrandbits(64)
            packed = (value & ((1 << (8 * size)) - 1)).to_bytes(size, rng.choice(("big", "little")))
            buf[pos : pos + size] = packed
        elif op == 5:
            end = min(n, pos + rng.choice((1, 2, 4, 16, n)))
            del buf[pos:end]
        elif op == 6:
            end = min(n, pos + rng.choice((1, 4, 16, 64)))
            buf[rng.randrange(n + 1) : 0] = buf[pos:end]
        elif op == 7:
            buf[pos:pos] = rng.choice(self.tokens)
        elif op == 8:
            del buf[rng.randrange(n + 1) :]
        elif op == 9:
            buf += rng.choice(self.tokens) if rng.random() < 0.5 else rng.randbytes(8)
        elif op == 10 and self.donors:
            donor = rng.choice(self.donors)
            buf[pos:] = donor[rng.randrange(len(donor) + 1) :]
        else:
            buf[pos:pos] = rng.randbytes(rng.choice((1, 2, 4, 8)))


def evil_value(rng: random.Random, depth: int = 0) -> Any:
    """A value of a type or size a field does not expect (msgpack- and JSON-encodable)."""
    choice = rng.randrange(14 if depth < 3 else 9)
    if choice == 0:
        return None
    if choice == 1:
        return rng.random() < 0.5
    if choice in (2, 3):
        return rng.choice(_SIGNED_EDGES)
    if choice == 4:
        return rng.choice((0.5, -1.0, 1e308, 2.0**64))
    if choice == 5:
        return rng.choice(
            ("", "x", "0x10", "-1", "Zombie", "X86_64", "\u00e9\u2713", "9" * 30, "two\nlines")
        )
    if choice == 6:
        return "A" * rng.choice((100, 10_000))
    if choice == 7:
        return []
    if choice == 8:
        return {}
    if choice in (9, 10):
        return [evil_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 11:
        return {"k": evil_value(rng, depth + 1), "magic": evil_value(rng, depth + 1)}
    nested: Any = rng.choice((0, "x", None))
    for _ in range(rng.choice((10, 200))):
        nested = [nested]
    return nested


def mutate_tree(rng: random.Random, tree: Any, extra_key: Callable[[], Any]) -> Any:
    """Change one node of a decoded tree (dicts and lists) in place; returns the tree, or a
    replacement when the root itself was replaced."""
    nodes: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict | list):
            nodes.append(node)
            for child in node.values() if isinstance(node, dict) else node:
                walk(child)

    walk(tree)
    if not nodes or rng.random() < 0.02:
        return evil_value(rng)
    node = rng.choice(nodes)
    op = rng.randrange(6)
    if isinstance(node, dict):
        keys = list(node)
        if not keys or op == 0:
            node[extra_key()] = evil_value(rng)
        elif op == 1:
            del node[rng.choice(keys)]
        elif op == 2 and isinstance(tree, dict):
            node[rng.choice(keys)] = _int_variant(rng)
        else:
            node[rng.choice(keys)] = evil_value(rng)
        return tree
    if not node or op == 0:
        node.append(evil_value(rng))
    elif op == 1:
        del node[rng.randrange(len(node))]
    elif op == 2:
        node.append(node[rng.randrange(len(node))])
    elif op == 3:
        node[rng.randrange(len(node))] = _int_variant(rng)
    else:
        node[rng.randrange(len(node))] = evil_value(rng)
    return tree


def _int_variant(rng: random.Random) -> int:
    """An integer at an edge of a field's range, or just past one (within what msgpack holds)."""
    value = rng.choice(_SIGNED_EDGES) + rng.choice((0, 0, 0, 1, -1))
    return min(max(value, -(2**63)), 2**64 - 1)


# ---------------------------------------------------------------------------------------------
# Targets


class Target:
    name = ""
    error: type[InputError] | tuple[type[InputError], ...] = InputError
    tokens: tuple[bytes, ...] = ()

    def donors(self) -> list[bytes]:
        return []

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _inspect(path: Path, as_json: bool) -> None:
    """`timertui inspect PATH` in-process, its output discarded."""
    with contextlib.redirect_stdout(io.StringIO()):
        inspect.run(argparse.Namespace(source=str(path), json=as_json))


def plan_each(snap: Snapshot) -> None:
    """What `timertui restore` does with each process before it starts a worker."""
    for proc in snap.processes:
        if proc.timers:
            with contextlib.suppress(InputError):
                build_plan(proc)


def seal(payload: bytes, major: int = snapshot_file.FORMAT_MAJOR, minor: int = 0) -> bytes:
    """A snapshot file around `payload` with a sound header, CRC and SHA-256: so a mutated
    payload reaches the msgpack and field decoders instead of failing the checksum."""
    version = snapshot_file.MAGIC + struct.pack(">HH", major, minor)
    head = version + struct.pack(">IQ", zlib.crc32(version), len(payload))
    return head + hashlib.sha256(head + payload).digest() + payload


class SnapshotTarget(Target):
    name = "snapshot decoder"
    error = snapshot_file.SnapshotError
    # msgpack headers claiming 4 GiB (array32, map32, str32, bin32, ext32), deep nesting, an
    # int key, a float, a timestamp extension.
    tokens = (
        b"\xdd\xff\xff\xff\xff",
        b"\xdf\xff\xff\xff\xff",
        b"\xdb\xff\xff\xff\xff",
        b"\xc6\xff\xff\xff\xff",
        b"\xc9\xff\xff\xff\xff\x01",
        b"\x91" * 3000,
        b"\x81\x01\x02",
        b"\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00",
        b"\xd6\xff\x00\x00\x00\x01",
        b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
    )

    def __init__(self, seeds: list[Snapshot], work: Path) -> None:
        self.files = [snapshot_file.encode(s) for s in seeds]
        self.payloads = [f[snapshot_file.HEADER_SIZE :] for f in self.files]
        work.mkdir(parents=True, exist_ok=True)
        self.accepted = work / "accepted.ttsnap"

    def donors(self) -> list[bytes]:
        return self.payloads

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        pick = rng.randrange(len(self.files))
        kind = rng.random()
        if kind < 0.25:
            data, label = mutator.mutate(self.files[pick]), "file bytes"
        elif kind < 0.55:
            data, label = seal(mutator.mutate(self.payloads[pick])), "payload bytes, resealed"
        else:
            tree = msgpack.unpackb(self.payloads[pick], unicode_errors="surrogateescape")
            tree = mutate_tree(rng, tree, lambda: rng.choice(("future", 7, "pid", "timers")))
            payload = msgpack.packb(tree, unicode_errors="surrogateescape")
            data, label = seal(payload), "payload tree, resealed"
        if rng.random() < 0.03:
            # another version around a sound payload: newer minors load, other majors refuse
            major, minor = rng.choice(((1, 9), (2, 0), (0, 1), (65535, 65535)))
            data, label = seal(self.payloads[pick], major, minor), f"version {major}.{minor}"
        return Case(lambda: snapshot_file.decode(data, "fuzz.ttsnap"), "fuzz.ttsnap: ", label, data,
                    lambda snap: self.use(snap, data, rng))  # fmt: skip

    def use(self, snap: Snapshot, data: bytes, rng: random.Random) -> None:
        self.accepted.write_bytes(data)
        _inspect(self.accepted, rng.random() < 0.5)
        plan_each(snap)
        try:
            again = snapshot_file.encode(snap)
        except snapshot_file.SnapshotError:
            return  # only values beyond 64 bits get here, and decoding cannot make those
        if snapshot_file.decode(again) != snap:
            raise AssertionError("a decoded snapshot does not round-trip")


# -- protobuf, for the CRIU images ------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out) + bytes([value])


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


# A field as (number, wire type, value): an int for varints and fixed, bytes for length-delimited;
# wire type _RAW holds bytes written as they are (key included): forged lengths, bad wire types.
Field = tuple[int, int, Any]
_RAW = -1


def pb_fields(buf: bytes) -> list[Field]:
    """The fields of a sound protobuf message (the fixture's), in order."""
    fields: list[Field] = []
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            fields.append((num, wire, value))
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            fields.append((num, wire, buf[pos : pos + size]))
            pos += size
        else:
            size = 4 if wire == 5 else 8
            fields.append((num, wire, int.from_bytes(buf[pos : pos + size], "little")))
            pos += size
    return fields


def pb_bytes(fields: list[Field]) -> bytes:
    out = bytearray()
    for num, wire, value in fields:
        if wire == _RAW:
            out += value
            continue
        out += _varint(num << 3 | wire)
        if wire == 0:
            out += _varint(value)
        elif wire == 2:
            out += _varint(len(value)) + value
        else:
            out += (value & ((1 << (64 if wire == 1 else 32)) - 1)).to_bytes(
                8 if wire == 1 else 4, "little"
            )
    return bytes(out)


def _as_message(value: bytes) -> list[Field] | None:
    """`value` parsed as a message, when it is one (strings and packed arrays mostly are not)."""
    try:
        fields = pb_fields(value)
    except IndexError:
        return None
    if not fields or any(num == 0 or wire not in (0, 1, 2, 5) for num, wire, _ in fields):
        return None
    return fields if pb_bytes(fields) == value else None


def mutate_message(rng: random.Random, fields: list[Field]) -> list[Field]:
    """One structural change somewhere in a protobuf message tree (descending at random)."""
    nested = [(i, m) for i, (_, w, v) in enumerate(fields) if w == 2 and (m := _as_message(v))]
    if nested and rng.random() < 0.7:
        index, inner = rng.choice(nested)
        fields[index] = (fields[index][0], 2, pb_bytes(mutate_message(rng, inner)))
        return fields
    op = rng.randrange(9)
    index = rng.randrange(len(fields)) if fields else 0
    num = fields[index][0] if fields else 1
    if not fields or op == 0:
        wire = rng.choice((0, 0, 2, 1, 5))
        value = rng.randbytes(rng.randrange(12)) if wire == 2 else rng.choice(_EDGE_INTS)
        fields.insert(index, (rng.choice((num, rng.randrange(1, 16), 2**29 - 1)), wire, value))
    elif op == 1:
        del fields[index]
    elif op == 2:
        fields.insert(index, fields[index])
    elif op == 3:
        fields[index] = (num, 0, rng.choice(_EDGE_INTS))
    elif op == 4:
        fields[index] = (num, 2, rng.randbytes(rng.randrange(9)))
    elif op == 5:  # a length claiming 4 GiB, 2^63 or one byte more than there is
        body = fields[index][2] if isinstance(fields[index][2], bytes) else b"x"
        claim = rng.choice((2**32, 2**32 - 1, 2**63, len(body) + 1))
        fields[index] = (num, _RAW, _varint(num << 3 | 2) + _varint(claim) + body)
    elif op == 6:  # a varint of 11 bytes, or one past 64 bits
        tail = rng.choice((b"\xff" * 10 + b"\x01", b"\xff" * 9 + b"\x7f"))
        fields[index] = (num, _RAW, _varint(num << 3) + tail)
    elif op == 7:
        fields[index] = (num, _RAW, _varint(num << 3 | rng.choice((3, 4, 6, 7))) + b"\x00")
    else:
        fields[index] = (num, _RAW, b"\x00\x01")  # field number 0
    return fields


def image_parts(data: bytes) -> tuple[bytes, list[bytes]]:
    """A sound CRIU image as (its magic bytes, its entries)."""
    magics = (criu.IMG_COMMON_MAGIC, criu.IMG_SERVICE_MAGIC)
    pos = 8 if int.from_bytes(data[:4], "little") in magics else 4
    head, entries = data[:pos], []
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "little")
        entries.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return head, entries


def image_bytes(head: bytes, entries: list[bytes]) -> bytes:
    return head + b"".join(struct.pack("<I", len(e)) + e for e in entries)


class _FileTarget(Target):
    """A directory of sample files; each case changes some and puts them back afterwards."""

    def __init__(self, originals: dict[str, bytes], work: Path) -> None:
        self.originals = originals
        self.dir = work
        self.dir.mkdir(parents=True, exist_ok=True)
        self.touched: set[str] = set()
        for name, data in originals.items():
            (self.dir / name).write_bytes(data)

    def donors(self) -> list[bytes]:
        return list(self.originals.values())

    def reset(self) -> None:
        for name in self.touched:
            path = self.dir / name
            if path.is_dir():
                path.rmdir()
            if name in self.originals:
                path.write_bytes(self.originals[name])  # over the file: unlinks cost more
            else:
                path.unlink(missing_ok=True)
        self.touched.clear()

    def write(self, name: str, data: bytes) -> None:
        self.touched.add(name)
        (self.dir / name).write_bytes(data)

    def file_op(self, rng: random.Random, names: list[str], stray: str) -> str:
        """A change to the directory itself; returns its label."""
        name = rng.choice(names)
        op = rng.randrange(5)
        self.touched.add(name)
        path = self.dir / name
        if op == 0:
            path.unlink()
            return f"{name} removed"
        if op == 1:
            path.unlink()
            path.mkdir()
            return f"{name} is a directory"
        if op == 2:
            path.write_bytes(b"")
            return f"{name} empty"
        if op == 3:
            path.write_bytes(self.originals[rng.choice(names)])
            return f"{name} holds another file's bytes"
        self.write(stray, self.originals[name])
        return f"{stray} added (a copy of {name})"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def source_case(self, path: Path, label: str, sample: bytes) -> Case:
        """Open `path` as `timertui inspect` and `restore` would."""
        names = str(self.dir)

        def use(snap: Snapshot) -> None:
            # inspect imports it all again: one accepted case in four is enough for that
            if len(sample) % 4 < 2:
                _inspect(path, as_json=len(sample) % 4 == 0)
            plan_each(snap)

        return Case(lambda: sources.open_source(path), names, label, sample, use)


class CriuImagesTarget(_FileTarget):
    name = "CRIU images"
    error = (criu.CriuError, sources.SourceError)
    tokens = (
        b"\xff\xff\xff\xff",  # an entry length of 4 GiB - 1
        b"\x0a\xff\xff\xff\xff\x0f",  # field 1, length-delimited, claiming 4 GiB
        b"\x08" + b"\xff" * 10 + b"\x01",  # an 11-byte varint
        b"\x00",
        struct.pack("<II", criu.IMG_COMMON_MAGIC, criu.CORE_MAGIC),
        struct.pack("<I", criu.INVENTORY_MAGIC),
    )
    _WEIGHTS: ClassVar[dict[str, int]] = {
        "core-19876.img": 5,
        "pstree.img": 3,
        "core-19874.img": 2,
        "inventory.img": 1,
    }

    def __init__(self, fixture: Path, work: Path) -> None:
        super().__init__({name: (fixture / name).read_bytes() for name in self._WEIGHTS}, work)
        self.parts = {name: image_parts(data) for name, data in self.originals.items()}

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        self.reset()
        names = list(self._WEIGHTS)
        name = rng.choices(names, list(self._WEIGHTS.values()))[0]
        kind = rng.random()
        if kind < 0.4:
            self.write(name, mutator.mutate(self.originals[name]))
            label = f"{name} bytes"
        elif kind < 0.9:
            head, entries = self.parts[name]
            entries = list(entries)
            at = rng.randrange(len(entries))
            entries[at] = pb_bytes(mutate_message(rng, pb_fields(entries[at])))
            data = image_bytes(head, entries)
            if rng.random() < 0.1:  # an entry's length field claiming 4 GiB
                data = data[: len(head)] + b"\xff\xff\xff\xff" + data[len(head) + 4 :]
            self.write(name, data)
            label = f"{name} entry {at} fields"
        else:
            label = self.file_op(rng, names, f"core-{rng.choice((1, 19875, 4294967295))}.img")
        path = self.dir / name
        sample = path.read_bytes() if path.is_file() else b""
        return self.source_case(self.dir, label, sample)


def _trimmed(entry: dict[str, Any]) -> dict[str, Any]:
    """A crit core entry cut to what the importer reads (the rest is registers and such):
    mutations then land where they matter."""
    tc = entry.get("tc")
    kept: dict[str, Any] = {"mtype": entry["mtype"]}
    if tc is not None:
        kept["tc"] = {k: tc[k] for k in ("task_state", "comm", "timers", "rlimits") if k in tc}
    creds = entry.get("thread_core", {}).get("creds")
    if creds is not None:
        kept["thread_core"] = {"creds": creds}
    return kept


_PSTREE_JSON = {
    "magic": "PSTREE",
    "entries": [
        {"pid": 19874, "ppid": 0, "pgid": 19874, "sid": 19874, "threads": [19874]},
        {"pid": 19876, "ppid": 19874, "pgid": 19874, "sid": 19874, "threads": [19876]},
    ],
}
_JSON_KEYS = ("it_id", "clock_id", "posix", "tc", "entries", "magic", "comm", "threads", "pid")


class CritJsonTarget(_FileTarget):
    name = "crit JSON"
    error = (criu.CriuError, sources.SourceError)
    tokens = (
        b"[" * 50_000,
        b'{"a":' * 5_000,
        b"1e99999",
        b"18446744073709551616",
        b"9" * 5000,
        b'"0x' + b"f" * 40 + b'"',
        b"NaN",
        b"-Infinity",
        b"null",
        b'\\ud800"',
        b'"magic": "CORE", ',
        b"\xff\xfe",
    )
    _CORES = ("core-19874.crit.json", "core-19876.crit.json")

    def __init__(self, fixture: Path, work: Path) -> None:
        self.full = {name: json.loads((fixture / name).read_bytes()) for name in self._CORES}
        self.trees = {
            name: {"magic": "CORE", "entries": [_trimmed(e) for e in doc["entries"]]}
            for name, doc in self.full.items()
        }
        self.trees["pstree.crit.json"] = _PSTREE_JSON
        super().__init__({n: json.dumps(t).encode() for n, t in self.trees.items()}, work)

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        self.reset()
        names = list(self.trees)
        name = rng.choice((*self._CORES, *names))
        kind = rng.random()
        if kind < 0.35:
            self.write(name, mutator.mutate(self.originals[name]))
            label = f"{name} bytes"
        elif kind < 0.9:
            whole = name in self.full and rng.random() < 0.05
            tree = json.loads(json.dumps(self.full[name] if whole else self.trees[name]))
            tree = mutate_tree(rng, tree, lambda: rng.choice(_JSON_KEYS))
            self.write(name, json.dumps(tree).encode())
            label = f"{name} values" + (" (whole crit output)" if whole else "")
        else:
            label = self.file_op(rng, names, rng.choice(("core-x.crit.json", "core-7.crit.json")))
        path = self.dir / name
        sample = path.read_bytes() if path.is_file() else b""
        single = name in self._CORES and rng.random() < 0.2
        return self.source_case(path if single else self.dir, label, sample)


# -- /proc/PID/timers text ---------------------------------------------------------------------


class TimersTextTarget(Target):
    name = "/proc timers parser"
    error = TimersParseError
    tokens = (
        b"ID: ", b"signal: ", b"notify: ", b"ClockID: ", b"/pid.", b"/tid.", b"(null)", b"-",
        b"99999999999999999999", b"999999999999999999999", b"\n", b"\r\n", b"\x00", b" ",
        b"ffffffffffffffff", b"fffffffffffffffff", b"thread", b"none", b"\t", b"\xa0",
    )  # fmt: skip

    def __init__(self, texts: list[str], work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.texts = [t for t in texts if t]
        self.lines = [line for t in self.texts for line in t.splitlines()]

    def donors(self) -> list[bytes]:
        return [t.encode("latin-1") for t in self.texts]

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        text = rng.choice(self.texts)
        kind = rng.random()
        if kind < 0.45:
            # read_timers decodes the file as latin-1, so any byte is a character here
            text = mutator.mutate(text.encode("latin-1")).decode("latin-1")
            label = "bytes"
        elif kind < 0.9:
            text, label = self._line_op(rng, text.splitlines()), "lines"
        else:
            text, label = text * rng.choice((2, 50)), "repeated"
        sample = text.encode("latin-1", "replace")
        return Case(
            lambda: parse_timers(text, "fuzz/timers"),
            "fuzz/timers line ",
            label,
            sample,
            lambda timers: _use_timers(timers, self.work),
        )

    def _line_op(self, rng: random.Random, lines: list[str]) -> str:
        op = rng.randrange(6)
        at = rng.randrange(len(lines) + 1)
        if op == 0 and lines:
            del lines[min(at, len(lines) - 1)]
        elif op == 1:
            lines.insert(at, rng.choice(self.lines))
        elif op == 2 and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3 and lines:
            i = rng.randrange(len(lines))
            key, _, _ = lines[i].partition(" ")
            number = rng.choice((*map(str, _SIGNED_EDGES), "0" * 25, "9" * 21, "-0", "+1", "1e3"))
            lines[i] = (
                f"{key} {number}"
                if "/" not in lines[i]
                else lines[i].replace(lines[i].split("/")[0].split(" ")[-1], number, 1)
            )
        elif op == 4:
            lines.insert(at, "")
        else:
            lines = lines[: rng.randrange(len(lines) + 1)]
        ending = rng.choice(("\n", "\n", "", "\n\n"))
        return "\n".join(lines) + ending


def _use_timers(timers: Any, work: Path) -> None:
    """Parsed timers through `inspect` (as a snapshot of one process) and the restore planner."""
    ids = [t.id for t in timers]
    if len(set(ids)) != len(ids) or not all(0 <= i <= INT_MAX for i in ids):
        raise AssertionError(f"parse_timers accepted IDs {ids}")
    tids = tuple(sorted({1000, *(t.target for t in timers)}))
    proc = ProcessTimers(1000, 1, "fuzz", (), 0, "root", "sleeping", tids, tuple(timers))
    snap = Snapshot(NO_HOST, CaptureTimes(0, 0, 0), (proc,), source="fuzz")
    path = work / "parsed.ttsnap"
    path.write_bytes(snapshot_file.encode(snap))
    _inspect(path, as_json=len(ids) % 2 == 0)
    plan_each(snap)


NO_HOST = HostFacts("", "", "", "", None, 0, 0)


# ---------------------------------------------------------------------------------------------
# Running


class _Alarm:
    """Whether a case is running: SIGALRM only interrupts one that is."""

    armed = False


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _Alarm.armed:
        raise _Hang


def _mapped_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


@contextlib.contextmanager
def guarded(headroom: int = MEMORY_HEADROOM) -> Iterator[None]:
    """RLIMIT_AS at what is mapped now plus `headroom`, and SIGALRM for the per-case limit;
    both put back afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _mapped_bytes() + headroom
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    old = signal.signal(signal.SIGALRM, _on_alarm)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, old)


def message_problem(message: str, names: str) -> str | None:
    """What is wrong with a rejection's message, None when it is one line naming the input
    and saying something after the name."""
    if "\n" in message or "\r" in message:
        return "more than one line"
    if not message.startswith(names):
        return f"does not start with {names!r}"
    if len(message[len(names) :].strip()) < 8:
        return "says too little"
    return None


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}"[:300] + last


def _attempt(target: Target, case: Case, limit_s: float) -> tuple[str, str, bool]:
    """(failure kind or "", detail, accepted) for one case."""
    _Alarm.armed = True
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        try:
            result = case.run()
        except target.error as exc:
            problem = message_problem(str(exc), case.names)
            return ("message", f"{problem}: {exc}", False) if problem else ("", "", False)
        case.use(result)
        return "", "", True
    except _Hang:
        return "hang", f"over {limit_s:g} s", False
    except MemoryError as exc:
        return "memory", _where(exc), False
    except Exception as exc:
        return "crash", _where(exc), False
    finally:
        _Alarm.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def run(target: Target, cases: int, seed: int, *, limit_s: float = CASE_LIMIT_S) -> Tally:
    """`cases` mutated inputs for `target`, the same ones for the same seed."""
    rng = random.Random(seed)
    mutator = Mutator(rng, target.tokens, target.donors())
    tally = Tally(target.name, cases)
    started = time.perf_counter()
    with guarded():
        for index in range(cases):
            case = target.case(rng, mutator)
            t0 = time.perf_counter_ns()
            kind, detail, accepted = _attempt(target, case, limit_s)
            tally.slowest_ns = max(tally.slowest_ns, time.perf_counter_ns() - t0)
            if kind:
                tally.failures.append(
                    Failure(target.name, index, kind, detail, case.label, case.sample)
                )
            elif accepted:
                tally.accepted += 1
            else:
                tally.rejected += 1
    tally.seconds = time.perf_counter() - started
    return tally


def live_timers_texts(limit: int = 20) -> list[str]:
    """/proc/PID/timers of processes on this host that have timers (up to `limit`)."""
    texts = []
    for path in Path("/proc").glob("[0-9]*/timers"):
        with contextlib.suppress(OSError):
            text = path.read_bytes().decode("latin-1")
            if text:
                texts.append(text)
                if len(texts) == limit:
                    break
    return texts


def fixture_timers_texts(fixture: Path = FIXTURE) -> list[str]:
    """The fixture's /proc view: one text per `== PID` section."""
    texts: list[str] = []
    for line in (fixture / "proc-19876-timers.txt").read_text().splitlines(keepends=True):
        if line.startswith("== "):
            texts.append("")
        elif texts:
            texts[-1] += line
    return texts


def targets(
    work: Path,
    snapshots: tuple[Snapshot, ...] = (),
    texts: tuple[str, ...] = (),
    fixture: Path = FIXTURE,
) -> list[Target]:
    """The six targets on real samples: the CRIU fixture (as images, crit JSON, /proc text and
    imported into a snapshot), this host's processes, the podman checkpoint archive
    (stress/fuzz_archives.py), CRIU's logs (stress/fuzz_logs.py), and whatever the caller
    adds."""
    from stress.fuzz_archives import ArchiveTarget
    from stress.fuzz_fdinfo import FdinfoTarget
    from stress.fuzz_logs import LogTarget
    from timertui.capture import host, processes

    live = Snapshot(
        host.host_facts(probe=False),
        host.capture_times(),
        tuple(processes.scan(include_all=True)[:12]),
        source="live",
    )
    return [
        SnapshotTarget([criu.import_criu(fixture), live, *snapshots], work / "snapshot"),
        CriuImagesTarget(fixture, work / "images"),
        CritJsonTarget(fixture, work / "json"),
        TimersTextTarget(
            [*fixture_timers_texts(fixture), *live_timers_texts(), *texts],
            work / "timers",
        ),
        ArchiveTarget(work / "archives"),
        LogTarget(work / "logs"),
        FdinfoTarget(),
    ]


def save_failures(failures: list[Failure], directory: Path) -> None:
    """Each failing input as a file, named by target, case and what was mutated."""
    directory.mkdir(parents=True, exist_ok=True)
    for f in failures:
        stem = f"{f.target}-{f.case}-{f.kind}".replace(" ", "_").replace("/", "")
        (directory / f"{stem}.bin").write_bytes(f.sample)
        (directory / f"{stem}.txt").write_text(f"{f.label}\n{f.detail}\n")
