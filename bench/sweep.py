"""Sweep speed: processes.scan() over ~2,000 processes, next to the bare reads it cannot avoid.

The reference is a loop that only lists /proc and reads every /proc/PID/timers: any sweep has to
do at least that. psutil.process_iter with the same attributes is the per-process-object baseline.
The goal is a default sweep of 2,000 processes well under 100 ms, fit for polling every second.
Naming each process's container (its /proc/PID/cgroup, cached per cgroup text) may cost at most
1.3x the sweep without it, measured in the same run with that step taken out.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable

import psutil

from timertui import _native  # imported here once, not in 2,000 children
from timertui.capture import processes
from timertui.model import SIGEV_NONE

TARGET_PROCESSES = 2000
WITH_TIMERS_EVERY = 20  # one spawned process in 20 holds timers
TIMERS_EACH = 3
RUNS = 9
PSUTIL_RUNS = 3
CONTAINER_GOAL = 1.3
PSUTIL_ATTRS = ["pid", "ppid", "name", "username", "status", "cmdline", "num_threads"]


def _hold(hold_r: int, hold_w: int, ready_w: int, timers: int) -> None:
    """Child: create `timers` unarmed timers, say ready, sleep until the parent's pipe closes."""
    os.close(hold_w)
    for _ in range(timers):
        _native.timer_create(1, SIGEV_NONE, 0, 0)  # CLOCK_MONOTONIC, never armed
    os.write(ready_w, b"r")
    os.read(hold_r, 1)  # returns at EOF: when the bench (or its crash) closes the write end


def spawn(count: int) -> tuple[list[int], int]:
    """Fork `count` sleeping children; returns their pids and the pipe end that keeps them alive."""
    hold_r, hold_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pids: list[int] = []
    try:
        for i in range(count):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - child
                code = 0
                try:
                    _hold(hold_r, hold_w, ready_w, TIMERS_EACH if i % WITH_TIMERS_EVERY == 0 else 0)
                except BaseException:
                    code = 1
                os._exit(code)
            pids.append(pid)
        os.close(ready_w)
        ready = 0
        while ready < count:
            chunk = os.read(ready_r, count)
            if not chunk:
                raise RuntimeError(f"only {ready} of {count} children started")
            ready += len(chunk)
    except BaseException:
        os.close(hold_w)
        reap(pids)
        raise
    finally:
        os.close(hold_r)
        os.close(ready_r)
    return pids, hold_w


def reap(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def stop(pids: list[int], hold_w: int) -> None:
    os.close(hold_w)  # every child's read returns EOF and it exits
    reap(pids)


def reference_sweep() -> int:
    """List /proc and read each /proc/PID/timers: the floor under any sweep."""
    found = 0
    for name in os.listdir("/proc"):  # noqa: PTH208 - the cheapest listing is the point
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/timers", os.O_RDONLY)
        except OSError:
            continue
        try:
            if os.read(fd, 1 << 16):
                found += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return found


def psutil_sweep() -> int:
    return len(list(psutil.process_iter(PSUTIL_ATTRS)))


def without_containers(sweep: Callable[[], object]) -> Callable[[], object]:
    """`sweep` with the container step taken out: the sweep as it was before it."""

    def run() -> object:
        step = processes._container_of
        processes._container_of = lambda pid, root: (None, None)
        try:
            return sweep()
        finally:
            processes._container_of = step

    return run


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    spawn_count = max(0, TARGET_PROCESSES - len(psutil.pids()))
    start = time.perf_counter()
    pids, hold_w = spawn(spawn_count)
    spawn_s = time.perf_counter() - start
    try:
        total = len(psutil.pids())
        with_timers = len(processes.scan())
        print(
            f"{total} processes ({spawn_count} spawned in {spawn_s:.1f} s), "
            f"{with_timers} with timers; median of {RUNS} runs ({PSUTIL_RUNS} for psutil)"
        )
        ref = median_ms(reference_sweep, RUNS)
        sweep_all = lambda: processes.scan(include_all=True)  # noqa: E731
        bare = median_ms(without_containers(processes.scan), RUNS)
        bare_all = median_ms(without_containers(sweep_all), RUNS)
        named = median_ms(processes.scan, RUNS)
        named_all = median_ms(sweep_all, RUNS)
        rows = [
            ("reference: list /proc + read timers", ref),
            ("scan() without containers", bare),
            ("scan()", named),
            ("scan(include_all=True) without containers", bare_all),
            ("scan(include_all=True)", named_all),
            ("psutil.process_iter(attrs)", median_ms(psutil_sweep, PSUTIL_RUNS)),
        ]
        print(f"{'sweep':44} {'ms':>8} {'x ref':>7} {'us/proc':>8}")
        for label, ms in rows:
            print(f"{label:44} {ms:8.1f} {ms / ref:7.2f} {ms * 1e3 / total:8.1f}")
        for label, ratio in (("scan()", named / bare), ("include_all", named_all / bare_all)):
            verdict = "met" if ratio <= CONTAINER_GOAL else "missed"
            goal = f"goal <= {CONTAINER_GOAL}x: {verdict}"
            print(f"containers named, {label}: {ratio:.2f}x without ({goal})")
    finally:
        stop(pids, hold_w)


if __name__ == "__main__":
    main()
