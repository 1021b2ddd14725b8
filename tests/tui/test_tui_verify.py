"""The verify screen on scripted Reports: reached with V (or the palette) from an opened
checkpoint's process, its findings in the table as the watch goes on, the summary's counts and
progress, the detail of the timer under the cursor, another live pid (p), again (g), esc back;
its look at 80x24."""

from __future__ import annotations

import os
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from builders import DEMO_PID, host_process, plain_timers, scene_processes, snapshot_of
from command_line import NO_PID
from scenes import MakeApp, RunApp, Snap, settle, until
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from timertui import snapshot_file
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import FrozenSource
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.snapshots import SnapshotsScreen
from timertui.tui.screens.verify import PidDialog, VerifyScreen
from timertui.tui.widgets.findings_table import FindingsTable
from timertui.verify.findings import FieldDiff, Finding, Liveness, ProcessVerdict, Report, Status

WATCH_NS = 600_000_000
EQUAL = Finding("posix", 0, Status.EQUAL, liveness=Liveness.WATCHING, note="")
CHANGED = Finding(
    "posix",
    1,
    Status.DIFFERS,
    (FieldDiff("interval_ns", 10_000_000, 0),),
    note="its interval differs",
)
STALLED = Finding(
    "timerfd",
    17,
    Status.EQUAL,
    liveness=Liveness.STALLED,
    note="fired and not read at the checkpoint",
    watch_note="fired and not read (1 tick(s) pending)",
)
DEAD = Finding(
    "timerfd",
    17,
    Status.EQUAL,
    liveness=Liveness.DEAD,
    criu_issue="#3162",
    note="fired and not read at the checkpoint",
    watch_note="periodic (every 100.0 ms) but disarmed: it_value 0 and no expiry counted",
)


def report(live_pid: int, *findings: Finding, watched: int = 0, done: bool = False) -> Report:
    verdict = ProcessVerdict(DEMO_PID, live_pid, "demo", findings, live_comm="demo")
    return Report((verdict,), watched, WATCH_NS, done, "CLOCK_MONOTONIC at capture")


