"""`make screenshots`: SVGs of each screen, taken from the app running on this host against the
demo workload (real timers, a real native walk), for the README.

    python -m timertui.tui.screenshots [OUT_DIR]      (default: screenshots/)

Writes processes.svg, timers-gapmap.svg, restore-midwalk.svg, decisions.svg and race.svg.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Select

from timertui import demo
from timertui.choices import DEMO_IDS
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import LiveSource
from timertui.tui.screens.race import RaceScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.widgets.process_table import ProcessTable

SIZE = (120, 40)


async def _until(pilot: Pilot[None], done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the scene in time")
        # pause(delay): a bare pause() waits for an idle CPU, which a running walk never gives.
        await pilot.pause(0.01)


def _save(app: TimerTuiApp, out: Path, name: str) -> None:
    app.save_screenshot(name, str(out))
    print(out / name)


async def _shoot(out: Path, pid: int, folder: Path) -> None:
    app = TimerTuiApp(LiveSource(), snapshot_dir=folder, focus_pid=pid)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(ProcessTable)
        await _until(pilot, lambda: table.highlighted_pid == pid)
        await pilot.press("space")
        table.select_pid(pid)
        await pilot.pause(0.2)
        _save(app, out, "processes.svg")

        if app.deep_unavailable() is None:
            await pilot.press("v")
            title = app.screen.query_one("#timers-title")
            await _until(pilot, lambda: "values: " in str(title.render()))
            await pilot.pause(0.5)
        _save(app, out, "timers-gapmap.svg")

        await app.run_action("restore", app.screen)
        restore = app.screen
        assert isinstance(restore, RestoreScreen)
        await _until(pilot, lambda: bool(restore.query("#mode")))
        restore.query_one("#mode", Select).value = "walk"
        await pilot.pause(0.05)
        await app.run_action("start", restore)
        top = max(DEMO_IDS)
        await _until(pilot, lambda: restore.view.reached >= top * 0.45 or restore.view.finished)
        _save(app, out, "restore-midwalk.svg")
        await _until(pilot, lambda: restore.view.finished)
        await app.run_action("show_tab('decisions')", restore)
        app.clear_notifications()
        await pilot.pause(0.3)
        _save(app, out, "decisions.svg")

        restore.dismiss()
        await pilot.pause(0.1)
        await app.run_action("race", app.screen)
        race = app.screen
        assert isinstance(race, RaceScreen)
        await _until(pilot, lambda: bool(race.query(".lane")))
        await app.run_action("start", race)  # the race waits for s, as the restore screen does
        await _until(pilot, lambda: bool(race.views))
        await _until(
            pilot,
            lambda: race.views["exact"].finished and race.views["walk"].reached >= top * 0.5,
        )
        _save(app, out, "race.svg")
        await app.run_action("cancel", race)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    workload = demo.spawn_workload(DEMO_IDS, zoo=True)
    try:
        pid = demo.read_ready_pid(workload)
        with tempfile.TemporaryDirectory(prefix="timertui-shots-") as folder:
            asyncio.run(_shoot(out, pid, Path(folder)))
    finally:
        demo.stop_workload(workload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
