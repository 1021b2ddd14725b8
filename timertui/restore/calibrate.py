"""`timertui calibrate`: the simulator's cost model (timertui.restore.sim.costs) measured on this
host, in a child process — a fresh interpreter, so the calling process never creates a timer: the
native layer's C loops time the walk's step (one create and one delete), timer_create through the
counter, timer_settime and the prctl; native restores of a few small plans time what the worker
adds around them (process start, set-up, per-timer work of exact mode, of the walk and of
verification).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from timertui.restore.sim.costs import (
    CALIBRATED,
    MEASURES,
    CalibrationError,
    Costs,
    save_costs,
)

_WALK_PAIRS = 300_000  # per sample of the walk step: about 0.2 s
_BATCH = 1000  # timers per sample of the batch loops
_SAMPLES = 5  # native restores per plan, the median taken
_LOOP_SAMPLES = 7  # samples of each C loop, the best taken
_DENSE = 2000  # timers of the native restores that time the per-timer work
_MINUTE_NS = 60_000_000_000


def measure() -> Costs:
    """Measure this host in a child interpreter (never in this process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "timertui.restore.calibrate"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CalibrationError(f"calibration child failed (status {proc.returncode}): {last}")
    figures = json.loads(proc.stdout)
    return Costs(
        **{name: float(figures[name]) for name, _ in MEASURES},
        source=CALIBRATED,
        release=os.uname().release,
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def calibrate() -> tuple[Costs, Path]:
    """Measure this host and store the result for its kernel release."""
    costs = measure()
    return costs, save_costs(costs)


# -- the child: everything below runs in the calibration process only --------------------------


def _best_ns(sample: Callable[[], float]) -> float:
    """The fastest of a few samples: other load on the host only ever adds time."""
    return min(sample() for _ in range(_LOOP_SAMPLES))


def _timed(action: Callable[[], object]) -> int:
    """CPU time of this thread (user and kernel), not wall time: on a busy host the wall
    clock also counts the time other processes held the CPU."""
    start = time.thread_time_ns()
    action()
    return time.thread_time_ns() - start


def _syscall_costs() -> dict[str, float]:
    """The C loops of the native layer, in this (child) process."""
    from timertui import _native
    from timertui._native import PR_TIMER_CREATE_RESTORE_IDS as PR_RESTORE_IDS
    from timertui._native import RESTORE_IDS_GET, ffi, lib
    from timertui.model import INT_MAX, SIGEV_NONE

    # A wanted ID the walk never reaches: every iteration is one create and one delete.
    far = _native.make_spec(1, SIGEV_NONE, 0, 0, want_id=INT_MAX)
    state = ffi.new("struct tt_walk_state *")
    state.last_id = -1

    def walk_step() -> float:
        return _timed(lambda: _native.check(lib.tt_walk(far, _WALK_PAIRS, state))) / _WALK_PAIRS

    specs = ffi.new("struct tt_spec[]", [(0, 1, SIGEV_NONE, 0, 0, 0)] * _BATCH)
    errs = ffi.new("int[]", _BATCH)
    got = ffi.new("int[]", _BATCH)

    def create() -> float:
        ns = _timed(lambda: lib.tt_create_exact_until(specs, _BATCH, errs, got, 0))
        if any(ffi.unpack(errs, _BATCH)):
            raise OSError("timer_create failed while calibrating")
        for timer_id in ffi.unpack(got, _BATCH):
            lib.tt_timer_delete(timer_id)
        return ns / _BATCH

    def prctl() -> float:
        calls = range(2000)
        return _timed(lambda: [lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_GET) for _ in calls]) / 2000

    create_ns = _best_ns(create)
    return {
        "create_ns": create_ns,
        "delete_ns": max(_best_ns(walk_step) - create_ns, 0.0),
        "prctl_ns": _best_ns(prctl),
    }


def _worker_costs(create_ns: float) -> dict[str, float]:
    """Native restores (worker children of this process) of 1 and of _DENSE timers: each
    phase fitted as a fixed part plus a part per timer."""
    from timertui.capture.host import probe_exact_ids
    from timertui.choices import Mode, StartMethod
    from timertui.model import SIGEV_NONE, ProcessTimers, Timer, TimerValues
    from timertui.restore import events as ev
    from timertui.restore import run
    from timertui.restore.plan import build_plan

    values = TimerValues(_MINUTE_NS, 0, 0)

    def phases(count: int, mode: Mode, start: StartMethod = "fork") -> dict[str, float]:
        """Median ns per phase over a few restores of timers 0..count-1."""
        timers = tuple(Timer(i, 1, SIGEV_NONE, 1, 0, 0, values) for i in range(count))
        plan = build_plan(ProcessTimers(1, 0, "calibrate", (), 0, "", "S", (1,), timers))
        runs = []
        for _ in range(_SAMPLES):
            done = [e for e in run(plan, mode=mode, start=start) if isinstance(e, ev.Done)]
            if not done or not done[0].ok:
                raise OSError(f"native {mode} restore of {count} timers did not verify")
            runs.append(done[0].phases)
        return {name: statistics.median(r.get(name, 0) for r in runs) for name in runs[0]}

    def per_timer(one: dict[str, float], many: dict[str, float], name: str) -> float:
        return max(many[name] - one[name], 0.0) / (_DENSE - 1)

    mode: Mode = "exact" if probe_exact_ids().ok else "walk"
    one, many = phases(1, mode), phases(_DENSE, mode)
    walk_one, walk_many = (
        (one, many) if mode == "walk" else (phases(1, "walk"), phases(_DENSE, "walk"))
    )
    exact_create = per_timer(one, many, "create")
    settime = per_timer(one, many, "arm")
    verify = per_timer(one, many, "verify")
    return {
        "exact_create_ns": exact_create,
        "settime_ns": settime,
        "process_start_ns": one["spawn"],
        "spawn_start_ns": phases(1, mode, "spawn")["spawn"],
        "start_timer_ns": per_timer(one, many, "spawn"),
        "setup_ns": one["setup"],
        "setup_timer_ns": per_timer(one, many, "setup"),
        "probe_ns": one["probe"],
        "create_phase_ns": max(one["create"] - exact_create, 0.0),
        "walk_timer_ns": max(per_timer(walk_one, walk_many, "create") - create_ns, 0.0),
        "arm_ns": max(one["arm"] - settime, 0.0),
        "verify_ns": max(one["verify"] - verify, 0.0),
        "verify_timer_ns": verify,
    }


_FDS = 200  # timerfds per sample, at fds from _FIRST_FD
_FIRST_FD = 500


def _timerfd_costs() -> dict[str, float]:
    """A timerfd's restore (timerfd_create, dup3, close, timerfd_settime), with and without
    ticks to put back; setitimer; the check of one from its fdinfo."""
    import os

    from timertui._native import ffi, lib
    from timertui.capture.timerfds import parse_timerfd

    tfds = ffi.new("struct tt_tfd[]", _FDS)
    for i, slot in enumerate(tfds):
        slot.fd, slot.clock, slot.value_ns, slot.interval_ns = _FIRST_FD + i, 1, 10**11, 10**11
    errs, stages = ffi.new("int[]", _FDS), ffi.new("int[]", _FDS)

    def restore(ticks: int) -> float:
        for slot in tfds:
            slot.ticks = ticks
        took = _timed(lambda: lib.tt_restore_timerfds(tfds, _FDS, errs, stages))
        for i in range(_FDS):
            os.close(_FIRST_FD + i)
        return took / _FDS

    def verify() -> float:
        def read_all() -> None:
            for i in range(_FDS):
                with open(f"/proc/self/fdinfo/{_FIRST_FD + i}") as f:  # noqa: PTH123
                    parse_timerfd(f.read(), _FIRST_FD + i)

        lib.tt_restore_timerfds(tfds, _FDS, errs, stages)
        try:
            return _timed(read_all) / _FDS
        finally:
            for i in range(_FDS):
                os.close(_FIRST_FD + i)

    timerfd = _best_ns(lambda: restore(0))
    itimer = _best_ns(lambda: _timed(lambda: lib.tt_setitimer(2, 0, 0, 0, 0)))
    return {
        "timerfd_ns": timerfd,
        "ticks_ns": max(_best_ns(lambda: restore(1)) - timerfd, 0.0),
        "itimer_ns": itimer,
        "verify_fd_ns": _best_ns(verify),
    }


def _measure_here() -> dict[str, float]:
    figures = _syscall_costs()
    figures.update(_worker_costs(figures["create_ns"]))
    figures.update(_timerfd_costs())
    return figures


if __name__ == "__main__":
    json.dump(_measure_here(), sys.stdout)
