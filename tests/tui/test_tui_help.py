"""`?` explains the screen it is opened on: on the restore screen, backend, mode, hold, the
simulator's kernel profiles and pace; every screen keeps q (quit) in its footer."""

from __future__ import annotations

from builders import DEMO_PID, exact_events
from rich.text import Text
from scenes import MakeApp, RunApp, ScriptedRestorer, settle, until
from textual.widgets import DataTable, Static

from timertui.restore.sim.profiles import PROFILES
from timertui.tui import help_text
from timertui.tui.app import TimerTuiApp
from timertui.tui.screens.help import HelpScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshots import SnapshotsScreen


def app_on_demo(make_app: MakeApp) -> TimerTuiApp:
    restorer = ScriptedRestorer(lambda p, r: exact_events(p), sim=True)
    return make_app(restorer=restorer, focus_pid=DEMO_PID)


def test_every_screen_has_words() -> None:
    for screen in ("processes", "restore", "race", "snapshots"):
        assert help_text.topics(screen), screen
    assert [h for h, _ in help_text.topics("unknown")] == ["palette"]


async def test_restore_help_explains_the_choices(run_app: RunApp, make_app: MakeApp) -> None:
    app = app_on_demo(make_app)
    async with run_app(app, small=True) as pilot:
        await settle(pilot)
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


async def test_snapshots_help(run_app: RunApp, make_app: MakeApp) -> None:
    app = app_on_demo(make_app)
    async with run_app(app, small=True) as pilot:
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SnapshotsScreen))
        assert app.screen.active_bindings["q"].binding.id == "app.quit"
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        words = str(app.screen.query_one("#help-topics", Static).render())
        assert "rename keeps the extension" in words
