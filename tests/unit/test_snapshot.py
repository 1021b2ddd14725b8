"""The snapshot file: round trips, damage detection, versions, atomic writes, validation."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgpack
import pytest
from builders import U64_MAX, rich_snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from timertui import snapshot_file
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Access,
    CaptureTimes,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerValues,
)
from timertui.snapshot_file import Problem, SnapshotError


def small_snapshot() -> Snapshot:
    proc = ProcessTimers(
        7, 1, "w", ("w",), 0, "root", "sleeping", (7, 8),
        (Timer(3, 0, SIGEV_THREAD_ID, 8, 34, 9, TimerValues(5, 6, 0)), Timer(4, -6, 1, 7, 0, 0)),
        sigpending=(10, 20),
    )  # fmt: skip
    return Snapshot(HostFacts("6", "b", "h", "m", None, 1, 2), CaptureTimes(1, 2, 3), (proc,))


def frame(payload: bytes, major: int, minor: int) -> bytes:
    """A file laid out as snapshot_file.py's docstring says, written independently of encode()."""
    version = snapshot_file.MAGIC + struct.pack(">HH", major, minor)
    head = version + struct.pack(">IQ", zlib.crc32(version), len(payload))
    return head + hashlib.sha256(head + payload).digest() + payload


def payload_of(data: bytes) -> Any:
    return msgpack.unpackb(data[snapshot_file.HEADER_SIZE :])


def reframed(tree: Any) -> bytes:
    return frame(msgpack.packb(tree), snapshot_file.FORMAT_MAJOR, snapshot_file.FORMAT_MINOR)


# --- round trips -------------------------------------------------------------------------------


def test_rich_snapshot_round_trips(tmp_path: Path) -> None:
    snap = rich_snapshot()
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap
    path = tmp_path / "s.ttsnap"
    snapshot_file.save(snap, path)
    assert snapshot_file.load(path) == snap


def test_layout_matches_the_documented_header() -> None:
    data = snapshot_file.encode(small_snapshot())
    assert data[:8] == b"\x89TTSNAP\n"
    assert struct.unpack(">HH", data[8:12]) == (
        snapshot_file.FORMAT_MAJOR,
        snapshot_file.FORMAT_MINOR,
    )
    assert (
        frame(
            data[snapshot_file.HEADER_SIZE :],
            snapshot_file.FORMAT_MAJOR,
            snapshot_file.FORMAT_MINOR,
        )
        == data
    )
    tree = payload_of(data)
    assert tree["processes"][0]["timers"]["id"] == [3, 4]
    assert tree["processes"][0]["timers"]["remaining_ns"] == [5, None]


