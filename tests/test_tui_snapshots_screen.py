"""The snapshots screen: the folder's files listed with what they hold, opened, restored."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import DataTable, Select
from tui_scenes import (
    DEMO_PID,
    ScriptedRestorer,
    frozen_source,
    processes,
    snapshot,
    until,
    walk_events,
)

from timertui import snapshot as snapshot_file
from timertui.tui.app import TimerTuiApp
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshots import SnapshotsScreen, default_snapshot_dir, list_entries
from timertui.tui.widgets.process_table import ProcessTable

SIZE = (120, 40)


def fill(folder: Path) -> None:
    folder.mkdir(parents=True)
    snapshot_file.save(snapshot(), folder / "all.ttsnap")
    demo_only = [p for p in processes() if p.pid == DEMO_PID]
    snapshot_file.save(snapshot(demo_only), folder / "demo.ttsnap")
    (folder / "broken.ttsnap").write_bytes(b"\x89TTSNAP\nnot really")
    for age, name in enumerate(("broken.ttsnap", "demo.ttsnap", "all.ttsnap")):
        stamp = 1_700_000_000 - age * 60  # newest first in the list
        os.utime(folder / name, (stamp, stamp))
    (folder / ".demo.ttsnap.tmp").write_bytes(b"")  # a save under way: not listed


def test_default_folder_follows_xdg(monkeypatch: object, tmp_path: Path) -> None:
    mp = monkeypatch
    mp.setenv("XDG_DATA_HOME", str(tmp_path))  # type: ignore[attr-defined]
    assert default_snapshot_dir() == tmp_path / "timertui" / "snapshots"
    mp.delenv("XDG_DATA_HOME")  # type: ignore[attr-defined]
    assert default_snapshot_dir() == Path.home() / ".local/share/timertui/snapshots"
    assert list_entries(tmp_path / "missing") == []


async def test_folder_listed_opened_and_restored(tmp_path: Path) -> None:
    folder = tmp_path / "snaps"
    fill(folder)
    restorer = ScriptedRestorer(lambda p, r: walk_events(p, 1.0, finish=True))
    app = TimerTuiApp(frozen_source(), restorer=restorer, snapshot_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SnapshotsScreen)
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 3 and table.get_row_at(2)[3].plain != "…")
        rows = {table.get_row_at(i)[0].plain: table.get_row_at(i) for i in range(3)}
        assert (
            list(rows) == ["broken.ttsnap", "demo.ttsnap", "all.ttsnap"]
            or list(rows)[-1] == "all.ttsnap"
        )
        assert [c.plain for c in rows["all.ttsnap"][3:5]] == ["7", "94"]
        assert [c.plain for c in rows["demo.ttsnap"][3:5]] == ["1", "12"]
        assert "broken.ttsnap" in rows["broken.ttsnap"][5].plain  # the reason, one line

        # Enter browses the file offline.
        table.move_cursor(row=list(rows).index("all.ttsnap"))
        await pilot.press("enter")
        await until(
            pilot, lambda: getattr(getattr(app.screen, "source", None), "label", "") == "all.ttsnap"
        )
        browse = app.screen
        assert isinstance(browse, ProcessesScreen) and browse.source.label == "all.ttsnap"
        await until(pilot, lambda: browse.query_one(ProcessTable).row_count == 7)
        await pilot.press("escape")  # nothing to clear: stays
        app.pop_screen()
        await pilot.pause()

        # r on a one-process file opens the restore screen on it.
        table.move_cursor(row=list(rows).index("demo.ttsnap"))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        restore = app.screen
        assert isinstance(restore, RestoreScreen)
        assert restore.process.pid == DEMO_PID and "demo.ttsnap" in restore.origin


async def test_empty_folder_says_how_to_fill_it(tmp_path: Path) -> None:
    app = TimerTuiApp(frozen_source(), snapshot_dir=tmp_path / "none")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert any("no snapshots in" in n.message for n in app._notifications)
        assert "r" not in app.screen.active_bindings


async def test_criu_image_directory_opens_and_restores(stress_ng_dir: Path, tmp_path: Path) -> None:
    app = TimerTuiApp(frozen_source(), snapshot_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_path(str(stress_ng_dir), "restore")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.pause()  # mounted
        restore = app.screen
        assert isinstance(restore, RestoreScreen)
        assert restore.process.pid == 19876 and restore.origin.endswith(stress_ng_dir.name)
        (timer,) = restore.process.timers
        assert timer.values is not None and timer.values.interval_ns == 10_000_000
        restore.query_one("#backend", Select).value = "sim"
        restore.query_one("#pace", Select).value = "instant"
        await pilot.press("s")
        await until(pilot, lambda: restore.view.finished)
        assert restore.view.ok and restore.view.creates == 1
