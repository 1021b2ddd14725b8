"""The snapshots screen: the folder's files listed with what they hold, opened, restored,
renamed and deleted; the snapshot dialog's warning."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builders import DEMO_PID, scene_processes, snapshot_of, walk_events
from rich.text import Text
from scenes import MakeApp, RunApp, ScriptedRestorer, on_process, settle, until
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from timertui import snapshot_file
from timertui.errors import InputError
from timertui.locations import snapshot_dir
from timertui.tui.screens.confirm_dialog import ConfirmDialog
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.rename_dialog import RenameDialog
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshot_dialog import SnapshotDialog
from timertui.tui.screens.snapshots import SnapshotsScreen, list_entries
from timertui.tui.snapshot_files import delete_entry, rename_entry
from timertui.tui.widgets.process_table import ProcessTable


def fill(folder: Path) -> None:
    folder.mkdir(parents=True)
    snapshot_file.save(snapshot_of(), folder / "all.ttsnap")
    demo_only = [p for p in scene_processes() if p.pid == DEMO_PID]
    snapshot_file.save(snapshot_of(demo_only), folder / "demo.ttsnap")
    (folder / "broken.ttsnap").write_bytes(b"\x89TTSNAP\nnot really")
    for age, name in enumerate(("broken.ttsnap", "demo.ttsnap", "all.ttsnap")):
        stamp = 1_700_000_000 - age * 60  # newest first in the list
        os.utime(folder / name, (stamp, stamp))
    (folder / ".demo.ttsnap.tmp").write_bytes(b"")  # a save under way: not listed


def test_default_folder_follows_xdg(monkeypatch: object, tmp_path: Path) -> None:
    mp = monkeypatch
    mp.setenv("XDG_DATA_HOME", str(tmp_path))  # type: ignore[attr-defined]
    assert snapshot_dir() == tmp_path / "timertui" / "snapshots"
    mp.delenv("XDG_DATA_HOME")  # type: ignore[attr-defined]
    assert snapshot_dir() == Path.home() / ".local/share/timertui/snapshots"
    assert list_entries(tmp_path / "missing") == []


async def test_folder_listed_opened_and_restored(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    folder = tmp_path / "snaps"
    fill(folder)
    restorer = ScriptedRestorer(lambda p, r: walk_events(p, 1.0, finish=True))
    app = make_app(restorer=restorer, snapshot_dir=folder)
    async with run_app(app) as pilot:
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


async def test_empty_folder_says_how_to_fill_it(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app(snapshot_dir=tmp_path / "none")
    async with run_app(app) as pilot:
        await pilot.press("S")
        await settle(pilot)
        assert any("no snapshots in" in n.message for n in app._notifications)
        assert "r" not in app.screen.active_bindings


async def test_criu_image_directory_opens_and_restores(
    stress_ng_dir: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        home = app.screen
        app.open_path(str(stress_ng_dir), "restore")
        # Two processes hold timers: stress-ng's parent its alarm() (ITIMER_REAL), which a
        # restore replays too, and the worker a POSIX timer: the app asks which.
        await until(pilot, lambda: isinstance(app.screen, ProcessesScreen) and app.screen != home)
        table = app.screen.query_one(ProcessTable)
        await until(pilot, lambda: set(table.processes) == {19874, 19876})
        table.move_to("19876")
        await on_process(pilot, 19876)
        await pilot.press("r")
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


async def listed(pilot: Pilot[None], screen: SnapshotsScreen, names: set[str]) -> DataTable[Text]:
    table: DataTable[Text] = screen.query_one(DataTable)
    await until(
        pilot, lambda: {table.get_row_at(i)[0].plain for i in range(table.row_count)} == names
    )
    return table


async def on_entry(
    pilot: Pilot[None], folder: Path, name: str
) -> tuple[SnapshotsScreen, DataTable[Text]]:
    """S, with the cursor on `name` once the folder `fill` made is listed."""
    await pilot.press("S")
    screen = pilot.app.screen
    assert isinstance(screen, SnapshotsScreen)
    table = await listed(pilot, screen, {"broken.ttsnap", "demo.ttsnap", "all.ttsnap"})
    table.move_cursor(row=table.get_row_index(str(folder / name)))
    return screen, table


async def test_rename_keeps_the_extension_and_refuses_a_name_in_use(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    folder = tmp_path / "snaps"
    fill(folder)
    app = make_app(snapshot_dir=folder)
    async with run_app(app, small=True) as pilot:
        screen, table = await on_entry(pilot, folder, "demo.ttsnap")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, RenameDialog))
        dialog = app.screen
        box = dialog.query_one("#dialog-input", Input)
        assert box.value == "demo"  # the stem: the extension stays
        box.value = "all"
        await pilot.press("enter")
        error = dialog.query_one("#dialog-error", Static)
        await until(pilot, lambda: "all.ttsnap: already exists" in str(error.render()))
        assert app.screen is dialog and box.value == "all"
        box.value = "zoo run"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        await listed(pilot, screen, {"broken.ttsnap", "zoo run.ttsnap", "all.ttsnap"})
        assert (folder / "zoo run.ttsnap").is_file() and not (folder / "demo.ttsnap").exists()
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == str(
            folder / "zoo run.ttsnap"
        )


async def test_delete_asks_first(tmp_path: Path, make_app: MakeApp, run_app: RunApp) -> None:
    folder = tmp_path / "snaps"
    fill(folder)
    app = make_app(snapshot_dir=folder)
    async with run_app(app, small=True) as pilot:
        screen, _ = await on_entry(pilot, folder, "broken.ttsnap")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("enter")  # the focused button keeps the file
        await until(pilot, lambda: app.screen is screen)
        assert (folder / "broken.ttsnap").exists()
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await listed(pilot, screen, {"demo.ttsnap", "all.ttsnap"})
        assert not (folder / "broken.ttsnap").exists()


def test_entry_files(tmp_path: Path) -> None:
    image = tmp_path / "dump"
    image.mkdir()
    (image / "pstree.img").write_bytes(b"x")
    assert rename_entry(image, "dump2") == tmp_path / "dump2"  # a directory has no extension
    with pytest.raises(InputError, match="a name"):
        rename_entry(tmp_path / "dump2", "../x")
    (tmp_path / "dump2" / "sub").mkdir()
    with pytest.raises(InputError, match="holds subdirectories"):
        delete_entry(tmp_path / "dump2")
    (tmp_path / "dump2" / "sub").rmdir()
    delete_entry(tmp_path / "dump2")
    assert not (tmp_path / "dump2").exists()


async def test_snapshot_dialog_warns_of_no_access(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app()
    async with run_app(app, small=True) as pilot:
        await app.push_screen(
            SnapshotDialog([1, 812], tmp_path, None, "pair.ttsnap", no_access=[1, 99])
        )
        await pilot.pause()
        warning = app.screen.query_one("#snap-warning", Static)
        assert str(warning.render()).startswith("⚠ no access to 1 of them (1): their timers")
