"""`?` explains the screen it is opened on: on the restore screen, backend, mode, hold, the
simulator's kernel profiles and pace; every screen keeps q (quit) in its footer."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable, Static
from tui_scenes import DEMO_PID, ScriptedRestorer, exact_events, frozen_source, until

from timertui.restore.sim.profiles import PROFILES
from timertui.tui import help_text
from timertui.tui.app import TimerTuiApp
from timertui.tui.screens.help import HelpScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshots import SnapshotsScreen

SIZE = (80, 24)


def app_on_demo(tmp_path: Path) -> TimerTuiApp:
    restorer = ScriptedRestorer(lambda p, r: exact_events(p), sim=True)
    return TimerTuiApp(
        frozen_source(), restorer=restorer, snapshot_dir=tmp_path, focus_pid=DEMO_PID
    )


def test_every_screen_has_words() -> None:
    for screen in ("processes", "restore", "race", "snapshots"):
        assert help_text.topics(screen), screen
    assert [h for h, _ in help_text.topics("unknown")] == ["palette"]


async def test_restore_help_explains_the_choices(tmp_path: Path) -> None:
    app = app_on_demo(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.pause()
        assert "q" in app.screen.active_bindings  # q Quit on the restore screen
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        words = str(help_screen.query_one("#help-topics", Static).render())
        for needed in ("backend", "native", "simulator", "mode", "auto", "exact", "walk", "hold"):
            assert needed in words, needed
        for profile, what in PROFILES.items():
            assert f"{profile}: {what}" in words
        for pace in ("instant", "real", "xN"):
            assert pace in words
        table: DataTable[Text] = help_screen.query_one("#help-keys", DataTable)
        assert "Start" in [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        quit_key = help_screen.active_bindings["q"].binding
        assert quit_key.action == "app.quit" and quit_key.show  # q still quits from help
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))


async def test_snapshots_help(tmp_path: Path) -> None:
    app = app_on_demo(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SnapshotsScreen))
        assert app.screen.active_bindings["q"].binding.id == "app.quit"
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        words = str(app.screen.query_one("#help-topics", Static).render())
        assert "rename keeps the extension" in words
