"""The simulator's cost model: built-in defaults, the stored calibration per kernel release
(written atomically), and `timertui calibrate --show`. The calibration itself, which measures
the kernel in a child process: tests/kernel/test_calibrate.py."""

from __future__ import annotations

import argparse
import dataclasses
import json
import stat
from pathlib import Path

import pytest

from timertui.commands import calibrate as calibrate_command
from timertui.restore.sim.costs import (
    BUILT_IN,
    CALIBRATED,
    DEFAULT_COSTS,
    MEASURES,
    CalibrationError,
    Costs,
    costs_path,
    load_costs,
    save_costs,
)


def stored(release: str = "9.9.9-test") -> Costs:
    return dataclasses.replace(
        DEFAULT_COSTS, create_ns=111.0, source=CALIBRATED, release=release, measured_at="now"
    )


def test_without_calibration_the_defaults_are_named(costs_cache: Path) -> None:
    costs = load_costs("9.9.9-test")
    assert costs.source == BUILT_IN
    assert costs.create_ns == DEFAULT_COSTS.create_ns
    assert costs.describe() == (
        "built-in defaults (no calibration for 9.9.9-test: run `timertui calibrate`)"
    )


def test_stored_per_release_and_read_back(costs_cache: Path) -> None:
    path = save_costs(stored())
    assert path == costs_cache / "9.9.9-test.json" == costs_path("9.9.9-test")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_costs("9.9.9-test") == stored()
    assert load_costs("1.0.0").source == BUILT_IN  # another release: not this calibration
    assert [p.name for p in costs_cache.iterdir()] == ["9.9.9-test.json"]  # no temp file left


def test_a_damaged_file_counts_as_no_calibration(costs_cache: Path) -> None:
    path = save_costs(stored())
    path.write_text('{"create_ns": 1')
    assert load_costs("9.9.9-test").source == BUILT_IN
    path.write_text(json.dumps({**dataclasses.asdict(stored()), "delete_ns": "fast"}))
    assert load_costs("9.9.9-test").source == BUILT_IN


def test_an_unwritable_cache_is_one_clear_error(costs_cache: Path) -> None:
    costs_cache.parent.mkdir(parents=True)
    costs_cache.write_text("not a directory")
    with pytest.raises(CalibrationError, match="cannot write"):
        save_costs(stored())


def run_command(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    calibrate_command.register(parser.add_subparsers())
    args = parser.parse_args(["calibrate", *argv])
    status: int = args.func(args)
    return status


def test_calibrate_command_show(costs_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command("--show") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["MEASURE", "NS", "WHAT"]
    assert "built-in defaults (no calibration for" in out
    assert run_command("--show", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == BUILT_IN and data["path"] == str(costs_path())
    assert {name for name, _ in MEASURES} <= set(data)
