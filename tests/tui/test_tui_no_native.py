"""`timertui --no-native` (what `timertui serve --public` runs for visitors): native restores and
deep capture are refused where they are asked for, saying why; the simulator stays."""

from __future__ import annotations

from pathlib import Path

from builders import DEMO_PID, scene_processes
from scenes import RunApp, ScriptedSource, on_process, settle, until

from timertui.choices import NATIVE, SIM
from timertui.tui.lockdown import REASON, NoNativeApp
from timertui.tui.screens.race import RaceLane, RaceScreen
from timertui.tui.screens.restore import RestoreScreen


async def test_native_and_deep_capture_are_refused_visibly(tmp_path: Path, run_app: RunApp) -> None:
    app = NoNativeApp(
        ScriptedSource([scene_processes()]), snapshot_dir=tmp_path, focus_pid=DEMO_PID
    )
    try:
        async with run_app(app) as pilot:
            await on_process(pilot, DEMO_PID)
            notices = [n.message for n in app._notifications]
            assert any("native restores and deep capture are off" in m for m in notices)
            # Deep capture: `v` not offered, the snapshot dialog's switch off with the reason.
            assert app.screen.check_action("values", ()) is False
            assert app.deep_unavailable() == f"deep capture (ptrace) is {REASON}"
            assert app.restorer.unavailable(NATIVE) == f"native restore is {REASON}"
            assert app.restorer.unavailable(SIM) is None

            # The race: both native lanes say why; the simulator's lane is there to run.
            await pilot.press("R")
            await until(pilot, lambda: isinstance(app.screen, RaceScreen))
            race = app.screen
            for key in ("exact", "walk"):
                lane = race.query_one(f"#lane-{key}", RaceLane)
                assert lane.unavailable == f"native restore is {REASON}"
                assert "not available: native restore is off" in str(
                    lane.query_one(".note").render()
                )
            assert race.query_one("#lane-sim", RaceLane).unavailable is None
            await pilot.press("escape")
            await settle(pilot)

            # The restore screen: a native start fails with the reason, no worker run.
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
            await settle(pilot)
            await app.run_action("start", app.screen)
            await until(
                pilot,
                lambda: any("pick the simulator" in n.message for n in app._notifications),
            )
            assert app.restorer.server is None  # type: ignore[attr-defined]
    finally:
        app.close_restorer()
