"""The process table: rows keyed by pid and updated by diff, so the cursor stays on its process,
marks survive refreshes, and a process that exits fades for a moment instead of its row jumping.
A poll of thousands of processes costs a comparison per process and a repaint of the rows on
screen (cells are made only for rows being drawn)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.message import Message

from timertui.model import Access, ProcessTimers
from timertui.tui import formats
from timertui.tui.columns import Column
from timertui.tui.rows import ProcessRow, RowFilter, columns_for, process_row, sort_key
from timertui.tui.widgets.virtual_table import VirtualTable

_MARK = "mark"
_MARK_COLUMN = Column(_MARK, " ", 1)
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


class ProcessTable(VirtualTable):
    """Processes with their timer summary; space marks, a header click sorts."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        "proc--marked",
        "proc--gone",
        "proc--noaccess",
        "proc--walk",
    }

    class Highlighted(Message):
        """The cursor is on another process (or on none)."""

        def __init__(self, pid: int | None) -> None:
            super().__init__()
            self.pid = pid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__((_MARK_COLUMN, *columns_for(False)), id=id)
        self.contained = False  # some process is in a container: the CONTAINER column is shown
        self.processes: dict[int, ProcessTimers] = {}
        self.marked: set[int] = set()
        self.row_filter = RowFilter()
        self.sort_column = "pid"
        self.sort_reverse = False
        self._rows: dict[int, ProcessRow] = {}
        self._gone: set[int] = set()
        self._shown: dict[int, _Shown] = {}  # the rows the filter lets through
        self._order_keys: dict[int, tuple[object, ...]] = {}  # each shown row's sort key
        self._label_sort()

    # -- data in ----------------------------------------------------------------------------

    def update_processes(self, processes: Iterable[ProcessTimers]) -> None:
        """A new scan: changed rows are drawn again; a vanished one stays, faded, for one
        refresh (rows do not jump), and the next scan removes it."""
        fresh = {p.pid: p for p in processes}
        touched = self._gone - fresh.keys()
        for pid in touched:
            self._forget(pid)
        gone = self.processes.keys() - fresh.keys()
        touched |= gone ^ self._gone
        self._gone = gone
        for pid, proc in fresh.items():
            before = self.processes.get(pid)
            if before is not proc and before != proc:
                self._rows[pid] = process_row(proc)
                touched.add(pid)
            self.processes[pid] = proc
        contained = any(p.container is not None for p in self.processes.values())
        if contained != self.contained:
            self.contained = contained
            self.set_columns((_MARK_COLUMN, *columns_for(contained)))
            self._label_sort()
            self.refresh_all_rows()
        self._sync(touched)

    def _forget(self, pid: int) -> None:
        self.processes.pop(pid, None)
        self._rows.pop(pid, None)
        self.marked.discard(pid)

    def set_filter(self, row_filter: RowFilter) -> None:
        """Show the rows `row_filter` matches, from the top."""
        self.row_filter = row_filter
        self._sync(resort=True)
        self.to_top()

    def sort_by(self, column: str, reverse: bool) -> None:
        """Sort by `column`; the view goes to the top of the new order."""
        self.sort_column, self.sort_reverse = column, reverse
        self._label_sort()
        self._sync(resort=True)
        self.to_top()

    def step_sort(self, step: int) -> None:
        """Move the sort to the column left (-1) or right (+1) of the current one, like htop's
        `<` and `>`."""
        keys = [c.key for c in columns_for(self.contained)]
        index = (keys.index(self.sort_column) + step) % len(keys)
        self.sort_by(keys[index], self.sort_reverse)

    # -- marks ------------------------------------------------------------------------------

    @property
    def highlighted_pid(self) -> int | None:
        key = self.highlighted_key
        return None if key is None else int(key)

    def toggle_mark(self) -> None:
        pid = self.highlighted_pid
        if pid is None or pid in self._gone:
            return
        self.marked.symmetric_difference_update({pid})
        self._sync({pid})
        self.action_cursor(1)

    def unmark_all(self) -> None:
        marked, self.marked = self.marked, set()
        self._sync(marked)

    def select_pid(self, pid: int) -> bool:
        """Put the cursor on `pid`; False when it is not in the table."""
        return self.move_to(str(pid))

    def marked_or_highlighted(self) -> list[int]:
        """What `s` acts on: the marked processes, else the one under the cursor."""
        if self.marked:
            return sorted(self.marked)
        pid = self.highlighted_pid
        return [] if pid is None else [pid]

    # -- rendering --------------------------------------------------------------------------

    def _label_sort(self) -> None:
        for column in columns_for(self.contained):
            # The arrow's room is always kept, so a sort change never resizes the column.
            arrow = " "
            if column.key == self.sort_column:
                arrow = "▼" if self.sort_reverse else "▲"
            self.set_label(column.key, f"{column.label} {arrow}")

    def row_cells(self, key: str) -> Sequence[Text]:
        shown = self._shown[int(key)]
        row = shown.row
        base = self._style("proc--gone" if shown.gone else _ACCESS_STYLE[row.access])
        mark = formats.GONE if shown.gone else formats.MARKED if shown.marked else " "
        if shown.gone:
            timers = "gone"
        elif row.timers is None:
            timers = row.access.value
        else:
            timers = formats.count(row.timers)
        walk_style = base + self._style("proc--walk") if row.walk and not shown.gone else base
        cells = {
            _MARK: Text(mark, style=base + self._style("proc--marked") if shown.marked else base),
            "pid": Text(str(row.pid), style=base),
            "user": Text(row.user, style=base),
            "container": Text(row.container, style=base),
            "command": Text(row.command, style=base),
            "threads": Text(str(row.threads), style=base),
            "timers": Text(timers, style=base),
            "highest": Text(formats.count(row.highest), style=base),
            "gaps": Text(formats.count(row.gaps), style=base),
            "walk": Text(formats.count(row.walk), style=walk_style),
        }
        return [cells[_MARK], *(cells[c.key] for c in columns_for(self.contained))]

    def _sync(self, touched: Iterable[int] | None = None, resort: bool = False) -> None:
        """Bring the shown rows up to date: those `touched` (None: every row) are checked against
        the filter and drawn again if they changed; the order is sorted again only when a row
        came, went or moved in the sort. A poll of 5,000 processes touches a few dozen."""
        shown, order_keys = self._shown, self._order_keys
        if touched is None or resort:
            shown.clear()
            order_keys.clear()
            touched = self._rows.keys()
        key = sort_key(self.sort_column, self.sort_reverse)
        changed: list[int] = []
        reorder = resort
        for pid in touched:
            row = self._rows.get(pid)
            if row is None or not self.row_filter.matches(row):
                if shown.pop(pid, None) is not None:
                    del order_keys[pid]
                    reorder = True
                continue
            now = _Shown(row, pid in self.marked, pid in self._gone)
            if shown.get(pid) != now:
                shown[pid] = now
                changed.append(pid)
                order = key(row)
                reorder = reorder or order_keys.get(pid) != order
                order_keys[pid] = order
        self.refresh_rows(str(pid) for pid in changed)
        if reorder:
            # Keys made once per changed row: sorting by a dict lookup is C-fast.
            ordered = sorted(order_keys, key=order_keys.__getitem__, reverse=self.sort_reverse)
            self.set_rows(map(str, ordered))

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(None if event.key is None else int(event.key)))

    def on_virtual_table_header_selected(self, event: VirtualTable.HeaderSelected) -> None:
        event.stop()
        if event.column == _MARK:
            return
        reverse = not self.sort_reverse if event.column == self.sort_column else False
        self.sort_by(event.column, reverse)
