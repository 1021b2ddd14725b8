"""verify.age: how long ago a checkpoint was taken, from what it carries."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from builders import HOST, TIMES, snapshot_of

from timertui.capture.host import boot_id
from timertui.model import CaptureTimes
from timertui.verify.age import checkpoint_age

S = 1_000_000_000


def test_a_snapshot_of_this_boot_counts_on_its_monotonic_clock() -> None:
    mono = time.monotonic_ns() - 5 * S
    here = replace(HOST, boot_id=boot_id())
    snap = replace(snapshot_of([]), host=here, times=CaptureTimes(0, mono, 0))
    age = checkpoint_age(snap)
    assert age.source == "CLOCK_MONOTONIC at capture" and 5 * S <= (age.ns or 0) < 60 * S


def test_another_boot_s_snapshot_counts_on_wall_clock_time_or_not_at_all() -> None:
    wall = replace(TIMES, realtime_ns=time.time_ns() - 7 * S)
    age = checkpoint_age(replace(snapshot_of([]), times=wall))
    assert age.source == "the checkpoint's wall-clock time" and 7 * S <= (age.ns or 0) < 60 * S
    assert checkpoint_age(replace(snapshot_of([]), times=CaptureTimes(0, 0, 0))).ns is None


def test_a_criu_image_directory_counts_from_its_first_image(tmp_path: Path) -> None:
    now = time.time_ns()
    for name, ago in (("inventory.img", 9), ("pstree.img", 8), ("dump.log", 100)):
        (tmp_path / name).write_bytes(b"")
        os.utime(tmp_path / name, ns=(now - ago * S, now - ago * S))
    snap = replace(snapshot_of([]), times=CaptureTimes(0, 0, 0), source=f"criu:{tmp_path}")
    age = checkpoint_age(snap)
    assert age.source == "when its first image was written" and 9 * S <= (age.ns or 0) < 60 * S
    empty = tmp_path / "empty"
    empty.mkdir()
    assert checkpoint_age(replace(snap, source=f"criu:{empty}")).ns is None
