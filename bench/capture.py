"""Deep capture speed: what reading timer values by ptrace injection costs, and how long the
target stays stopped, next to a bare attach cycle measured on the same target in the same run.

The target is the demo workload (a Python process sleeping in select() while its timers fire)
with 1, 8 and 64 timers. The reference is the same C window with no syscall injected: seize,
interrupt, wait for the stop, read the registers, detach; every capture pays at least that. A
line fitted through the medians splits the cost into per process and per timer. Captures are
spaced a millisecond apart, as a poller would spread them. Goals: at most 1 ms per process plus
50 us per timer, and the target stopped under 2 ms at p99.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

from timertui import demo
from timertui._native._inject import ffi, lib
from timertui.capture import inject

SIZES = (1, 8, 64)
CAPTURES = 400
GAP_S = 0.001
GOAL_PROCESS_US, GOAL_TIMER_US, GOAL_STOPPED_P99_US = 1000.0, 50.0, 2000.0


def _quantiles(samples: list[float]) -> tuple[float, float]:
    """(median, p99)."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]


def _bare_cycle(pid: int) -> Callable[[], float]:
    """The reference: one attach cycle with nothing injected, placed as a capture would be
    (same thread choice and same-CPU rule); returns how long the target was stopped, in ns."""
    res = ffi.new("struct tti_result *")

    def cycle() -> float:
        thread = inject._pick_thread(pid, None)
        assert isinstance(thread, inject._Thread), thread
        running = thread.state == "R"
        same_cpu = thread.state in "SR" and inject._machine_idle(running)
        flags = lib.TTI_SAME_CPU | (lib.TTI_RUNNING if running else 0) if same_cpu else 0
        lib.tti_capture(thread.tid, inject._vdso_syscall(pid), flags, thread.cpu, ffi.NULL, 0, res)
        assert res.status == lib.TTI_OK, res.status
        return float(res.stopped_ns)

    return cycle


def _run(n: int, once: Callable[[], float]) -> tuple[list[float], list[float]]:
    """CAPTURES calls of `once` (which returns the stopped time in ns): wall and stopped, in us."""
    wall, stopped = [], []
    for _ in range(CAPTURES):
        start = time.perf_counter_ns()
        stopped_ns = once()
        wall.append((time.perf_counter_ns() - start) / 1e3)
        stopped.append(stopped_ns / 1e3)
        time.sleep(GAP_S)
    return wall, stopped


def _capture(pid: int, ids: list[int]) -> Callable[[], float]:
    def once() -> float:
        cap = inject.capture_values(pid, ids)
        assert cap.refused is None and len(cap.values) == len(ids), cap.reason
        return float(cap.stopped_ns)

    return once


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope) through (timers, us)."""
    slope, intercept = statistics.linear_regression(
        [float(n) for n, _ in points], [us for _, us in points]
    )
    return intercept, slope


def main() -> None:
    load = os.getloadavg()[0]  # other work on the machine shows in the p99s
    print(f"demo workload, {CAPTURES} captures per row, {GAP_S * 1e3:g} ms apart; load {load:.2f}")
    header = f"{'':34} {'capture us':>18} {'longest stop us':>20}"
    print(header)
    print(f"{'timers':34} {'median':>9} {'p99':>8} {'median':>10} {'p99':>9} {'x ref':>7}")
    medians: list[tuple[int, float]] = []
    stopped_all: list[float] = []
    ref_median = 0.0
    for n in SIZES:
        proc = demo.spawn_workload(list(range(n)), zoo=False)
        try:
            pid = demo.read_ready_pid(proc)
            if n == SIZES[0]:
                wall, stopped = _run(0, _bare_cycle(pid))
                (ref_median, ref_p99), (s_med, s_p99) = _quantiles(wall), _quantiles(stopped)
                name = "reference: bare attach cycle"
                print(f"{name:34} {ref_median:9.1f} {ref_p99:8.1f} {s_med:10.1f} {s_p99:9.1f}")
            wall, stopped = _run(n, _capture(pid, list(range(n))))
        finally:
            demo.stop_workload(proc)
        (w_med, w_p99), (s_med, s_p99) = _quantiles(wall), _quantiles(stopped)
        medians.append((n, w_med))
        stopped_all += stopped
        ratio = w_med / ref_median
        print(f"{n:<34} {w_med:9.1f} {w_p99:8.1f} {s_med:10.1f} {s_p99:9.1f} {ratio:7.2f}")
    per_process, per_timer = _fit(medians)
    stopped_p99 = _quantiles(stopped_all)[1]
    print(f"per process {per_process:7.1f} us (goal <= {GOAL_PROCESS_US:g})")
    print(f"per timer   {per_timer:7.1f} us (goal <= {GOAL_TIMER_US:g})")
    print(f"stopped p99 {stopped_p99:7.1f} us over all captures (goal < {GOAL_STOPPED_P99_US:g})")


if __name__ == "__main__":
    main()
