"""The race view: exact, walk and the simulator side by side, live."""

from __future__ import annotations

import pytest
from builders import DEMO_PID, exact_events, snapshot_of, subject_process, walk_events
from scenes import MakeApp, RunApp, ScriptedRestorer, settle, until
from textual.pilot import Pilot

from timertui.model import ProcessTimers
from timertui.restore import events as ev
from timertui.tui.process_sources import FrozenSource
from timertui.tui.restorer import BackendRestorer, RunRequest
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.race import RaceLane, RaceScreen
from timertui.tui.widgets.run_panels import RunProgress


def exact_done_walk_hangs(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
    if request.mode == "exact":
        return exact_events(process)
    return walk_events(process, 0.4, finish=False)


async def open_race(pilot: Pilot[None], key: bool = True) -> RaceScreen:
    await settle(pilot)
    if key:
        await pilot.press("R")
    else:
        # What R does, without press()'s wait for an idle CPU: that would wait for the walk's end.
        await pilot.app.run_action("race", pilot.app.screen)
    await pilot.pause(0.01)
    screen = pilot.app.screen
    assert isinstance(screen, RaceScreen)
    assert not screen.views  # ready, waiting for s (as the restore screen does)
    await pilot.app.run_action("start", screen)
    return screen


async def test_scripted_race_exact_done_while_walk_runs(make_app: MakeApp, run_app: RunApp) -> None:
    restorer = ScriptedRestorer(exact_done_walk_hangs)
    app = make_app(restorer=restorer, focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        screen = await open_race(pilot)
        await until(pilot, lambda: screen.views["exact"].finished and screen.views["walk"].progress)
        assert [r.mode for r in restorer.requests] == ["exact", "walk"]  # no simulator lane run
        assert screen.views["exact"].outcome == "✓ verified"
        assert screen.views["walk"].outcome == "running"
        sim_lane = screen.query_one("#lane-sim", RaceLane)
        assert sim_lane.unavailable is not None
        assert "not available" in str(sim_lane.query_one(".note").render())
        walk_progress = screen.query_one("#lane-walk").query_one(RunProgress)
        # Drawn at most REDRAW_SECONDS after its event.
        await until(pilot, lambda: "running · walk" in walk_progress.label)
        assert "escape" in screen.active_bindings and "s" not in screen.active_bindings
        await pilot.press("escape")  # cancels every lane
        await until(pilot, lambda: not screen.running)
        assert screen.views["walk"].outcome == "✗ cancelled"
        await pilot.press("escape")  # now back
        await pilot.pause()
        assert isinstance(app.screen, ProcessesScreen)


async def test_scripted_race_with_a_simulator_runs_three_lanes(
    make_app: MakeApp, run_app: RunApp
) -> None:
    restorer = ScriptedRestorer(exact_done_walk_hangs, sim=True)
    app = make_app(restorer=restorer, focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        screen = await open_race(pilot)
        await until(pilot, lambda: len(restorer.requests) == 3)
        assert restorer.requests[2] == RunRequest("sim", "auto", False, "3.10-6.14", "real")
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)


@pytest.mark.kernel
async def test_native_race_walk_keeps_moving_after_exact_is_done(
    needs_exact_ids: None, make_app: MakeApp, run_app: RunApp
) -> None:
    proc = subject_process([0, 1_000_000, 2_000_000])
    app = make_app(FrozenSource(snapshot_of([proc]), "seed"), restorer=BackendRestorer())
    async with run_app(app) as pilot:
        screen = await open_race(pilot, key=False)
        await until(pilot, lambda: screen.views["exact"].finished)
        walk = screen.views["walk"]
        assert not walk.finished  # exact is done; the walk is still walking
        seen = walk.reached
        await until(pilot, lambda: walk.finished, timeout=60)  # 2,000,001 creates on a busy VM
        assert walk.reached > seen
        exact = screen.views["exact"]
        assert exact.done is not None and exact.done.ok and exact.creates == 3
        assert walk.done is not None and walk.done.ok and walk.creates == 2_000_001
        assert exact.phases["create"] * 100 < walk.phases["create"]
        sim = screen.views["sim"]  # the simulator's 3.10-6.14 walk, played in real time
        await until(pilot, lambda: sim.finished)
        assert sim.done is not None and sim.done.ok and sim.start is not None
        assert (sim.start.kernel, sim.mode, sim.creates) == ("3.10-6.14", "walk", 2_000_001)
