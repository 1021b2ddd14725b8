"""The simulator's cost model: how long each step of a restore takes on this host.

`timertui calibrate` (calibrate()) measures it in a child process — a fresh interpreter, so the
calling process never creates a timer: the native layer's C loops time the walk's step (one
create and one delete), timer_create through the counter, timer_settime and the prctl; native
restores of a few small plans time what the worker adds around them (process start, set-up,
per-timer work of exact mode, of the walk and of verification). The result is stored per kernel
release under the user's cache directory ($XDG_CACHE_HOME/timertui/costs/RELEASE.json), written
atomically. load_costs() falls back to DEFAULT_COSTS, named "built-in defaults", when no
calibration for the release exists.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from timertui.atomic import write_file
from timertui.errors import InputError
from timertui.locations import costs_dir

BUILT_IN = "built-in defaults"
CALIBRATED = "calibrated"
_WALK_PAIRS = 300_000  # per sample of the walk step: about 0.2 s
_BATCH = 1000  # timers per sample of the batch loops
_SAMPLES = 5  # native restores per plan, the median taken
_LOOP_SAMPLES = 7  # samples of each C loop, the best taken
_DENSE = 2000  # timers of the native restores that time the per-timer work
_MINUTE_NS = 60_000_000_000


class CalibrationError(InputError):
    """Calibration could not run or its file cannot be written."""


@dataclass(frozen=True)
class Costs:
    """Nanoseconds per step. create, delete and prctl are the kernel's (timed in C); the rest
    are the native worker's phases as a fixed part plus a part per timer, fitted from restores
    of 1 and of 2,000 timers, so predicted phases match a native run's."""

    create_ns: float  # timer_create through the ID counter (a walk step's create)
    delete_ns: float  # timer_delete (a walk step's delete)
    exact_create_ns: float  # per timer of an exact-mode create phase
    settime_ns: float  # per timer of the arm phase (timer_settime)
    prctl_ns: float  # one prctl(PR_TIMER_CREATE_RESTORE_IDS)
    process_start_ns: float  # a forked worker: run start to its first event
    spawn_start_ns: float  # a worker started as a fresh interpreter (the TUI's way)
    start_timer_ns: float  # either start, per timer of the plan
    setup_ns: float  # the set-up phase
    setup_timer_ns: float  # the set-up phase, per timer
    probe_ns: float  # the probe phase (the prctl and its reporting)
    create_phase_ns: float  # the create phase's fixed part
    walk_timer_ns: float  # the walk's work per wanted timer beyond its creates and deletes
    arm_ns: float  # the arm phase's fixed part
    verify_ns: float  # the verify phase's fixed part
    verify_timer_ns: float  # the verify phase, per timer
    source: str = BUILT_IN
    release: str = ""
    measured_at: str = ""  # ISO 8601, UTC

    @property
    def pair_ns(self) -> float:
        """One walk step that is not kept: a create and a delete."""
        return self.create_ns + self.delete_ns

    def describe(self) -> str:
        if self.source == CALIBRATED:
            return f"calibrated on {self.release} at {self.measured_at}"
        release = self.release or "this kernel"
        return f"{BUILT_IN} (no calibration for {release}: run `timertui calibrate`)"


# What each figure is, in the order displays list them.
MEASURES: tuple[tuple[str, str], ...] = (
    ("create_ns", "timer_create through the ID counter (walk step)"),
    ("delete_ns", "timer_delete (walk step)"),
    ("exact_create_ns", "exact-ID create, per timer"),
    ("settime_ns", "timer_settime, per timer armed"),
    ("prctl_ns", "prctl(PR_TIMER_CREATE_RESTORE_IDS)"),
    ("process_start_ns", "restore worker start (fork)"),
    ("spawn_start_ns", "restore worker start (fresh interpreter)"),
    ("start_timer_ns", "worker start, per timer of the plan"),
    ("setup_ns", "set-up phase, fixed part"),
    ("setup_timer_ns", "set-up phase, per timer"),
    ("probe_ns", "probe phase"),
    ("create_phase_ns", "create phase, fixed part"),
    ("walk_timer_ns", "walk: worker work per wanted timer"),
    ("arm_ns", "arm phase, fixed part"),
    ("verify_ns", "verify phase, fixed part"),
    ("verify_timer_ns", "verify phase, per timer"),
)

# About what this project's development machine measured (Linux 6.18, x86_64).
DEFAULT_COSTS = Costs(
    create_ns=400.0,
    delete_ns=300.0,
    exact_create_ns=700.0,
    settime_ns=900.0,
    prctl_ns=270.0,
    process_start_ns=1_500_000.0,
    spawn_start_ns=45_000_000.0,
    start_timer_ns=200.0,
    setup_ns=550_000.0,
    setup_timer_ns=1_800.0,
    probe_ns=100_000.0,
    create_phase_ns=120_000.0,
    walk_timer_ns=250.0,
    arm_ns=40_000.0,
    verify_ns=150_000.0,
    verify_timer_ns=9_000.0,
)


def costs_path(release: str | None = None) -> Path:
    return costs_dir() / f"{release or os.uname().release}.json"


def load_costs(release: str | None = None) -> Costs:
    """The calibration stored for `release` (this host's by default), else the built-in
    defaults, named as such. A file that does not parse counts as none."""
    release = release or os.uname().release
    try:
        data = json.loads(costs_path(release).read_text())
        costs = Costs(**{f.name: data[f.name] for f in dataclasses.fields(Costs)})
    except (OSError, ValueError, KeyError, TypeError):
        return dataclasses.replace(DEFAULT_COSTS, release=release)
    if costs.source != CALIBRATED or not all(
        isinstance(getattr(costs, name), int | float) for name, _ in MEASURES
    ):
        return dataclasses.replace(DEFAULT_COSTS, release=release)
    return costs


def save_costs(costs: Costs) -> Path:
    """Write `costs` for its release atomically (timertui.atomic). A file already there stays
    intact if anything fails."""
    path = costs_path(costs.release)
    data = json.dumps(dataclasses.asdict(costs), indent=2).encode() + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, data)
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


def measure() -> Costs:
    """Measure this host in a child interpreter (never in this process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "timertui.restore.costs"],
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


def _measure_here() -> dict[str, float]:
    figures = _syscall_costs()
    figures.update(_worker_costs(figures["create_ns"]))
    return figures


if __name__ == "__main__":
    json.dump(_measure_here(), sys.stdout)
