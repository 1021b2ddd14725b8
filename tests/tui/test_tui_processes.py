"""The processes screen driven as a person would (Pilot) on deterministic sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import DEMO_PID, HOST, PID, armed, process, scene_processes, snapshot_of, timer
from scenes import MakeApp, RunApp, ScriptedSource, keys_listed, settle, until
from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from timertui import snapshot_file
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import Access, ProcessTimers
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import FrozenSource
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.snapshot_dialog import SnapshotDialog
from timertui.tui.widgets.gap_map import GapMap
from timertui.tui.widgets.host_bar import HostBar
from timertui.tui.widgets.process_table import ProcessTable
from timertui.tui.widgets.screen_help import ScreenHelp
from timertui.tui.widgets.timers_table import TimersTable


def table(app: TimerTuiApp) -> ProcessTable:
    return app.screen.query_one(ProcessTable)


def shown_pids(app: TimerTuiApp) -> list[int]:
    t = table(app)
    return [int(t.get_row_at(i)[1].plain) for i in range(t.row_count)]


async def run_in_palette(pilot: Pilot[None], text: str) -> None:
    """Open the command palette, type `text`, run the best hit."""
    await settle(pilot)
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause(0.3)  # the palette searches in a worker of its own
    await pilot.press("enter")
    await settle(pilot)


async def test_lists_processes_with_timers_and_the_unreadable(
    make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app(focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        await settle(pilot)
        assert shown_pids(app) == [1, 812, 1500, 2210, 3001, DEMO_PID, 5150]
        t = table(app)
        assert t.get_row("1")[5].plain == "no access"
        demo_row = [c.plain for c in t.get_row(str(DEMO_PID))]
        # pid, user, ..., threads, timers, highest, gaps, walk cost
        assert demo_row[1:3] == [str(DEMO_PID), "alice"]
        assert demo_row[4:] == ["2", "12", "2,000,000", "4", "2,000,001"]
        assert t.highlighted_pid == DEMO_PID
        timers = app.screen.query_one(TimersTable)
        assert timers.row_count == 12
        assert timers.get_row("1500004")[1].plain == f"CPU PROF of tid {DEMO_PID + 2}"
        gap_map = app.screen.query_one(GapMap)
        assert gap_map.report is not None and gap_map.report.walk.creates == 2_000_001
        bar = app.screen.query_one(HostBar)
        assert bar.host == HOST
        assert "scene.ttsnap (offline)" in str(bar.query_one("#host-source").render())


async def test_filter_matches_name_pid_user_and_negates(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nginx")
        await pilot.pause(0.3)  # the filter applies once typing pauses
        assert shown_pids(app) == [5150]
        box = app.screen.query_one("#filter", Input)
        box.value = "!nginx !systemd"
        await pilot.pause(0.3)
        assert shown_pids(app) == [812, 1500, 2210, 3001, DEMO_PID]
        box.value = "alice"
        await pilot.pause(0.3)
        assert shown_pids(app) == [DEMO_PID]
        box.value = "2210"
        await pilot.pause(0.3)
        assert shown_pids(app) == [2210]
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.screen.focused is table(app)
        assert shown_pids(app) == [2210]
        await pilot.press("escape")
        assert len(shown_pids(app)) == 7
        assert not box.display


async def test_space_marks_and_U_unmarks(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        assert "U" not in app.screen.active_bindings  # nothing marked: hidden
        await pilot.press("down", "space", "space")
        t = table(app)
        assert t.marked == {812, 1500}
        assert t.get_row("812")[0].plain == "●"
        assert t.highlighted_pid == 2210  # each mark moves down, as in htop
        assert "U" in app.screen.active_bindings
        await pilot.press("U")
        assert t.marked == set()
        assert t.get_row("812")[0].plain == " "


async def test_sort_keys_and_header_click(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app(focus_pid=2210)
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("greater_than_sign")  # pid -> user
        t = table(app)
        assert t.sort_column == "user"
        users = [t.get_row_at(i)[2].plain for i in range(t.row_count)]
        assert users == sorted(users, key=str.casefold)
        assert t.highlighted_pid == int(t.keys[0])  # a new order is shown from its top
        # Click the WALK COST header: sort by it; click again: reversed.
        x = t.render_line(0).text.index("WALK COST")
        await pilot.click(ProcessTable, offset=(x, 0))
        assert (t.sort_column, t.sort_reverse) == ("walk", False)
        await pilot.click(ProcessTable, offset=(x, 0))
        assert (t.sort_column, t.sort_reverse) == ("walk", True)
        order = shown_pids(app)
        assert order[0] == DEMO_PID  # the 2,000,001-create walk first
        assert order[-1] == 1  # no access has no cost: last either way
        assert "WALK COST ▼" in t.render_line(0).text
        await pilot.press("less_than_sign", "I")
        assert (t.sort_column, t.sort_reverse) == ("gaps", False)


async def test_a_toggles_every_process(make_app: MakeApp, run_app: RunApp) -> None:
    idle = ProcessTimers(77, 1, "sleep", ("sleep", "1000"), 1000, "bob", "sleeping", (77,), ())
    app = make_app(FrozenSource(snapshot_of([*scene_processes(), idle]), "x"))
    async with run_app(app) as pilot:
        await settle(pilot)
        assert 77 not in shown_pids(app)
        await pilot.press("a")
        await settle(pilot)
        assert 77 in shown_pids(app)
        assert table(app).get_row("77")[5].plain == "0"


async def test_pause_stops_polling_and_shows_the_banner(make_app: MakeApp, run_app: RunApp) -> None:
    source = ScriptedSource([scene_processes()])
    app = make_app(source, interval=0.25)
    async with run_app(app) as pilot:
        await pilot.pause(0.6)
        assert source.calls >= 2  # it polls on its own
        banner = app.screen.query_one("#paused-banner")
        assert not banner.display
        await pilot.press("p")
        assert banner.display
        assert "PAUSED" in str(banner.render())
        calls = source.calls
        await pilot.pause(0.8)
        assert source.calls == calls
        await pilot.press("p")
        await settle(pilot)
        assert source.calls == calls + 1
        assert not banner.display


async def test_no_polls_while_another_screen_is_on_top(make_app: MakeApp, run_app: RunApp) -> None:
    """A restore (or any screen) on top: the processes under it are not scanned meanwhile (a
    restore target's own timers would cost the kernel seconds a scan); back, a scan at once."""
    source = ScriptedSource([scene_processes()])
    app = make_app(source, interval=0.25)
    async with run_app(app) as pilot:
        await pilot.pause(0.6)
        assert source.calls >= 2  # it polls on its own
        processes = app.screen
        await pilot.press("S")
        await until(pilot, lambda: app.screen is not processes)
        await pilot.pause(0.3)  # a scan begun just before may still count
        calls = source.calls
        await pilot.pause(0.8)
        assert source.calls == calls
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is processes)
        await until(pilot, lambda: source.calls > calls, timeout=0.2)  # at once, not in 0.25 s
        await pilot.pause(0.6)
        assert source.calls >= calls + 3  # polling again