_ints64 = st.integers(-(2**63), 2**63 - 1)
_u64 = st.integers(0, U64_MAX)
_values = st.builds(TimerValues, st.integers(0, 2**63 - 1), st.integers(0, 2**63 - 1), _ints64)
_timer = st.builds(Timer, _ints64, _ints64, _ints64, _ints64, _ints64, _u64, st.none() | _values)
_process = st.builds(
    ProcessTimers,
    pid=_ints64,
    ppid=_ints64,
    comm=st.text(),
    cmdline=st.lists(st.text(), max_size=4).map(tuple),
    uid=_ints64,
    user=st.text(max_size=8),
    status=st.text(max_size=8),
    tids=st.lists(_ints64, max_size=4).map(tuple),
    timers=st.lists(_timer, max_size=6).map(tuple),
    access=st.sampled_from(list(Access)),
    sigpending=st.none() | st.tuples(_u64, _u64),
)
_snapshots = st.builds(
    Snapshot,
    host=st.builds(HostFacts, st.text(), st.text(), st.text(), st.text(),
                   st.none() | st.booleans(), _u64, _u64),
    times=st.builds(CaptureTimes, _ints64, _ints64, _ints64),
    processes=st.lists(_process, max_size=4).map(tuple),
    source=st.text(),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(_snapshots)
def test_any_snapshot_round_trips(snap: Snapshot) -> None:
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap


def test_comm_with_surrogate_escapes_round_trips() -> None:
    odd = b"bad\xff\xfe".decode("utf-8", "surrogateescape")
    snap = small_snapshot()
    proc = snap.processes[0]
    snap = replace(snap, processes=(replace(proc, comm=odd),))
    assert snapshot_file.decode(snapshot_file.encode(snap)).processes[0].comm == odd


# --- the two msgpack readers -------------------------------------------------------------------

_trees = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(_trees, st.binary(max_size=24))
def test_small_payloads_read_without_msgpack_give_msgpacks_values(tree: Any, junk: bytes) -> None:
    """Payloads up to _SMALL_PAYLOAD are read by the remote agent's reader (msgpack's import is
    most of a small restore's start): what msgpack reads, it reads the same; what it accepts,
    msgpack accepts the same (junk included)."""
    from timertui.remote.agent import wire

    data = msgpack.packb(tree)
    assert wire.unpackb(data, "surrogateescape", strict_map_key=True) == msgpack.unpackb(data)
    try:
        ours = wire.unpackb(junk, "surrogateescape", strict_map_key=True)
    except wire.WireError:
        return
    theirs = msgpack.unpackb(junk, unicode_errors="surrogateescape")
    assert msgpack.packb(theirs, unicode_errors="surrogateescape") == msgpack.packb(
        ours, unicode_errors="surrogateescape"
    )  # compared packed: a NaN is not equal to itself


def test_small_and_large_payloads_decode_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = b"bad\xff\xfe".decode("utf-8", "surrogateescape")
    small = small_snapshot()
    small = replace(small, processes=(replace(small.processes[0], comm=odd),))
    for snap in (small, rich_snapshot()):
        data = snapshot_file.encode(snap)
        assert len(data) - snapshot_file.HEADER_SIZE <= snapshot_file._SMALL_PAYLOAD
        assert snapshot_file.decode(data) == snap
        with monkeypatch.context() as m:
            m.setattr(snapshot_file, "_SMALL_PAYLOAD", 0)  # msgpack's reader, as for big ones
            assert snapshot_file.decode(data) == snap


# --- damage ------------------------------------------------------------------------------------


def test_every_flipped_byte_is_caught() -> None:
    data = snapshot_file.encode(small_snapshot())
    for pos in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[pos] ^= mask
            with pytest.raises(SnapshotError):
                snapshot_file.decode(bytes(bad), "f")


def test_every_truncation_is_caught() -> None:
    data = snapshot_file.encode(small_snapshot())
    for size in range(len(data)):
        with pytest.raises(SnapshotError, match=r"^f: "):
            snapshot_file.decode(data[:size], "f")
    with pytest.raises(SnapshotError, match="payload bytes"):
        snapshot_file.decode(data + b"\0", "f")


def test_damage_messages_are_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.ttsnap"
    snapshot_file.save(small_snapshot(), path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError) as info:
        snapshot_file.load(path)
    assert str(info.value) == f"{path}: damaged: the payload fails its SHA-256 check"
    data[9] ^= 0x02  # the minor version: a damaged header, not "a newer format"
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match="version header fails its checksum"):
        snapshot_file.load(path)


def test_a_huge_length_field_allocates_nothing() -> None:
    data = bytearray(snapshot_file.encode(small_snapshot()))
    struct.pack_into(">Q", data, 16, 2**63)
    with pytest.raises(SnapshotError, match="header says 9223372036854775808 payload bytes"):
        snapshot_file.decode(bytes(data), "f")


