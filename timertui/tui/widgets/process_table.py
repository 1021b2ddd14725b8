"""The process table: rows keyed by pid and updated by diff, so the cursor stays on its process,
marks survive refreshes, and a process that exits fades for a moment instead of its row jumping."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

from timertui.model import Access, ProcessTimers
from timertui.tui import look
from timertui.tui.rows import (
    COLUMNS,
    COMMAND_WIDTH,
    USER_WIDTH,
    ProcessRow,
    RowFilter,
    process_row,
    sort_key,
)
from timertui.tui.widgets.style_cache import StyleCache

_MARK = "mark"
_COLUMN_KEYS = (_MARK, *(c.key for c in COLUMNS))
_REBUILD_AT = 64  # changed rows above which the table is rebuilt rather than updated
_ACCESS_STYLE = {
    Access.OK: "",
    Access.NO_ACCESS: "proc--noaccess",
    Access.NO_TIMERS_FILE: "proc--noaccess",
    Access.GONE: "proc--gone",
}


@dataclass(frozen=True)
class _Shown:
    row: ProcessRow
    marked: bool
    gone: bool


class ProcessTable(StyleCache, DataTable[Text]):
    """Processes with their timer summary; space marks, a header click sorts."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "proc--marked",
        "proc--gone",
        "proc--noaccess",
        "proc--walk",
        "proc--sorted",
    }

    class Highlighted(Message):
        """The cursor is on another process (or on none)."""

        def __init__(self, pid: int | None) -> None:
            super().__init__()
            self.pid = pid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.processes: dict[int, ProcessTimers] = {}
        self.marked: set[int] = set()
        self.row_filter = RowFilter()
        self.sort_column = "pid"
        self.sort_reverse = False
        self._rows: dict[int, ProcessRow] = {}
        self._gone: set[int] = set()
        self._shown: dict[int, _Shown] = {}
        self._cells: dict[int, tuple[Text, ...]] = {}
        self._highlighted: int | None = None

    def on_mount(self) -> None:
        self.add_column(" ", key=_MARK, width=1)
        for column in COLUMNS:
            self.add_column(self._label(column.key), key=column.key, width=column.width)

    # -- data in ----------------------------------------------------------------------------

    def update_processes(self, processes: Iterable[ProcessTimers]) -> None:
        """A new scan: changed rows are updated in place; a vanished one stays, faded, for one
        refresh (rows do not jump), and the next scan removes it."""
        fresh = {p.pid: p for p in processes}
        for pid in self._gone - fresh.keys():
            self._forget(pid)
        self._gone = self.processes.keys() - fresh.keys()
        for pid, proc in fresh.items():
            if self.processes.get(pid) != proc:
                self._rows[pid] = process_row(proc)
            self.processes[pid] = proc
        self._sync()

    def _forget(self, pid: int) -> None:
        self.processes.pop(pid, None)
        self._rows.pop(pid, None)
        self.marked.discard(pid)

    def set_filter(self, row_filter: RowFilter) -> None:
        self.row_filter = row_filter
        self._sync()

    def sort_by(self, column: str, reverse: bool) -> None:
        old = self.sort_column
        self.sort_column, self.sort_reverse = column, reverse
        for key in {old, column}:
            self.columns[ColumnKey(key)].label = Text(self._label(key))
        self._sync(resort=True)

    def step_sort(self, step: int) -> None:
        """Move the sort to the column left (-1) or right (+1) of the current one, like htop's
        `<` and `>`."""
        keys = [c.key for c in COLUMNS]
        index = (keys.index(self.sort_column) + step) % len(keys)
        self.sort_by(keys[index], self.sort_reverse)

    # -- marks ------------------------------------------------------------------------------

    @property
    def highlighted_pid(self) -> int | None:
        return self._highlighted

    def toggle_mark(self) -> None:
        pid = self._highlighted
        if pid is None or pid in self._gone:
            return
        self.marked.symmetric_difference_update({pid})
        self._sync()
        self.action_cursor_down()

    def unmark_all(self) -> None:
        self.marked.clear()
        self._sync()

    def select_pid(self, pid: int) -> bool:
        """Put the cursor on `pid`; False when it is not in the table."""
        if pid not in self._shown:
            return False
        self._restore_cursor(pid)
        return True

    def marked_or_highlighted(self) -> list[int]:
        """What `s` acts on: the marked processes, else the one under the cursor."""
        if self.marked:
            return sorted(self.marked)
        return [] if self._highlighted is None else [self._highlighted]

    # -- rendering --------------------------------------------------------------------------

    def _label(self, key: str) -> str:
        label = next(c.label for c in COLUMNS if c.key == key)
        # The arrow's room is always kept, so a sort change never resizes the column.
        arrow = ("▼" if self.sort_reverse else "▲") if key == self.sort_column else " "
        return f"{label} {arrow}"

    def _make_cells(self, shown: _Shown) -> tuple[Text, ...]:
        row = shown.row
        base = self._style("proc--gone" if shown.gone else _ACCESS_STYLE[row.access])
        mark = look.GONE if shown.gone else look.MARKED if shown.marked else " "
        if shown.gone:
            timers = "gone"
        elif row.timers is None:
            timers = row.access.value
        else:
            timers = look.count(row.timers)
        walk_style = base + self._style("proc--walk") if row.walk and not shown.gone else base
        return (
            Text(mark, style=base + self._style("proc--marked") if shown.marked else base),
            Text(str(row.pid), style=base, justify="right"),
            Text(look.shorten(row.user, USER_WIDTH), style=base),
            Text(look.shorten(row.command, COMMAND_WIDTH), style=base),
            Text(str(row.threads), style=base, justify="right"),
            Text(timers, style=base, justify="right"),
            Text(look.count(row.highest), style=base, justify="right"),
            Text(look.count(row.gaps), style=base, justify="right"),
            Text(look.count(row.walk), style=walk_style, justify="right"),
        )

    def _sync(self, resort: bool = False) -> None:
        keep = self._highlighted
        wanted: dict[int, _Shown] = {}
        for pid, row in self._rows.items():
            if self.row_filter.matches(row):
                wanted[pid] = _Shown(row, pid in self.marked, pid in self._gone)
        removed = self._shown.keys() - wanted.keys()
        changed = [pid for pid, shown in wanted.items() if self._shown.get(pid) != shown]
        for pid in removed:
            del self._shown[pid]
        old_cells = {pid: self._cells.pop(pid, None) for pid in [*removed, *changed]}
        for pid in changed:
            self._shown[pid] = wanted[pid]
            self._cells[pid] = self._make_cells(wanted[pid])
        if len(removed) + len(changed) > _REBUILD_AT:
            # Many rows at once (the first scan, `a`, a filter): lay the table out afresh in
            # order, cheaper than thousands of single updates and a sort.
            self.clear()
            for pid in sorted(wanted, key=self._order_key(), reverse=self.sort_reverse):
                self.add_row(*self._cells[pid], key=str(pid))
        elif removed or changed or resort:
            for pid in removed:
                self.remove_row(str(pid))
            for pid in changed:
                self._update_row(pid, old_cells[pid])
            if self.row_count:
                key = self._order_key()
                by_pid = lambda cell: key(int(cell.plain))  # noqa: E731
                self.sort("pid", key=by_pid, reverse=self.sort_reverse)
        self._restore_cursor(keep)

    def _order_key(self) -> Callable[[int], tuple[Any, ...]]:
        key = sort_key(self.sort_column, self.sort_reverse)
        return lambda pid: key(self._rows[pid])

    def _update_row(self, pid: int, old: tuple[Text, ...] | None) -> None:
        cells = self._cells[pid]
        if old is None:
            self.add_row(*cells, key=str(pid))
            return
        for column, new, before in zip(_COLUMN_KEYS, cells, old, strict=True):
            if new != before:
                self.update_cell(str(pid), column, new)

    def _restore_cursor(self, pid: int | None) -> None:
        if pid is not None and pid in self._shown:
            index = self.get_row_index(str(pid))
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False)
        self._note_highlight()

    def _note_highlight(self) -> None:
        pid: int | None = None
        if self.row_count:
            try:
                row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
            except CellDoesNotExist:
                row_key = RowKey(None)
            pid = int(row_key.value) if row_key.value is not None else None
        if pid != self._highlighted:
            self._highlighted = pid
            self.post_message(self.Highlighted(pid))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._note_highlight()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        if column is None or column == _MARK:
            return
        reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_by(column, reverse)
