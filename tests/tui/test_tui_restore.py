"""The restore screen: scripted event streams for the flows, the real native backend for the
end-to-end runs (restore, walk, cancel) on this kernel."""

from __future__ import annotations

import gc
import os
from dataclasses import replace

import pytest
from builders import DEMO_PID, MS, exact_events, snapshot_of, subject_process, walk_events
from scenes import MakeApp, RunApp, ScriptedRestorer, settle, until
from textual.pilot import Pilot
from textual.widgets import Checkbox, Select, TabbedContent

from timertui.model import ProcessTimers
from timertui.restore import events as ev
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import FrozenSource
from timertui.tui.restorer import BackendRestorer, RunRequest
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.widgets.gap_map import GapMap
from timertui.tui.widgets.run_panels import DecisionsLog, RunTimersTable, TimingPanel, VerifyTable


def finished_walk(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
    return walk_events(process, 1.0, finish=True)


def hanging_walk(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
    return walk_events(process, 0.4, finish=False)


async def open_restore(pilot: Pilot[None]) -> RestoreScreen:
    await settle(pilot)
    await pilot.press("r")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, RestoreScreen)
    return screen


async def test_scripted_walk_fills_states_decisions_and_verification(
    make_app: MakeApp, run_app: RunApp
) -> None:
    restorer = ScriptedRestorer(finished_walk)
    app = make_app(restorer=restorer, focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        timers = screen.query_one(RunTimersTable)
        assert {timers.get_row_at(i)[2].plain for i in range(timers.row_count)} == {"· pending"}
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        await pilot.pause()
        assert restorer.requests == [RunRequest("native", "auto", False, "", "")]
        states = {timers.get_row_at(i)[2].plain for i in range(timers.row_count)}
        assert states == {"✓ verified"}
        log = screen.query_one(DecisionsLog)
        codes = [log.get_row_at(i)[2].plain for i in range(log.row_count)]
        assert "walk-mode" in codes and "cpu-clock-remapped" in codes
        assert screen.query_one(TabbedContent).active == "verify"
        verify = screen.query_one(VerifyTable)
        assert verify.row_count == 12
        gap_map = screen.query_one(GapMap)
        assert gap_map.walked == 2_000_000
        assert "s" in screen.active_bindings  # can run again
        assert any("verified" in n.message for n in app._notifications)


def with_other_kinds(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
    """The exact restore, its verification also holding a timerfd that came back disarmed and
    an interval timer that is equal."""
    events = exact_events(process)
    at = next(i for i, e in enumerate(events) if isinstance(e, ev.Verify))
    verify = events[at]
    assert isinstance(verify, ev.Verify)
    disarmed = ev.TimerCheck(3, (ev.FieldDiff("remaining_ns", 100 * MS, 0),), "timerfd")
    events[at] = replace(verify, checks=(disarmed, ev.TimerCheck(0, (), "itimer")))
    return events


async def test_the_verification_lists_timerfds_and_interval_timers_after_the_ids(
    make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app(restorer=ScriptedRestorer(with_other_kinds), focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        await pilot.pause()
        verify = screen.query_one(VerifyTable)
        assert verify.row_count == 14  # the 12 POSIX timers, then fd 3 and ITIMER_REAL
        rows = [[c.plain for c in verify.row_cells(key)] for key in ("fd:3", "it:0")]
        assert rows[0][0] == "fd 3" and rows[0][1].endswith("differs")
        assert "remaining" in rows[0][2]
        assert rows[1] == ["ITIMER_REAL", "✓ verified", "all equal"]


async def test_escape_cancels_a_running_walk_then_goes_back(
    make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app(
        restorer=ScriptedRestorer(hanging_walk),
        focus_pid=DEMO_PID,
    )
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        await pilot.press("s")
        await until(
            pilot,
            lambda: screen.view.progress is not None and screen.view.progress.current_id >= 800_000,
        )
        assert screen.running
        assert "s" not in screen.active_bindings  # no second run while one runs
        gap_map = screen.query_one(GapMap)
        await until(pilot, lambda: gap_map.walked == 800_000)  # drawn REDRAW_SECONDS after
        assert gap_map.states is not None and gap_map.states[1_000_000] == "pending"
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)
        assert screen.view.error is not None and screen.view.error.code == "cancelled"
        assert screen.view.outcome == "✗ cancelled"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ProcessesScreen)


def held(process: ProcessTimers, request: RunRequest) -> list[ev.Event]:
    events = exact_events(process)
    done = events.pop()
    assert isinstance(done, ev.Done)
    t = done.t_ns
    return [*events, replace(done, holding=True), ev.Expiration(t + MS, 0, 2, 2, 0)]


async def test_hold_shows_expirations_and_escape_releases(
    make_app: MakeApp, run_app: RunApp
) -> None:
    restorer = ScriptedRestorer(held)
    app = make_app(restorer=restorer, focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        await pilot.click("#hold")
        assert str(screen.query_one("#hold", Checkbox).label) == "hold: on"
        await pilot.press("s")
        await until(pilot, lambda: screen.view.expirations)
        assert restorer.requests[0].hold
        assert screen.view.holding and screen.running
        timers = screen.query_one(RunTimersTable)
        assert timers.get_row("0")[3].plain == "fired 2 times"
        assert "escape" in screen.active_bindings
        assert screen.active_bindings["escape"].binding.description == "Release"
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)
        assert screen.view.outcome == "✓ released"
        assert screen.active_bindings["escape"].binding.description == "Back"


async def test_sim_choices_appear_only_with_the_simulator(
    make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app(
        restorer=ScriptedRestorer(finished_walk, sim=True),
        focus_pid=DEMO_PID,
    )
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        assert not screen.query_one("#sim-controls").display
        screen.query_one("#backend", Select).value = "sim"
        await pilot.pause()
        assert screen.query_one("#sim-controls").display
        screen.query_one("#kernel", Select).value = "3.10-6.14"
        screen.query_one("#pace", Select).value = "real"
        assert screen.request() == RunRequest("sim", "auto", False, "3.10-6.14", "real")


# -- the real native backend --------------------------------------------------------------------


def native_app(make_app: MakeApp, ids: list[int]) -> TimerTuiApp:
    """The app on this process holding timers at `ids`, restored by the real backend."""
    source = FrozenSource(snapshot_of([subject_process(ids)]), "native")
    return make_app(source, restorer=BackendRestorer())


@pytest.mark.kernel
@pytest.mark.parametrize(("mode", "creates"), [("exact", 3), ("walk", 40_001)])
async def test_native_restore_verifies(
    needs_exact_ids: None, mode: str, creates: int, run_app: RunApp, make_app: MakeApp
) -> None:
    app = native_app(make_app, [0, 3_000, 40_000])
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        screen.query_one("#mode", Select).value = mode
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        view = screen.view
        assert view.done is not None and view.done.ok, view.error
        assert (view.mode, view.creates) == (mode, creates)
        assert set(view.states.values()) == {"verified"}
        assert view.phases["create"] > 0


@pytest.mark.kernel
async def test_native_walk_cancel_kills_the_worker(
    needs_exact_ids: None, run_app: RunApp, make_app: MakeApp
) -> None:
    app = native_app(make_app, [0, 2_000_000_000])  # a walk of ~2 s: cancelled long before its end
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        screen.query_one("#mode", Select).value = "walk"
        await pilot.press("s")
        await until(pilot, lambda: screen.view.progress is not None)
        assert screen.view.start is not None
        worker_pid = screen.view.start.pid
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running, timeout=5)
        assert screen.view.error is not None and screen.view.error.code == "cancelled"
        assert screen.view.creates < 2_000_000_001
        with pytest.raises(ProcessLookupError):
            os.kill(worker_pid, 0)  # killed and reaped: not even a zombie


@pytest.mark.parametrize(
    ("kernel", "mode", "creates"), [("3.10-6.14", "walk", 40_001), ("6.15+", "exact", 3)]
)
async def test_simulator_restore_predicts(
    kernel: str, mode: str, creates: int, run_app: RunApp, make_app: MakeApp
) -> None:
    app = native_app(make_app, [0, 3_000, 40_000])
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        screen.query_one("#backend", Select).value = "sim"
        screen.query_one("#kernel", Select).value = kernel
        screen.query_one("#pace", Select).value = "instant"
        await pilot.pause()
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        view = screen.view
        assert view.start is not None and view.start.backend == "sim"
        assert view.done is not None and view.done.ok, view.error
        assert (view.mode, view.creates) == (mode, creates)
        assert set(view.states.values()) == {"verified"}
        assert screen.prediction is None  # a prediction goes beside native runs only


@pytest.mark.kernel
async def test_native_restore_shows_the_simulators_prediction(
    needs_exact_ids: None, run_app: RunApp, make_app: MakeApp
) -> None:
    app = native_app(make_app, [0, 3_000, 40_000])
    async with run_app(app) as pilot:
        screen = await open_restore(pilot)
        screen.query_one("#mode", Select).value = "walk"
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        prediction = screen.prediction
        assert prediction is not None
        await until(pilot, lambda: prediction.finished)
        assert prediction.creates == screen.view.creates == 40_001
        await pilot.pause(0.3)
        timing = str(screen.query_one(TimingPanel).render())
        assert "(sim " in timing and "sim 6.15+: 40,001 creates" in timing


async def test_the_heap_stays_out_of_full_collections_before_and_after_a_restore(
    make_app: MakeApp, run_app: RunApp
) -> None:
    """Once the app is up, what it holds is frozen out of the collector's full passes (they
    stalled keys during polls of 5,000 processes); the restore screen gives its objects back as
    it goes (thawing all), and the processes screen freezes what lives again when back."""
    app = make_app(restorer=ScriptedRestorer(finished_walk), focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() > 0
        screen = await open_restore(pilot)
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RestoreScreen))
        await pilot.pause()
        assert gc.get_freeze_count() > 0


@pytest.mark.parametrize(("small", "clock_width"), [(True, 12), (False, 22)])
async def test_at_80_columns_the_restore_screen_shows_each_timers_state(
    make_app: MakeApp, run_app: RunApp, small: bool, clock_width: int
) -> None:
    """The timers pane of the restore screen is ~40 cells at 80 columns: the clock's word takes
    fewer of them so that STATE stays in view; wide, the clock's whole name shows."""
    app = make_app(restorer=ScriptedRestorer(finished_walk), focus_pid=DEMO_PID)
    async with run_app(app, small=small) as pilot:
        screen = await open_restore(pilot)
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        await pilot.pause()
        timers = screen.query_one(RunTimersTable)
        assert "STATE" in timers.render_line(0).text.split()
        assert "verified" in timers.render_line(1).text
        assert timers.render_line(0).text.index("STATE") == 1 + 13 + 1 + clock_width + 1
