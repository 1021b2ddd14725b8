"""The snapshot folder: every snapshot file (and CRIU image directory) in it, with what each
holds. Enter browses one offline; r restores its process, R races it; n renames it, d deletes it
(after asking)."""

from __future__ import annotations

import datetime
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, Static

from timertui.tui import formats
from timertui.tui.screens.base import AppScreen
from timertui.tui.screens.confirm_dialog import ConfirmDialog
from timertui.tui.screens.rename_dialog import RenameDialog
from timertui.tui.snapshot_files import delete_entry
from timertui.tui.widgets.keys_footer import KeysFooter


@dataclass(frozen=True)
class Entry:
    path: Path
    modified: float
    size: int
    directory: bool


class Listed(Message):
    def __init__(self, entries: list[Entry]) -> None:
        super().__init__()
        self.entries = entries


class Summarised(Message):
    """What one entry holds, or why it cannot be opened."""

    def __init__(self, path: Path, processes: int, timers: int, problem: str = "") -> None:
        super().__init__()
        self.path = path
        self.processes = processes
        self.timers = timers
        self.problem = problem


def list_entries(directory: Path) -> list[Entry]:
    """Files and CRIU image directories (those holding pstree.img), newest first."""
    entries = []
    for path in directory.iterdir() if directory.is_dir() else ():
        if path.name.startswith("."):
            continue  # the temporary files of a save under way
        if path.is_file() or (path / "pstree.img").is_file():
            st = path.stat()
            is_dir = stat.S_ISDIR(st.st_mode)
            entries.append(Entry(path, st.st_mtime, 0 if is_dir else st.st_size, is_dir))
    return sorted(entries, key=lambda e: (-e.modified, e.path.name))


class SnapshotsScreen(AppScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "browse",
            "Browse",
            tooltip="Open the snapshot's processes offline",
            id="snapshots.browse",
        ),
        Binding(
            "r",
            "restore",
            "Restore",
            tooltip="Restore the snapshot's process",
            id="snapshots.restore",
        ),
        Binding(
            "R",
            "race",
            "Race",
            tooltip="Race exact against walk on the snapshot",
            id="snapshots.race",
        ),
        Binding(
            "V",
            "verify",
            "Verify",
            tooltip="The snapshot's process against the live process restored from it",
            show=False,
            id="snapshots.verify",
        ),
        Binding(
            "n",
            "rename",
            "Rename",
            tooltip="Give the snapshot another name (the extension stays)",
            id="snapshots.rename",
        ),
        Binding(
            "d",
            "delete",
            "Delete",
            tooltip="Delete the snapshot file or CRIU image directory (asks first)",
            id="snapshots.delete",
        ),
        Binding(
            "g",
            "reload",
            "Reload",
            tooltip="Read the folder again",
            show=False,
            id="snapshots.reload",
        ),
        Binding(
            "escape", "back", "Back", tooltip="Back to the previous screen", id="snapshots.back"
        ),
    ]

    # How many the folder holds: the keys for one are offered only then (bindings=True).
    listed: var[int] = var(0, bindings=True)

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.entries: dict[str, Entry] = {}
        self._select: Path | None = None  # where the cursor goes once the folder is read again

    def compose(self) -> ComposeResult:
        yield Static(f"snapshots in {self.directory}", id="snapshots-head", markup=False)
        yield DataTable(id="snapshot-files", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.add_column("NAME", key="name")
        table.add_column("MODIFIED", key="modified")
        table.add_column("SIZE", key="size")
        table.add_column("PROCESSES", key="processes")
        table.add_column("TIMERS", key="timers")
        table.add_column("", key="problem")
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._read_folder()

    @work(thread=True, exclusive=True, group="folder", exit_on_error=False, name="snapshot folder")
    def _read_folder(self) -> None:
        from timertui import sources

        entries = list_entries(self.directory)
        self.post_message(Listed(entries))
        for entry in entries:
            try:
                snap = sources.open_source(entry.path)
            except Exception as exc:  # every unreadable file is a row that says why
                self.post_message(Summarised(entry.path, 0, 0, str(exc)))
                continue
            timers = sum(len(p.timers) for p in snap.processes)
            self.post_message(Summarised(entry.path, len(snap.processes), timers))

    def on_listed(self, message: Listed) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        table.clear()
        self.entries = {str(e.path): e for e in message.entries}
        for e in message.entries:
            stamp = datetime.datetime.fromtimestamp(e.modified).strftime("%Y-%m-%d %H:%M:%S")
            size = "CRIU dir" if e.directory else f"{e.size:,} B"
            cells = (Text(e.path.name), Text(stamp), Text(size, justify="right"))
            table.add_row(*cells, Text("…"), Text("…"), Text(""), key=str(e.path))
        if self._select is not None and str(self._select) in self.entries:
            table.move_cursor(row=table.get_row_index(str(self._select)))
        self._select = None
        self.listed = len(message.entries)
        if not message.entries:
            self.notify(
                f"no snapshots in {self.directory} yet: press s on the processes screen",
                markup=False,
            )

    def on_summarised(self, message: Summarised) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        key = str(message.path)
        if key not in table.rows:
            return
        table.update_cell(key, "processes", Text(formats.count(message.processes), justify="right"))
        table.update_cell(key, "timers", Text(formats.count(message.timers), justify="right"))
        table.update_cell(key, "problem", Text(message.problem), update_width=True)

    def _selected(self) -> Path | None:
        tables = self.query(DataTable)
        if not tables or not tables.first().row_count:
            return None  # also asked before the table is mounted, for the footer
        table: DataTable[Text] = tables.first()
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if key is None else Path(key)

    def _open(self, then: str) -> None:
        path = self._selected()
        if path is not None:
            self.timer_app.open_path(str(path), then)

    def action_browse(self) -> None:
        self._open("browse")

    def on_data_table_row_selected(self) -> None:
        # Enter on the table (which takes the key before the screen's binding) browses too.
        self.action_browse()

    def action_restore(self) -> None:
        self._open("restore")

    def action_race(self) -> None:
        self._open("race")

    def action_verify(self) -> None:
        self._open("verify")

    def action_back(self) -> None:
        self.dismiss()

    def action_rename(self) -> None:
        entry = self._selected_entry()
        if entry is None:
            return

        def renamed(path: Path | None) -> None:
            if path is not None and path != entry.path:
                self.notify(f"{entry.path.name} → {path.name}", title="renamed", markup=False)
                self._select = path
                self.action_reload()

        self.app.push_screen(RenameDialog(entry.path, entry.directory), renamed)

    def action_delete(self) -> None:
        entry = self._selected_entry()
        if entry is None:
            return
        what = "the CRIU image directory" if entry.directory else "the snapshot file"

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(entry.path)

        question = f"Delete {what} {entry.path.name}? This cannot be undone."
        self.app.push_screen(ConfirmDialog(question, "Delete"), answered)

    @work(thread=True, group="files", exit_on_error=False, name="deleting a snapshot")
    def _delete(self, path: Path) -> None:
        delete_entry(path)
        self.app.call_from_thread(self._deleted, path)

    def _deleted(self, path: Path) -> None:
        self.notify(path.name, title="deleted", markup=False)
        self.action_reload()

    def _selected_entry(self) -> Entry | None:
        path = self._selected()
        return None if path is None else self.entries.get(str(path))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("browse", "restore", "race", "verify", "rename", "delete"):
            return self.listed > 0  # the cursor is on one of them
        return True
