"""SVG snapshots at 80x24 of the dialogs and help (pytest-textual-snapshot). After an intended
change of the look: `pytest tests/tui/test_tui_dialog_looks.py --snapshot-update`, then review the
SVGs under tests/tui/__snapshots__/test_tui_dialog_looks/."""

from __future__ import annotations

from pathlib import Path

from builders import DEMO_PID, exact_events
from scenes import MakeApp, ScriptedRestorer, Snap, settle, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from timertui.tui.app import TimerTuiApp
from timertui.tui.screens.open_dialog import OpenDialog
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.widgets.screen_help import ScreenHelp

MISSING = "/nonexistent/timertui/old.ttsnap"  # the same path on every machine


def scene_app(make_app: MakeApp) -> TimerTuiApp:
    restorer = ScriptedRestorer(lambda p, r: exact_events(p), sim=True)
    snapshots = Path("/nonexistent/timertui/snapshots")
    return make_app(restorer=restorer, snapshot_dir=snapshots, focus_pid=DEMO_PID)


def test_open_dialog_error(snap: Snap, make_app: MakeApp) -> None:
    """`o`, a path that is not there, enter: the error under the path, which is kept."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, OpenDialog))
        box = pilot.app.screen.query_one(Input)
        box.value = MISSING
        await pilot.press("enter")
        error = pilot.app.screen.query_one("#dialog-error", Static)
        await until(pilot, lambda: error.display)

    assert snap(scene_app(make_app), run_before, small=True)


def test_restore_help(snap: Snap, make_app: MakeApp) -> None:
    """`?` on the restore screen: backend, mode, hold, profiles, pace; q still in the footer."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, RestoreScreen))
        await pilot.pause()
        await pilot.press("question_mark")
        await until(pilot, lambda: bool(pilot.app.screen.query(ScreenHelp)))
        await pilot.pause()

    assert snap(scene_app(make_app), run_before, small=True)
