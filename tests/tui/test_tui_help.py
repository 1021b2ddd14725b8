"""`?` shows Textual's help panel beside the screen it is pressed on: the screen's words (on the
restore screen, backend, mode, hold, the simulator's kernel profiles and pace) above Textual's
KeyPanel, the keys that work there; `?` again hides it; every screen keeps q (quit) in its
footer."""

from __future__ import annotations

from builders import DEMO_PID, exact_events
from scenes import MakeApp, RunApp, ScriptedRestorer, keys_listed, settle, until
from textual.widgets import Static

from timertui.restore.sim.profiles import PROFILES
from timertui.tui import help_text
from timertui.tui.app import TimerTuiApp
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshots import SnapshotsScreen
from timertui.tui.widgets.screen_help import ScreenHelp


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
        await until(pilot, lambda: bool(app.screen.query(ScreenHelp)))
        screen = app.screen
        assert isinstance(screen, RestoreScreen)  # the panel is beside it, the screen usable
        words = str(screen.query_one("#help-topics", Static).render())
        for needed in ("backend", "native", "simulator", "mode", "auto", "exact", "walk", "hold"):
            assert needed in words, needed
        for profile, what in PROFILES.items():
            assert f"{profile}: {what}" in words
        for pace in ("instant", "real", "xN"):
            assert pace in words
        keys = keys_listed(app)
        for key in ("Start", "Run the restore with these choices", "Quit", "Help"):
            assert key in keys, key
        quit_key = screen.active_bindings["q"].binding
        assert quit_key.action == "app.quit" and quit_key.show  # q still quits
        await pilot.press("s")  # the keys still work beside the panel
        await until(pilot, lambda: screen.view.finished)
        assert "Cancel" not in keys_listed(app)
        await pilot.press("question_mark")
        await until(pilot, lambda: not screen.query(ScreenHelp))


async def test_snapshots_help(run_app: RunApp, make_app: MakeApp) -> None:
    app = app_on_demo(make_app)
    async with run_app(app, small=True) as pilot:
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SnapshotsScreen))
        assert app.screen.active_bindings["q"].binding.id == "app.quit"
        await pilot.press("question_mark")
        await until(pilot, lambda: bool(app.screen.query(ScreenHelp)))
        words = str(app.screen.query_one("#help-topics", Static).render())
        assert "rename keeps the extension" in words