class ScriptedVerifier:
    """The first Report at once; the rest once `release` is set (the watch's looks)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[int] = []

    def __call__(self, *args: Any) -> Generator[Report, None, None]:
        live_pid = args[2]  # (snapshot, process, live_pid, sleep)
        self.calls.append(live_pid)
        yield report(live_pid, EQUAL, CHANGED, STALLED)
        self.release.wait()
        alive = Finding("posix", 0, Status.EQUAL, liveness=Liveness.ALIVE)
        yield report(live_pid, alive, CHANGED, DEAD, watched=WATCH_NS, done=True)


def verify_app(make_app: MakeApp, verifier: ScriptedVerifier) -> TimerTuiApp:
    return make_app(focus_pid=DEMO_PID, verifier=verifier)


def summary(app: TimerTuiApp) -> str:
    return str(app.screen.query_one("#verify-summary", Static).render())


async def open_verify(pilot: Pilot[None]) -> VerifyScreen:
    await settle(pilot)
    await pilot.press("V")
    await until(pilot, lambda: isinstance(pilot.app.screen, VerifyScreen))
    screen = pilot.app.screen
    assert isinstance(screen, VerifyScreen)
    await until(pilot, lambda: screen.report is not None)
    return screen


async def test_findings_update_as_the_watch_goes_on(make_app: MakeApp, run_app: RunApp) -> None:
    verifier = ScriptedVerifier()
    app = verify_app(make_app, verifier)
    async with run_app(app) as pilot:
        screen = await open_verify(pilot)
        assert verifier.calls == [DEMO_PID]
        table = screen.query_one(FindingsTable)
        assert [c.plain for c in table.get_row("timerfd:17")] == [
            "fd 17",
            "equal",
            "stalled",
            "",
            "fired and not read (1 tick(s) pending)",
        ]
        assert table.get_row("posix:1")[4].plain == "differs: interval_ns"
        assert (
            summary(app)
            == "verifying · 3 timers: 2 equal, 1 differ, 0 dead · watching 0.0 of 0.6 s"
        )
        assert not screen.check_action("again", ())  # g once the watch is done
        verifier.release.set()
        await until(pilot, lambda: screen.done)
        assert summary(app) == "FAILED · 3 timers: 2 equal, 1 differ, 1 dead · watched 0.6 s"
        assert [c.plain for c in table.get_row("timerfd:17")][1:4] == ["equal", "dead", "#3162"]
        table.move_to("posix:1")
        await pilot.pause()
        detail = str(screen.query_one("#verify-detail", Static).render())
        assert "  interval 10.0 ms -> 0 ns" in detail.splitlines()  # the command's words
        table.move_to("timerfd:17")
        await pilot.pause()
        detail = str(screen.query_one("#verify-detail", Static).render())
        assert detail.splitlines()[0] == "fd 17: equal, dead (criu #3162)"
        assert "it_value 0 and no expiry counted" in detail
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ProcessesScreen))


async def test_another_live_pid_and_again(make_app: MakeApp, run_app: RunApp) -> None:
    verifier = ScriptedVerifier()
    verifier.release.set()
    app = verify_app(make_app, verifier)
    async with run_app(app) as pilot:
        screen = await open_verify(pilot)
        await until(pilot, lambda: screen.done)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PidDialog))
        await pilot.press("ctrl+a", "ctrl+k", *"x1", "enter")
        await until(
            pilot,
            lambda: "not a pid: x1" in str(app.screen.query_one("#dialog-error", Static).render()),
        )
        await pilot.press("backspace", "backspace", *"777", "enter")
        await until(pilot, lambda: app.screen is screen and verifier.calls[-1] == 777)
        assert "against live pid 777" in str(screen.query_one("#verify-head", Static).render())
        await until(pilot, lambda: screen.done)
        await pilot.press("g")
        await until(pilot, lambda: len(verifier.calls) == 3)
        assert verifier.calls == [DEMO_PID, 777, 777]


async def test_the_palette_offers_verify_on_a_checkpoint(
    make_app: MakeApp, run_app: RunApp
) -> None:
    verifier = ScriptedVerifier()
    verifier.release.set()
    app = verify_app(make_app, verifier)
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"verify")
        await pilot.pause(0.3)  # the palette searches in a worker of its own
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, VerifyScreen))


async def test_the_snapshots_screen_verifies_a_one_process_file(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    folder = tmp_path / "snaps"
    folder.mkdir()
    demo_only = [p for p in scene_processes() if p.pid == DEMO_PID]
    snapshot_file.save(snapshot_of(demo_only), folder / "demo.ttsnap")
    snapshot_file.save(snapshot_of(), folder / "all.ttsnap")
    os.utime(folder / "all.ttsnap", (1_700_000_000, 1_700_000_000))  # listed second
    verifier = ScriptedVerifier()
    verifier.release.set()
    app = make_app(snapshot_dir=folder, verifier=verifier)
    async with run_app(app) as pilot:
        await pilot.press("S")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2)
        await pilot.press("V")
        await until(pilot, lambda: isinstance(app.screen, VerifyScreen))
        screen = app.screen
        assert isinstance(screen, VerifyScreen) and "demo.ttsnap" in screen.origin
        assert screen.process.pid == DEMO_PID
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SnapshotsScreen))
        table.move_cursor(row=1)  # all.ttsnap: several processes to pick from
        await pilot.press("V")
        await until(pilot, lambda: isinstance(app.screen, ProcessesScreen))
        assert verifier.calls == [DEMO_PID]


async def test_a_checkpoint_pid_not_running_here_is_said(
    make_app: MakeApp, run_app: RunApp
) -> None:
    """The engine itself: the checkpoint's pid is no process here, nor is the one given."""
    gone = host_process(int(NO_PID), "bob", "gone", "gone", plain_timers(int(NO_PID), [0]))
    app = make_app(FrozenSource(snapshot_of([gone]), "gone.ttsnap"), focus_pid=int(NO_PID))
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("V")
        await until(pilot, lambda: isinstance(app.screen, VerifyScreen))
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        await until(pilot, lambda: screen.done)
        assert summary(app) == f"cannot verify: no such process: {NO_PID}"


def test_verify_screen(snap: Snap, make_app: MakeApp) -> None:
    """The verify screen at 80x24 once the watch is done: a timerfd dead (criu #3162), a timer
    that differs, one alive; the detail of the dead one."""
    verifier = ScriptedVerifier()
    verifier.release.set()

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await open_verify(pilot)
        await until(pilot, lambda: screen.done)
        screen.query_one(FindingsTable).move_to("timerfd:17")
        await pilot.pause()

    assert snap(verify_app(make_app, verifier), run_before, small=True)
