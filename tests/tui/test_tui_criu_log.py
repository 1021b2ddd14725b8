"""CRIU's own logs in the app: `o` on a log opens the log screen with the failing line, its cause
and what to check; images opened with their logs beside them offer them on `L`."""

from __future__ import annotations

from pathlib import Path

from recorded import SHARED_FIXTURES, missing
from scenes import MakeApp, RunApp, settle, until
from textual.widgets import Input, Static

from timertui.tui.screens.log import LogScreen
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.widgets.run_panels import TimingPanel

FAILED = Path(__file__).resolve().parents[1] / "data" / "criu-logs" / "fork-pid-taken"
IMAGES = SHARED_FIXTURES / "criu-timerfd-itimer" / "images"


def lines(screen: LogScreen, kind: str) -> list[str]:
    return [str(s.render()) for s in screen.query(Static).filter(f".log-{kind}")]


async def test_o_on_a_failed_restore_log_shows_where_and_why(
    make_app: MakeApp, run_app: RunApp
) -> None:
    async with run_app(make_app()) as pilot:
        await pilot.press("o")
        box = pilot.app.screen.query_one("#dialog-input", Input)
        box.value = str(FAILED / "restore.log")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
        screen = pilot.app.screen
        assert isinstance(screen, LogScreen)
        (failed,) = lines(screen, "failed")
        assert failed.startswith("restore failed after 30.")
        cause = lines(screen, "cause")
        assert "line 111" in cause[0] and "Can't fork for 7407: File exists" in cause[0]
        assert "pid 7407 is taken" in cause[1]
        assert any("rlimit: Can't setup RLIMIT_NOFILE" in e for e in lines(screen, "error"))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, ProcessesScreen))


async def test_images_with_their_logs_offer_them_on_l(make_app: MakeApp, run_app: RunApp) -> None:
    if not (IMAGES / "restore.log").exists():
        missing("CRIU images with their logs", IMAGES)
    app = make_app()
    async with run_app(app) as pilot:
        assert app.check_action("criu_log", ()) is False  # nothing opened yet
        home = app.screen
        app.open_path(str(IMAGES))
        await until(pilot, lambda: app.screen is not home and app.logs is not None)
        assert isinstance(app.screen, ProcessesScreen)  # the images, browsed
        await settle(pilot)
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LogScreen))
        titles = lines(app.screen, "title")  # type: ignore[arg-type]
        assert any(t.endswith("dump.log") for t in titles)
        assert any(t.startswith("restore succeeded") for t in titles)


async def test_a_restore_of_those_images_shows_crius_own_timing(
    make_app: MakeApp, run_app: RunApp
) -> None:
    if not (IMAGES / "restore.log").exists():
        missing("CRIU images with their logs", IMAGES)
    app = make_app()
    async with run_app(app) as pilot:
        app.open_path(str(IMAGES), "restore")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        panel = app.screen.query_one(TimingPanel)
        await until(pilot, lambda: "CRIU" in str(panel.render()))
        timing = str(panel.render())
        assert "CRIU      succeeded in 58.0 ms (restore.log)" in timing
        assert "restorer to restored 1.5 ms (pid 2216" in timing
