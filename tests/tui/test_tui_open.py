"""`o`: the open dialog keeps the typed path on an error and says why under it, completes paths,
and refuses a FIFO at once instead of blocking on it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builders import scene_processes, snapshot_of
from scenes import MakeApp, RunApp, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from timertui import snapshot_file
from timertui.errors import InputError
from timertui.tui.paths import Completion, complete, open_checked
from timertui.tui.screens.open_dialog import OpenDialog
from timertui.tui.screens.processes import ProcessesScreen


def folder_of_snapshots(tmp_path: Path) -> Path:
    folder = tmp_path / "snaps"
    (folder / "criu-dump").mkdir(parents=True)
    snapshot_file.save(
        snapshot_of([p for p in scene_processes() if p.pid == 812]), folder / "one.ttsnap"
    )
    snapshot_file.save(snapshot_of(), folder / "other.ttsnap")
    (folder / ".hidden.ttsnap").write_bytes(b"")
    return folder


def test_complete(tmp_path: Path) -> None:
    folder = folder_of_snapshots(tmp_path)
    base = f"{folder}/"
    assert complete(base + "c") == Completion(base + "criu-dump/", ("criu-dump/",))
    assert complete(base + "o") == Completion(base + "o", ("one.ttsnap", "other.ttsnap"))
    assert complete(base + "on") == Completion(base + "one.ttsnap", ("one.ttsnap",))
    assert complete(base + ".h").candidates == (".hidden.ttsnap",)  # hidden only when asked
    assert ".hidden.ttsnap" not in complete(base).candidates
    assert complete(base + "zz") == Completion(base + "zz", ())
    assert complete(f"{tmp_path}/missing/x") == Completion(f"{tmp_path}/missing/x", ())
    assert complete("~") == Completion("~/", ())


def test_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"pipe: not a regular file or directory$"):
        open_checked(str(fifo))


async def open_dialog(pilot: Pilot[None]) -> tuple[OpenDialog, Input]:
    await pilot.press("o")
    await until(pilot, lambda: isinstance(pilot.app.screen, OpenDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, OpenDialog)
    return dialog, dialog.query_one("#dialog-input", Input)


def error_of(dialog: OpenDialog) -> str:
    line = dialog.query_one("#dialog-error", Static)
    return str(line.render()) if line.display else ""


async def test_error_keeps_the_dialog_and_the_path(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app()
    async with run_app(app, small=True) as pilot:
        dialog, box = await open_dialog(pilot)
        typed = str(tmp_path / "nope.ttsnap")
        await pilot.press(*typed, "enter")
        await until(pilot, lambda: error_of(dialog) != "")
        assert app.screen is dialog and box.value == typed
        assert error_of(dialog) == f"{typed}: no such file or directory"
        await pilot.press("backspace")  # typing again clears the error
        await until(pilot, lambda: error_of(dialog) == "")


async def test_fifo_is_refused_in_the_dialog(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    app = make_app()
    async with run_app(app, small=True) as pilot:
        dialog, box = await open_dialog(pilot)
        box.value = str(fifo)
        await pilot.press("enter")
        await until(pilot, lambda: error_of(dialog) != "", timeout=5)
        assert error_of(dialog) == f"{fifo}: not a regular file or directory"
        assert app.screen is dialog and box.value == str(fifo)
        # The palette's path opens through the same check.
        await pilot.press("escape")
        app.open_path(str(fifo))
        await until(
            pilot, lambda: any("not a regular file" in n.message for n in app._notifications)
        )


async def test_tab_completes_then_enter_browses(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    folder = folder_of_snapshots(tmp_path)
    app = make_app()
    async with run_app(app, small=True) as pilot:
        dialog, box = await open_dialog(pilot)
        box.value = f"{folder}/o"
        await pilot.press("tab")
        note = dialog.query_one("#dialog-note", Static)
        await until(pilot, lambda: "2 matches" in str(note.render()))
        assert "one.ttsnap  other.ttsnap" in str(note.render()) and box.value == f"{folder}/o"
        await pilot.press("n", "tab")
        await until(pilot, lambda: box.value == f"{folder}/one.ttsnap")
        assert box.cursor_position == len(box.value)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, ProcessesScreen) and app.screen.source.label == "one.ttsnap"
            ),
        )


async def test_inline_suggestion(tmp_path: Path, make_app: MakeApp, run_app: RunApp) -> None:
    folder = folder_of_snapshots(tmp_path)
    app = make_app()
    async with run_app(app, small=True) as pilot:
        _, box = await open_dialog(pilot)
        await pilot.press(*f"{folder}/cr")
        await until(pilot, lambda: box._suggestion == f"{folder}/criu-dump/")
        await pilot.press("right")  # takes the suggestion
        assert box.value == f"{folder}/criu-dump/"
