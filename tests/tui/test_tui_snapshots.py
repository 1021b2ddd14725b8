"""SVG snapshots of every screen on deterministic data (pytest-textual-snapshot). After an
intended change of the look: `pytest tests/tui/test_tui_snapshots.py --snapshot-update`, then
review the SVGs under tests/tui/__snapshots__/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from tui_scenes import DEMO_PID, ScriptedRestorer, exact_events, frozen_source, until, walk_events

from timertui.model import ProcessTimers
from timertui.restore import events as ev
from timertui.tui.app import TimerTuiApp
from timertui.tui.restorer import RunRequest
from timertui.tui.run_view import RunView
from timertui.tui.screens.runs import REDRAW_SECONDS

SIZE = (120, 40)
SNAPSHOT_DIR = Path("/nonexistent/timertui/snapshots")  # shown in the dialog, never written
Compare = Callable[..., bool]


def scripted(
    fraction: float, finish: bool
) -> Callable[[ProcessTimers, RunRequest], list[ev.Event]]:
    def script(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
        if request.mode == "exact":
            return exact_events(process)
        return walk_events(process, fraction, finish)

    return script


def make_app(script: Any = None, focus: int = DEMO_PID) -> TimerTuiApp:
    restorer = ScriptedRestorer(script or scripted(1.0, True))
    return TimerTuiApp(
        frozen_source(), restorer=restorer, snapshot_dir=SNAPSHOT_DIR, focus_pid=focus
    )


async def ready(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


async def drawn(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Until `done()`, then past the run screens' redraw delay, so the picture shows it."""
    await until(pilot, done)
    await pilot.pause(REDRAW_SECONDS * 3)


def view_of(pilot: Pilot[None], key: str = "") -> RunView:
    screen: Any = pilot.app.screen
    return screen.views[key] if key else screen.view


def test_processes(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("space")

    assert snap_compare(make_app(focus=3001), terminal_size=SIZE, run_before=run_before)


def test_timers_and_gap_map(snap_compare: Compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=ready)


def test_filter(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("slash", *"!root !nginx")
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_dialog(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("s")
        await pilot.pause()
        box = pilot.app.screen.query_one("#snap-name", Input)
        box.cursor_blink = False
        box.value = "demo.ttsnap"

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_restore_mid_walk(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("s")
        await drawn(pilot, lambda: view_of(pilot).creates == 800_001)

    app = make_app(scripted(0.4, finish=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_restore_decisions(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("s")
        await drawn(pilot, lambda: view_of(pilot).finished)
        await pilot.press("d")
        app: Any = pilot.app
        app.clear_notifications()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_race(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("R", "s")
        await drawn(pilot, lambda: view_of(pilot, "walk").creates == 800_001)

    app = make_app(scripted(0.4, finish=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: Compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