async def test_plus_minus_change_the_refresh_rate(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app(ScriptedSource([scene_processes()]))
    async with run_app(app) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        await pilot.press("minus")
        assert screen.interval == 2.0
        await pilot.press("plus", "plus", "plus", "plus", "plus")
        assert screen.interval == 0.25  # the fastest step, not beyond
        source_line = str(screen.query_one("#host-source").render())
        assert "refresh every 0.25 s" in source_line


async def test_frozen_source_hides_live_only_keys(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        keys = app.screen.active_bindings
        assert "p" not in keys and "plus" not in keys
        assert "s" in keys and "slash" in keys


async def test_vanished_process_fades_then_goes_and_cursor_stays(
    make_app: MakeApp, run_app: RunApp
) -> None:
    procs = scene_processes()
    newcomer = ProcessTimers(
        600, 1, "cron", ("cron",), 0, "root", "sleeping", (600,), procs[1].timers
    )
    scans = [procs, [p for p in procs if p.pid != 2210] + [newcomer]]
    app = make_app(ScriptedSource(scans), focus_pid=3001, interval=10)
    async with run_app(app) as pilot:
        await settle(pilot)
        t = table(app)
        assert t.highlighted_pid == 3001
        row_before = t.cursor_row
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        screen._poll()
        await settle(pilot)
        # 2210 exited: still shown, marked gone; 600 appeared above the cursor.
        assert 2210 in shown_pids(app) and 600 in shown_pids(app)
        assert t.get_row("2210")[0].plain == "✕"
        assert t.get_row("2210")[5].plain == "gone"
        assert t.highlighted_pid == 3001
        assert t.cursor_row == row_before + 1
        # Shown faded for one refresh only: the next scan removes it.
        t.update_processes(screen.source.scan(False))  # type: ignore[attr-defined]
        await pilot.pause()
        assert 2210 not in shown_pids(app)
        assert t.highlighted_pid == 3001


async def test_snapshot_of_marked_processes_is_written(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app(
        ScriptedSource([scene_processes()]), snapshot_dir=tmp_path / "snaps", focus_pid=1500
    )
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("space")
        table(app).select_pid(DEMO_PID)
        await pilot.press("space", "s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SnapshotDialog)
        assert dialog.pids == (1500, DEMO_PID)
        name = dialog.query_one("#snap-name", Input)
        name.value = "pair"
        await pilot.press("enter")
        await settle(pilot)
        path = tmp_path / "snaps" / "pair.ttsnap"
        saved = snapshot_file.load(path)
        assert [p.pid for p in saved.processes] == [1500, DEMO_PID]
        assert saved.processes[1] == next(p for p in scene_processes() if p.pid == DEMO_PID)
        assert any(str(path) in n.message for n in app._notifications)


async def test_snapshot_dialog_escape_writes_nothing(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SnapshotDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ProcessesScreen)
        assert list(tmp_path.iterdir()) == []


async def test_help_lists_the_screen_keys(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, ProcessesScreen)  # the panel is beside the screen
        described = keys_listed(app)
        for key in ("Filter", "Mark", "Snapshot", "Sort →", "Help", "Quit"):
            assert key in described, key
        assert "Pause" not in described  # a frozen source has nothing to pause
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query(ScreenHelp)


async def test_palette_opens_a_snapshot_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: MakeApp, run_app: RunApp
) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative path: typing it key by key is slow
    path = tmp_path / "one.ttsnap"
    demo_only = [p for p in scene_processes() if p.pid == DEMO_PID]
    snapshot_file.save(snapshot_of(demo_only), path)
    app = make_app()
    async with run_app(app) as pilot:
        await run_in_palette(pilot, "./one.ttsnap")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        assert screen.source.label == "one.ttsnap"
        assert shown_pids(app) == [DEMO_PID]


async def test_palette_runs_screen_commands(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await run_in_palette(pilot, "All")
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        assert screen.include_all


async def test_a_failing_scan_becomes_a_notification(make_app: MakeApp, run_app: RunApp) -> None:
    class Broken(ScriptedSource):
        def scan(self, include_all: bool) -> list[ProcessTimers]:
            raise PermissionError(13, "Permission denied", "/proc")

    app = make_app(Broken([[]]))
    async with run_app(app) as pilot:
        await settle(pilot)
        notes = list(app._notifications)
        assert any("PermissionError" in n.message and "/proc" in n.message for n in notes)
        assert any(n.severity == "error" and "process scan failed" in n.title for n in notes)


async def test_no_color_keeps_states_readable(
    monkeypatch: pytest.MonkeyPatch, make_app: MakeApp, run_app: RunApp
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        await settle(pilot)
        assert app.no_color
        await pilot.press("space", "up")
        t = table(app)
        # Marks and access are text, not only colour.
        assert t.get_row(str(DEMO_PID))[0].plain == "●"
        assert t.get_row("1")[5].plain == "no access"


async def test_unreadable_process_is_listed_not_hidden(make_app: MakeApp, run_app: RunApp) -> None:
    hidden = ProcessTimers(99, 1, "secret", (), 0, "root", "", (), (), access=Access.NO_TIMERS_FILE)
    app = make_app(FrozenSource(snapshot_of([hidden]), "x"))
    async with run_app(app) as pilot:
        await settle(pilot)
        assert table(app).get_row("99")[5].plain == "no timers file"
        assert "r" not in app.screen.active_bindings  # nothing to restore


async def test_o_asks_for_a_path_and_browses_it(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    # The dialog's errors, completion and refusals: tests/tui/test_tui_open.py.
    path = tmp_path / "one.ttsnap"
    snapshot_file.save(snapshot_of([p for p in scene_processes() if p.pid == 812]), path)
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#dialog-input", Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProcessesScreen) and screen.source.label == "one.ttsnap"
        assert shown_pids(app) == [812]


async def test_restore_keys_come_back_after_a_no_access_row(
    make_app: MakeApp, run_app: RunApp
) -> None:
    # pid 1 is "no access": r and R do not apply there, and must be offered again below it.
    app = make_app(focus_pid=1)
    async with run_app(app) as pilot:
        await settle(pilot)
        t = table(app)
        assert t.highlighted_pid == 1
        assert "r" not in app.screen.active_bindings
        assert "timers unknown: no access" in app.screen.query_one(GapMap).render_line(0).text
        await pilot.press("down")
        await pilot.pause()
        assert t.highlighted_pid == 812
        # What the footer shows, not only what the keys would do.
        footer_keys = {k.key for k in app.screen.query(FooterKey)}
        assert {"r", "R"} <= footer_keys


async def test_at_80_columns_the_timers_pane_shows_the_values_after_id_and_clock(
    make_app: MakeApp, run_app: RunApp
) -> None:
    """Under 100 columns the gap map narrows (keeping its ID axis) and the timers pane is
    compact: its words take fewer cells, so REMAINING and INTERVAL are in view unpanned; wide,
    a CPU clock's whole name is."""
    cpu = make_cpu_clock(PID, CpuClockType.SCHED)
    proc = process([timer(7, values=armed(1500, 250)), timer(2_000_000, clock=cpu)])
    for small, shown, hidden in (
        (True, ("ID", "CLOCK", "REMAINING", "INTERVAL"), ("NOTIFY",)),
        (False, ("REMAINING", "INTERVAL", "OVERRUN", "NOTIFY"), ()),
    ):
        app = make_app(FrozenSource(snapshot_of([proc]), "two.ttsnap"), focus_pid=PID)
        async with run_app(app, small=small) as pilot:
            await settle(pilot)
            timers = app.screen.query_one(TimersTable)
            header = timers.render_line(0).text
            row = timers.render_line(2).text  # the CPU clock's row
            words = header.split()
            assert all(w in words for w in shown), header
            assert not any(w in words for w in hidden), header
            assert ("CPU SCHED of pid" in row) is not small, row
            gap_map = app.screen.query_one(GapMap)
            lines = [gap_map.render_line(y).text for y in range(gap_map.size.height)]
            axis = [line.split("│")[0].strip() for line in lines if "│" in line]
            assert axis and all(a.replace(",", "").isdigit() for a in axis), lines
