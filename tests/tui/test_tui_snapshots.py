"""SVG snapshots of every screen on deterministic data (pytest-textual-snapshot). After an
intended change of the look: `pytest tests/tui/test_tui_snapshots.py --snapshot-update`, then
review the SVGs under tests/tui/__snapshots__/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from builders import DEMO_PID, exact_events, walk_events
from scenes import MakeApp, ScriptedRestorer, Snap, settle, until
from textual.pilot import Pilot
from textual.widgets import Input

from timertui.model import ProcessTimers
from timertui.restore import events as ev
from timertui.tui.app import TimerTuiApp
from timertui.tui.restorer import RunRequest
from timertui.tui.run_view import RunView
from timertui.tui.screens.runs import REDRAW_SECONDS

SNAPSHOT_DIR = Path("/nonexistent/timertui/snapshots")  # shown in the dialog, never written


def scripted(
    fraction: float, finish: bool
) -> Callable[[ProcessTimers, RunRequest], list[ev.Event]]:
    def script(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
        if request.mode == "exact":
            return exact_events(process)
        return walk_events(process, fraction, finish)

    return script


def scene_app(make_app: MakeApp, script: Any = None, focus: int = DEMO_PID) -> TimerTuiApp:
    restorer = ScriptedRestorer(script or scripted(1.0, True))
    return make_app(restorer=restorer, snapshot_dir=SNAPSHOT_DIR, focus_pid=focus)


async def drawn(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Until `done()`, then past the run screens' redraw delay, so the picture shows it."""
    await until(pilot, done)
    await pilot.pause(REDRAW_SECONDS * 3)


def view_of(pilot: Pilot[None], key: str = "") -> RunView:
    screen: Any = pilot.app.screen
    return screen.views[key] if key else screen.view


def test_processes(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("space")

    assert snap(scene_app(make_app, focus=3001), run_before)


def test_timers_and_gap_map(snap: Snap, make_app: MakeApp) -> None:
    assert snap(scene_app(make_app), settle)


def test_filter(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"!root !nginx")

    assert snap(scene_app(make_app), run_before)


def test_snapshot_dialog(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        box = pilot.app.screen.query_one("#snap-name", Input)
        box.value = "demo.ttsnap"

    assert snap(scene_app(make_app), run_before)


def test_restore_mid_walk(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("s")
        await drawn(pilot, lambda: view_of(pilot).creates == 800_001)

    app = scene_app(make_app, scripted(0.4, finish=False))
    assert snap(app, run_before)


def test_restore_decisions(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("s")
        await drawn(pilot, lambda: view_of(pilot).finished)
        await pilot.press("d")
        app: Any = pilot.app
        app.clear_notifications()

    assert snap(scene_app(make_app), run_before)


def test_race(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("R", "s")
        await drawn(pilot, lambda: view_of(pilot, "walk").creates == 800_001)

    app = scene_app(make_app, scripted(0.4, finish=False))
    assert snap(app, run_before)


def test_help(snap: Snap, make_app: MakeApp) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")

    assert snap(scene_app(make_app), run_before)
