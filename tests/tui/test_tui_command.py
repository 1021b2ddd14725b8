"""`timertui` with no subcommand (timertui.tui.launch): options, bad input, the demo child."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest

from timertui.capture import proc_timers
from timertui.errors import InputError
from timertui.model import Access
from timertui.tui import launch as app_command
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import FrozenSource, LiveSource


@pytest.fixture
def no_terminal_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's run is replaced in these tests: it needs no terminal (pytest's stdin may be
    none), so run_app's refusal without one is lifted (tests/unit/test_cli_errors.py has it)."""
    monkeypatch.setattr(app_command, "_need_a_terminal", lambda: None)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    app_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_options() -> None:
    args = parse(["--snapshot", "x.ttsnap", "--snapshot-dir", "/tmp/s", "--demo"])
    assert (args.snapshot, args.snapshot_dir, args.demo) == ("x.ttsnap", Path("/tmp/s"), True)
    assert parse([]).snapshot is None


def test_bad_snapshot_is_one_line_before_any_app(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.ttsnap: no such file or directory"):
        app_command.run_app(parse(["--snapshot", str(tmp_path / "nope.ttsnap")]))


def test_snapshot_option_browses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_terminal_check: None
) -> None:
    from builders import snapshot_of

    from timertui import snapshot_file

    path = tmp_path / "scene.ttsnap"
    snapshot_file.save(snapshot_of(), path)
    seen: dict[str, Any] = {}

    def run(self: TimerTuiApp) -> None:
        seen["source"] = self.source

    monkeypatch.setattr(TimerTuiApp, "run", run)
    assert app_command.run_app(parse(["--snapshot", str(path), "--snapshot-dir", "/x"])) == 0
    source = seen["source"]
    assert isinstance(source, FrozenSource) and source.label == "scene.ttsnap"
    assert len(source.snapshot.processes) == 7


@pytest.mark.kernel
def test_demo_child_lives_for_the_session_only(
    needs_proc_timers: None, monkeypatch: pytest.MonkeyPatch, no_terminal_check: None
) -> None:
    seen: dict[str, Any] = {}

    def run(self: TimerTuiApp) -> None:
        pid = self.focus_pid
        assert pid is not None
        seen["pid"] = pid
        seen["source"] = self.source
        seen["timers"] = proc_timers.read_timers(pid)

    monkeypatch.setattr(TimerTuiApp, "run", run)
    assert app_command.run_app(parse(["--demo"])) == 0
    assert isinstance(seen["source"], LiveSource)
    reading = seen["timers"]
    assert reading.access is Access.OK
    assert [t.id for t in reading.timers][-1] == 2_000_000
    with pytest.raises(ProcessLookupError):
        os.kill(seen["pid"], 0)  # stopped and reaped when the app ended
