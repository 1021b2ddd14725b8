"""`timertui calibrate`: the simulator's costs measured on this kernel, in a child process."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from timertui.capture.proc_timers import read_timers
from timertui.restore.calibrate import calibrate
from timertui.restore.sim.costs import CALIBRATED, MEASURES, costs_path, load_costs

# Measured straight, never a difference clamped at zero: each takes some time.
TIMED = ("create_ns", "prctl_ns", "process_start_ns", "spawn_start_ns", "setup_ns", "probe_ns")


def test_calibrate_measures_in_a_child_and_stores_for_this_release(
    costs_cache: Path, needs_proc_timers: None
) -> None:
    costs, path = calibrate()
    assert read_timers(os.getpid()).timers == ()  # nothing was created in this process
    assert costs.source == CALIBRATED and costs.release == os.uname().release
    assert path == costs_path() == costs_cache / f"{os.uname().release}.json"
    assert load_costs() == costs
    stored = json.loads(path.read_text())
    assert {name: stored[name] for name, _ in MEASURES} == {
        name: getattr(costs, name) for name, _ in MEASURES
    }
    for name, _ in MEASURES:
        value = getattr(costs, name)
        assert math.isfinite(value) and 0 <= value < 10e9, (name, value)  # ns: under 10 s each
        assert value > 0 or name not in TIMED, name
    assert 50 < costs.pair_ns < 50_000  # a create and a delete: well under a microsecond here
    assert 50 < costs.exact_create_ns < 50_000
    assert costs.create_ns < costs.process_start_ns < costs.spawn_start_ns  # fork < interpreter
