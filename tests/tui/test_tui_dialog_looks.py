"""SVG snapshots at 80x24 of the dialogs and help (pytest-textual-snapshot). After an intended
change of the look: `pytest tests/tui/test_tui_dialog_looks.py --snapshot-update`, then review the
SVGs under tests/tui/__snapshots__/test_tui_dialog_looks/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_scenes import DEMO_PID, ScriptedRestorer, exact_events, frozen_source, until

from timertui.tui.app import TimerTuiApp
from timertui.tui.screens.help import HelpScreen
from timertui.tui.screens.open_dialog import OpenDialog
from timertui.tui.screens.restore import RestoreScreen

SIZE = (80, 24)
MISSING = "/nonexistent/timertui/old.ttsnap"  # the same path on every machine
Compare = Callable[..., bool]


def make_app() -> TimerTuiApp:
    restorer = ScriptedRestorer(lambda p, r: exact_events(p), sim=True)
    snapshots = Path("/nonexistent/timertui/snapshots")
    return TimerTuiApp(
        frozen_source(), restorer=restorer, snapshot_dir=snapshots, focus_pid=DEMO_PID
    )


def test_open_dialog_error(snap_compare: Compare) -> None:
    """`o`, a path that is not there, enter: the error under the path, which is kept."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, OpenDialog))
        box = pilot.app.screen.query_one(Input)
        box.cursor_blink = False
        box.value = MISSING
        await pilot.press("enter")
        error = pilot.app.screen.query_one("#dialog-error", Static)
        await until(pilot, lambda: error.display)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_restore_help(snap_compare: Compare) -> None:
    """`?` on the restore screen: backend, mode, hold, profiles, pace; q still in the footer."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, RestoreScreen))
        await pilot.pause()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
