"""Offline and back: a snapshot browsed on top of the live host is left with esc or the palette's
"Back to the live host"; an app started on a snapshot offers neither."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from builders import process, scene_processes, snapshot_of
from scenes import MakeApp, RunApp, ScriptedSource, until
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from timertui import snapshot_file
from timertui.model import O_CLOEXEC, HostFacts, TimerFd
from timertui.tui.app import TimerTuiApp
from timertui.tui.palette import BACK_TO_LIVE, TimerCommands
from timertui.tui.process_sources import FrozenSource
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.snapshots import SnapshotsScreen
from timertui.tui.widgets.host_bar import host_text


async def browse_offline(app: TimerTuiApp, pilot: Pilot[None]) -> ProcessesScreen:
    """S, then enter on the folder's one snapshot: its processes, offline."""
    await pilot.press("S")
    listing = app.screen
    assert isinstance(listing, SnapshotsScreen)
    table = listing.query_one(DataTable)
    await until(pilot, lambda: table.row_count == 1)
    await pilot.press("enter")
    await until(pilot, lambda: app.is_offline(app.screen))
    offline = app.screen
    assert isinstance(offline, ProcessesScreen)
    source_line = offline.query_one("#host-source", Static)
    await until(pilot, lambda: "esc: back to live" in str(source_line.render()))
    return offline


async def by_escape(app: TimerTuiApp, pilot: Pilot[None]) -> None:
    assert app.screen.active_bindings["escape"].binding.action == "back_to_live"
    await pilot.press("escape")


async def by_palette(app: TimerTuiApp, pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*"back to the live")
    await pilot.pause(0.3)
    await pilot.press("enter")


@pytest.mark.parametrize("go_back", [by_escape, by_palette], ids=["escape", "palette"])
async def test_back_to_the_live_host(
    go_back: Callable[[TimerTuiApp, Pilot[None]], Awaitable[None]],
    tmp_path: Path,
    make_app: MakeApp,
    run_app: RunApp,
) -> None:
    folder = tmp_path / "snaps"
    folder.mkdir()
    snapshot_file.save(snapshot_of(), folder / "all.ttsnap")
    app = make_app(ScriptedSource([scene_processes()]), snapshot_dir=folder)
    async with run_app(app) as pilot:
        home = app.screen
        await browse_offline(app, pilot)
        assert app.can_go_live()
        await go_back(app, pilot)
        await until(pilot, lambda: app.screen is home)
        assert len(app.screen_stack) == 1 and not app.can_go_live()
        await pilot.press("escape")  # on the live screen esc has nothing to go back to
        await pilot.pause()
        assert app.screen is home


async def test_started_offline_offers_no_way_live(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    folder = tmp_path / "snaps"
    folder.mkdir()
    snapshot_file.save(snapshot_of(), folder / "all.ttsnap")
    app = make_app(snapshot_dir=folder)
    async with run_app(app) as pilot:
        await pilot.press("S")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: len(app.screen_stack) == 3)
        assert app.is_offline(app.screen) and not app.can_go_live()
        assert "escape" not in app.screen.active_bindings
        source_line = app.screen.query_one("#host-source", Static)
        assert "back to live" not in str(source_line.render())
        provider = TimerCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]
        assert BACK_TO_LIVE not in names and "Snapshots" in names


def test_criu_host_bar_says_what_is_unknown() -> None:
    criu = HostFacts("", "", "", "x86_64", None, 0, 0)
    text = host_text(criu)
    assert text.startswith("x86_64 · no host facts recorded")
    assert "0/0" not in text and "Linux" not in text
    assert "RLIMIT_SIGPENDING 63,432/63,432" in host_text(snapshot_of().host)


def test_a_checkpoint_lists_a_process_whose_only_timer_is_a_timerfd() -> None:
    """criu #3162's case: a timerfd alone is worth restoring and verifying, so a checkpoint's
    process that holds only one is listed without `a`; one that holds no timer is not."""
    stalled = TimerFd(3, 1, 1, 0, 0, 100_000_000, O_CLOEXEC)
    fd_only = replace(process([]), pid=77, timerfds=(stalled,))
    idle = replace(process([]), pid=78)
    source = FrozenSource(snapshot_of([idle, fd_only]), "checkpoint")
    assert [p.pid for p in source.scan(False)] == [77]
    assert [p.pid for p in source.scan(True)] == [77, 78]
