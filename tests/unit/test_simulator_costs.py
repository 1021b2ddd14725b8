"""The simulator's cost model: built-in defaults, the stored calibration per kernel release
(written atomically), and `timertui calibrate`, which measures in a child process."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import stat
from pathlib import Path

import pytest

from timertui.capture.proc_timers import read_timers
from timertui.commands import calibrate as calibrate_command
from timertui.restore.costs import (
    BUILT_IN,
    CALIBRATED,
    DEFAULT_COSTS,
    MEASURES,
    CalibrationError,
    Costs,
    calibrate,
    costs_path,
    load_costs,
    save_costs,
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "timertui" / "costs"


def stored(release: str = "9.9.9-test") -> Costs:
    return dataclasses.replace(
        DEFAULT_COSTS, create_ns=111.0, source=CALIBRATED, release=release, measured_at="now"
    )


def test_without_calibration_the_defaults_are_named(cache: Path) -> None:
    costs = load_costs("9.9.9-test")
    assert costs.source == BUILT_IN
    assert costs.create_ns == DEFAULT_COSTS.create_ns
    assert costs.describe() == (
        "built-in defaults (no calibration for 9.9.9-test: run `timertui calibrate`)"
    )


def test_stored_per_release_and_read_back(cache: Path) -> None:
    path = save_costs(stored())
    assert path == cache / "9.9.9-test.json" == costs_path("9.9.9-test")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_costs("9.9.9-test") == stored()
    assert load_costs("1.0.0").source == BUILT_IN  # another release: not this calibration
    assert [p.name for p in cache.iterdir()] == ["9.9.9-test.json"]  # no temp file left


def test_a_damaged_file_counts_as_no_calibration(cache: Path) -> None:
    path = save_costs(stored())
    path.write_text('{"create_ns": 1')
    assert load_costs("9.9.9-test").source == BUILT_IN
    path.write_text(json.dumps({**dataclasses.asdict(stored()), "delete_ns": "fast"}))
    assert load_costs("9.9.9-test").source == BUILT_IN


def test_an_unwritable_cache_is_one_clear_error(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("not a directory")
    with pytest.raises(CalibrationError, match="cannot write"):
        save_costs(stored())


def test_calibrate_measures_in_a_child_and_stores_for_this_release(cache: Path) -> None:
    costs, path = calibrate()
    assert read_timers(os.getpid()).timers == ()  # nothing was created in this process
    assert costs.source == CALIBRATED and costs.release == os.uname().release
    assert path == costs_path() and load_costs() == costs
    for name, _ in MEASURES:
        assert getattr(costs, name) >= 0, name
    assert 50 < costs.pair_ns < 50_000  # a create and a delete: well under a microsecond here
    assert 50 < costs.exact_create_ns < 50_000
    assert costs.process_start_ns < costs.spawn_start_ns  # a fork beats a fresh interpreter


def run_command(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    calibrate_command.register(parser.add_subparsers())
    args = parser.parse_args(["calibrate", *argv])
    status: int = args.func(args)
    return status


def test_calibrate_command_show(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("--show") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["MEASURE", "NS", "WHAT"]
    assert "built-in defaults (no calibration for" in out
    assert run_command("--show", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == BUILT_IN and data["path"] == str(costs_path())
    assert {name for name, _ in MEASURES} <= set(data)