def test_not_a_snapshot(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello, this is not a snapshot\n")
    with pytest.raises(SnapshotError, match="not a timertui snapshot"):
        snapshot_file.load(other)
    with pytest.raises(SnapshotError, match="cannot read: No such file"):
        snapshot_file.load(tmp_path / "missing")
    with pytest.raises(SnapshotError, match="is a directory"):
        snapshot_file.load(tmp_path)
    with pytest.raises(SnapshotError, match="not a timertui snapshot"):
        snapshot_file.decode(b"")
    stub = tmp_path / "stub"
    stub.write_bytes(snapshot_file.MAGIC[:3])
    with pytest.raises(SnapshotError, match="truncated: 3 bytes"):
        snapshot_file.load(stub)


# --- versions ----------------------------------------------------------------------------------


def test_newer_major_is_refused() -> None:
    data = frame(b"\x80", snapshot_file.FORMAT_MAJOR + 1, 0)
    major = snapshot_file.FORMAT_MAJOR
    with pytest.raises(SnapshotError) as info:
        snapshot_file.decode(data, "new.ttsnap")
    assert str(info.value) == (
        f"new.ttsnap: snapshot format {major + 1}.x is newer than this timertui ({major}.x); "
        "upgrade"
    )


def test_older_unknown_major_is_refused() -> None:
    with pytest.raises(SnapshotError, match=r"format 0\.3 is not supported"):
        snapshot_file.decode(frame(b"\x80", 0, 3), "f")


def _add_unknown_keys(tree: Any) -> Any:
    """Every map in the tree gains keys a future minor version might add."""
    if isinstance(tree, dict):
        grown = {k: _add_unknown_keys(v) for k, v in tree.items()}
        grown["future_field"] = {"nested": [1, "two", None, 3.5]}
        grown["zz_extra"] = b"\x00\x01"
        return grown
    if isinstance(tree, list):
        return [_add_unknown_keys(v) for v in tree]
    return tree


def test_newer_minor_with_unknown_fields_is_accepted() -> None:
    snap = rich_snapshot()
    tree = _add_unknown_keys(payload_of(snapshot_file.encode(snap)))
    assert "future_field" in tree["processes"][0]["timers"]
    data = frame(msgpack.packb(tree), snapshot_file.FORMAT_MAJOR, snapshot_file.FORMAT_MINOR + 7)
    assert snapshot_file.decode(data) == snap


# --- wrong contents in a sound file ------------------------------------------------------------


_DROP = object()  # as a value: remove the key
_P = ("processes", 0)
_T = ("processes", 0, "timers")


def _changed(path: tuple[Any, ...], value: Any) -> bytes:
    """small_snapshot's file with one field of its payload set to `value` (or dropped)."""
    tree = payload_of(snapshot_file.encode(small_snapshot()))
    node = tree
    for key in path[:-1]:
        node = node[key]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return reframed(tree)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ((*_P, "pid"), "7", "processes[0].pid: expected an integer, got a string"),
        ((*_P, "pid"), True, "processes[0].pid: expected an integer, got a boolean"),
        ((*_T, "id", 1), 2.5, "processes[0].timers[1].id: expected an integer, got float"),
        ((*_T, "clock"), [0], "processes[0].timers.clock: 1 values for 2 timers"),
        (
            (*_T, "overrun", 0),
            None,
            "processes[0].timers[0]: remaining_ns, interval_ns and overrun must be all set or nil",
        ),
        ((*_T, "overrun"), {}, "processes[0].timers.overrun: expected an array, got a map"),
        ((*_T, "signo"), _DROP, "processes[0].timers.signo: missing"),
        (("host", "boot_id"), _DROP, "host.boot_id: missing"),
        (("host", "exact_ids"), 1, "host.exact_ids: expected true, false or nil, got an integer"),
        ((*_P, "access"), "maybe", "processes[0].access: unknown access state 'maybe'"),
        ((*_P, "sigpending"), [1], "processes[0].sigpending: expected [soft, hard], got 1 values"),
        ((*_P, "cmdline", 0), 5, "processes[0].cmdline[0]: expected a string, got an integer"),
        ((*_P, "tids"), "7,8", "processes[0].tids: expected an array, got a string"),
        (_P, [1, 2], "processes[0]: expected a map, got an array"),
        (("times",), None, "times: expected a map, got nil"),
        (("source",), _DROP, "source: missing"),
    ],
)
def test_wrong_types_name_the_field(path: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(SnapshotError) as info:
        snapshot_file.decode(_changed(path, value), "f")
    assert str(info.value) == f"f: {message}"


def test_a_payload_that_is_not_a_map_or_not_msgpack() -> None:
    with pytest.raises(SnapshotError, match="payload: expected a map, got an array"):
        snapshot_file.decode(reframed([1, 2]), "f")
    with pytest.raises(SnapshotError, match="not valid msgpack"):
        snapshot_file.decode(frame(b"\xc1", snapshot_file.FORMAT_MAJOR, 0), "f")
    with pytest.raises(SnapshotError, match="not valid msgpack"):
        snapshot_file.decode(frame(msgpack.packb({1: 2}), snapshot_file.FORMAT_MAJOR, 0), "f")
    # An array header claiming 2**32-1 elements in a 5-byte payload.
    with pytest.raises(SnapshotError, match="not valid msgpack"):
        snapshot_file.decode(frame(b"\xdd\xff\xff\xff\xff", snapshot_file.FORMAT_MAJOR, 0), "f")


# --- atomic writes -----------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "s.ttsnap")


def test_save_is_mode_0600_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "s.ttsnap"
    path.write_bytes(b"old")
    path.chmod(0o644)
    old_umask = os.umask(0)
    try:
        snapshot_file.save(small_snapshot(), path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert snapshot_file.load(path) == small_snapshot()
    assert _leftovers(tmp_path) == []


def test_a_failing_fsync_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.ttsnap"
    path.write_bytes(b"old contents")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(SnapshotError, match=f"^{path}: cannot write: No space left on device$"):
        snapshot_file.save(small_snapshot(), path)
    assert path.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


_SAVE_UNDER_FSIZE_LIMIT = """
import sys
from timertui import snapshot_file
from tests.builders import rich_snapshot
try:
    snapshot_file.save(rich_snapshot(), sys.argv[1])
except snapshot_file.SnapshotError as exc:
    print(exc)
"""


def test_a_real_short_write_keeps_the_old_file(tmp_path: Path) -> None:
    """The kernel refuses the write itself (RLIMIT_FSIZE, EFBIG) halfway through the file."""
    path = tmp_path / "s.ttsnap"
    path.write_bytes(b"old contents")
    limit = len(snapshot_file.encode(rich_snapshot())) // 2

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killing signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = subprocess.run(
        [sys.executable, "-c", _SAVE_UNDER_FSIZE_LIMIT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=limit_file_size,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == f"{path}: cannot write: File too large"
    assert path.read_bytes() == b"old contents"
    assert _leftovers(tmp_path) == []


def test_save_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="cannot write: No such file or directory"):
        snapshot_file.save(small_snapshot(), tmp_path / "nope" / "s.ttsnap")


def test_encode_refuses_values_beyond_64_bits() -> None:
    snap = small_snapshot()
    proc = snap.processes[0]
    huge = Timer(1, 0, 0, 7, 34, 2**64)
    snap = replace(snap, processes=(replace(proc, timers=(huge,)),))
    with pytest.raises(SnapshotError, match="cannot be encoded"):
        snapshot_file.encode(snap)
    assert [str(p) for p in snapshot_file.validate(snap)] == [
        "processes[0].timers[0].sigval: sigval 18446744073709551616 outside the unsigned "
        "64-bit range"
    ]


# --- validation --------------------------------------------------------------------------------


def test_validation_lists_every_problem_with_its_path() -> None:
    timers = (
        Timer(5, 0, SIGEV_SIGNAL, 10, 34, 0),  # fine
        Timer(-1, 0, SIGEV_SIGNAL, 10, 34, 0),  # ID below 0
        Timer(INT_MAX + 1, 0, SIGEV_SIGNAL, 10, 34, 0),  # ID above INT_MAX
        Timer(5, 0, SIGEV_SIGNAL, 10, 34, 0),  # duplicate of timers[0]
        Timer(6, 4, SIGEV_SIGNAL, 10, 34, 0),  # MONOTONIC_RAW: not for timers
        Timer(7, 10, SIGEV_SIGNAL, 10, 34, 0),  # no clock 10
        Timer(8, 0, SIGEV_SIGNAL, 10, 65, 0),  # signal out of range
        Timer(9, 0, SIGEV_THREAD, 10, 0, 0),  # SIGEV_THREAD checks the signal too
        Timer(10, 0, SIGEV_NONE, 10, 99, 0),  # SIGEV_NONE: any signo is fine
        Timer(11, 0, 3, 10, 34, 0),  # notify 3 is no mode
        Timer(12, 0, SIGEV_THREAD_ID, 12, 34, 0),  # thread 12 is not ours
        Timer(13, 0, SIGEV_THREAD_ID, 11, 34, 0),  # thread 11 is
        Timer(14, 0, SIGEV_SIGNAL, 10, 34, 0, TimerValues(-1, 0, INT_MAX + 1)),
    )
    proc = ProcessTimers(10, 1, "p", (), 0, "root", "", (10, 11), timers)
    snap = Snapshot(small_snapshot().host, small_snapshot().times, (proc, proc))
    problems = snapshot_file.validate(snap)
    assert all(isinstance(p, Problem) for p in problems)
    t = "processes[0].timers"
    assert [str(p) for p in problems[: len(problems) // 2]] == [
        f"{t}[1].id: timer ID -1 outside 0..2147483647",
        f"{t}[2].id: timer ID 2147483648 outside 0..2147483647",
        f"{t}[3].id: duplicate timer ID 5 (also timers[0])",
        f"{t}[4].clock: clock 4 (MONOTONIC_RAW) not usable for timers",
        f"{t}[5].clock: clock 10 (unknown clock 10) not usable for timers",
        f"{t}[6].signo: signal 65 out of range 1..64",
        f"{t}[7].signo: signal 0 out of range 1..64",
        f"{t}[9].notify: notify 3 is not one of 0, 1, 2, 4",
        f"{t}[10].target: thread target 12 not among the process's TIDs [10, 11]",
        f"{t}[12].values.remaining_ns: remaining_ns -1 outside 0..9223372036854775807",
        f"{t}[12].values.overrun: overrun 2147483648 outside 0..2147483647",
    ]
    second = problems[len(problems) // 2 :]
    assert str(second[0]) == "processes[1].pid: duplicate pid 10 (also processes[0])"
    assert [p.path.replace("processes[1]", "processes[0]") for p in second[1:]] == [
        p.path for p in problems[: len(problems) // 2]
    ]


def test_a_sound_snapshot_has_no_problems() -> None:
    assert snapshot_file.validate(rich_snapshot()) == []


def test_both_digest_paths_agree_and_a_large_snapshot_round_trips() -> None:
    """Small payloads hash with CPython's own SHA-256, large ones with OpenSSL's: the same
    digest, so a file is readable whichever path wrote it."""
    import hashlib

    from timertui.snapshot_file import _OPENSSL_BYTES, _sha256

    data = bytes(range(256)) * 64
    for size in (len(data), _OPENSSL_BYTES + 1):
        assert _sha256(size, data).digest() == hashlib.sha256(data).digest()
    timers = tuple(Timer(i, 0, SIGEV_SIGNAL, 1, 34, 2**63 + i) for i in range(80_000))
    proc = ProcessTimers(1, 0, "big", (), 0, "root", "S", (1,), timers)
    snap = Snapshot(
        HostFacts("6.18", "b", "h", "x86_64", True, 1, 1), CaptureTimes(1, 2, 3), (proc,)
    )
    data = snapshot_file.encode(snap)
    assert len(data) > _OPENSSL_BYTES
    assert snapshot_file.decode(data) == snap
