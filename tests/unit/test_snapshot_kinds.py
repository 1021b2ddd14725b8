"""Snapshot format 1.2: timerfds, interval timers and read problems survive a save and load;
older files (no such keys) load with none and interval timers unknown; bad values are problems
with their field paths."""

from __future__ import annotations

import dataclasses

import msgpack

from timertui import snapshot_file
from timertui.model import (
    Access,
    CaptureTimes,
    HostFacts,
    IntervalTimer,
    ProcessTimers,
    Snapshot,
    TimerFd,
)

FDS = (
    TimerFd(17, 1, 1, 0, 0, 100_000_000, 0o2000002),
    TimerFd(42, 0, 0, 3, 3_599_000_000_000, 0, 0o4002, 1_796_000_000_000_000_000),
)
ITIMERS = (IntervalTimer(0, 0, 431_000, 0, 500_000), IntervalTimer(2, 60, 4000, 20, 0))


def _snap(**changes: object) -> Snapshot:
    proc = ProcessTimers(7, 1, "kinds", ("kinds",), 0, "root", "sleeping", (7,), ())
    proc = dataclasses.replace(
        proc, timerfds=FDS, itimers=ITIMERS, problems=("fdinfo/9.ticks: missing",)
    )
    proc = dataclasses.replace(proc, **changes)
    host = HostFacts("6.18", "b", "h", "x86_64", True, 1, 1)
    return Snapshot(host, CaptureTimes(1, 2, 3), (proc,))


def test_every_kind_round_trips() -> None:
    snap = _snap()
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap
    assert snapshot_file.validate(snap) == []
    assert snapshot_file.FORMAT_MINOR == 2


def test_interval_timers_not_read_stay_unknown() -> None:
    snap = _snap(itimers=None)
    assert snapshot_file.decode(snapshot_file.encode(snap)).processes[0].itimers is None


def test_a_1_1_file_loads_without_the_new_kinds() -> None:
    tree = snapshot_file._pack_snapshot(_snap())
    for proc in tree["processes"]:
        del proc["timerfds"], proc["itimers"], proc["problems"]
    head = snapshot_file.MAGIC + b"\x00\x01\x00\x01"
    import hashlib
    import struct
    import zlib

    payload = msgpack.packb(tree)
    head += struct.pack(">IQ", zlib.crc32(head), len(payload))
    data = head + hashlib.sha256(head + payload).digest() + payload
    proc = snapshot_file.decode(data).processes[0]
    assert (proc.timerfds, proc.itimers, proc.problems) == ((), None, ())
    assert proc.access is Access.OK


def test_bad_values_are_problems_with_their_paths() -> None:
    bad_fd = dataclasses.replace(FDS[1], fd=17, clock=4, settime_flags=8, remaining_ns=-1)
    twice = IntervalTimer(0, 0, 0, 0, 0)
    found = {p.path for p in snapshot_file.validate(_snap(timerfds=(FDS[0], bad_fd),
                                                     itimers=(*ITIMERS, twice)))}  # fmt: skip
    assert found == {
        "processes[0].timerfds[1].fd",
        "processes[0].timerfds[1].clock",
        "processes[0].timerfds[1].settime_flags",
        "processes[0].timerfds[1].remaining_ns",
        "processes[0].itimers[2].which",
    }


def test_a_malformed_column_names_its_path() -> None:
    tree = snapshot_file._pack_snapshot(_snap())
    tree["processes"][0]["timerfds"]["ticks"] = [1, "x"]
    tree["processes"][0]["itimers"][1] = [1, 2]
    for broken, where in (("timerfds", "timerfds[1].ticks"), ("itimers", "itimers[1]")):
        sub = snapshot_file._pack_snapshot(_snap())
        sub["processes"][0][broken] = tree["processes"][0][broken]
        try:
            snapshot_file._unpack_snapshot(sub)
        except snapshot_file._Bad as exc:
            assert where in str(exc)
        else:
            raise AssertionError(f"{broken} accepted")
