"""The simulator's cost model: how long each step of a restore takes on this host.

`timertui calibrate` (timertui.restore.calibrate) measures it. The result is stored per kernel
release under the user's cache directory ($XDG_CACHE_HOME/timertui/costs/RELEASE.json), written
atomically. load_costs() falls back to DEFAULT_COSTS, named "built-in defaults", when no
calibration for the release exists.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from timertui.atomic import write_file
from timertui.errors import InputError
from timertui.locations import costs_dir

BUILT_IN = "built-in defaults"
CALIBRATED = "calibrated"


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
    # Timerfds and interval timers (a calibration from before them keeps the defaults).
    timerfd_ns: float = 4_000.0  # per timerfd: timerfd_create, dup3, close, timerfd_settime
    ticks_ns: float = 400.0  # TFD_IOC_SET_TICKS, per timerfd with pending ticks
    itimer_ns: float = 400.0  # one setitimer
    verify_fd_ns: float = 12_000.0  # verify, per timerfd (its fdinfo read and parsed)

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
    ("timerfd_ns", "timerfd: create, dup3, settime, per timerfd"),
    ("ticks_ns", "TFD_IOC_SET_TICKS, per timerfd with ticks"),
    ("itimer_ns", "setitimer, per interval timer"),
    ("verify_fd_ns", "verify phase, per timerfd"),
)
# Figures added after the first calibrations: a stored file without them takes the defaults.
_LATER = frozenset({"timerfd_ns", "ticks_ns", "itimer_ns", "verify_fd_ns"})

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
        costs = Costs(
            **{
                f.name: data[f.name]
                if f.name in data or f.name not in _LATER
                else getattr(DEFAULT_COSTS, f.name)
                for f in dataclasses.fields(Costs)
            }
        )
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
