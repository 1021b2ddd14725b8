"""The demo workload's zoo, captured (with deep values), snapshotted to a file and restored
natively: it verifies equal in exact mode and in forced walk mode (the one seed-size walk of the
suite, about 1.5 s)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from timertui import demo, snapshot_file
from timertui.capture.host import capture_times, host_facts
from timertui.capture.inject import capture_values
from timertui.capture.processes import read_process
from timertui.choices import DEMO_IDS
from timertui.model import Snapshot
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.native.runner import local_facts
from timertui.restore.plan import build_plan
from timertui.sources import open_source


@pytest.fixture
def zoo_file(needs_proc_timers: None, needs_ptrace: None, tmp_path: Path) -> Path:
    proc = demo.spawn_workload(DEMO_IDS, zoo=True)
    try:
        pid = demo.read_ready_pid(proc)
        process = read_process(pid)
        deep = capture_values(pid)
        assert deep.refused is None, deep.reason
    finally:
        demo.stop_workload(proc)
    timers = tuple(dataclasses.replace(t, values=deep.values[t.id]) for t in process.timers)
    path = tmp_path / "zoo.ttsnap"
    snap = Snapshot(
        host_facts(probe=False), capture_times(), (dataclasses.replace(process, timers=timers),)
    )
    snapshot_file.save(snap, path)
    return path


def restore(path: Path, mode: str) -> list[ev.Event]:
    (process,) = open_source(path).processes
    plan = build_plan(process, facts=local_facts(probe_alarm=True))
    return list(run(plan, mode=mode))  # type: ignore[arg-type]


def check(events: list[ev.Event], mode: str, path: Path) -> None:
    done = events[-1]
    assert isinstance(done, ev.Done)
    (verify,) = [e for e in events if isinstance(e, ev.Verify)]
    assert {c.timer_id: c.diffs for c in verify.checks if c.diffs} == {}
    assert done.ok and done.mode == mode
    (process,) = open_source(path).processes
    assert list(verify.equal_ids) == [t.id for t in process.timers]
    codes = {e.code for e in events if isinstance(e, ev.Decision)}
    # The zoo has a helper-thread target and CPU clocks of its own pid and of that thread.
    assert {"thread-mapped", "cpu-clock-remapped"} <= codes


def test_zoo_restores_exactly(needs_exact_ids: None, zoo_file: Path) -> None:
    events = restore(zoo_file, "exact")
    check(events, "exact", zoo_file)
    done = events[-1]
    assert isinstance(done, ev.Done)
    assert done.deletes == 0


def test_zoo_restores_by_the_walk(zoo_file: Path) -> None:
    events = restore(zoo_file, "walk")
    check(events, "walk", zoo_file)
    done = events[-1]
    assert isinstance(done, ev.Done)
    assert done.creates == max(DEMO_IDS) + 1


def test_held_zoo_fires_at_the_captured_periods(needs_exact_ids: None, zoo_file: Path) -> None:
    """Deep values re-arm the restored timers: held, each signalling wall-clock timer expires
    at the period the workload armed it with."""
    import time

    from timertui.model import SIGEV_NONE

    (process,) = open_source(zoo_file).processes
    periodic = {
        t.id: t.values
        for t in process.timers
        if t.values and t.clock in (0, 1, 7, 11) and t.notify != SIGEV_NONE
        and t.values.interval_ns <= 1_000_000_000
    }  # fmt: skip
    assert len(periodic) >= 3
    stream = run(build_plan(process, facts=local_facts(probe_alarm=True)), hold=True)
    totals: dict[int, int] = {}
    held_at = None
    window_s = 2.0
    try:
        for event in stream:
            if isinstance(event, ev.Done):
                assert event.ok and event.holding
                held_at = time.monotonic()
            if isinstance(event, ev.Expiration):
                totals[event.timer_id] = event.total
            if held_at is not None and time.monotonic() - held_at > window_s:
                break
    finally:
        stream.close()
    for tid, values in periodic.items():
        first_s = values.remaining_ns / 1e9
        expected = 1 + int((window_s - first_s) / (values.interval_ns / 1e9))
        # Reports come every 100 ms: allow the window's edges.
        assert expected - 2 <= totals.get(tid, 0) <= expected + 1, (tid, values, totals)
