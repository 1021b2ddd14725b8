"""A table that draws only the rows on screen, for the app's big lists (thousands of processes,
up to a hundred thousand timers).

Textual's DataTable keeps a rendered cell per row and column and measures column widths as rows
change: fine for hundreds of rows, quadratic for a restore's 10,000 timer states. Here columns
have fixed widths (one may take the width the others leave), rows are keys in display order, and
a row's cells are asked of the subclass (`row_cells`) only when that row is drawn. Changing data
costs a dict update per changed row plus a repaint of the visible lines it touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from timertui.tui.columns import Column, fit
from timertui.tui.widgets.style_cache import StyleCache

_GAP = 1  # cells between columns (and before the first)
_KEEP_DRAWN = 4096  # drawn rows kept for repaints


class VirtualTable(StyleCache, ScrollView, can_focus=True):
    """Rows identified by string keys; subclasses give the cells of a key (`row_cells`)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "vtable--header",
        "vtable--cursor",
        "vtable--cursor-blurred",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "jump(0)", "First row", show=False, id="table.home"),
        Binding("end", "jump(-1)", "Last row", show=False, id="table.end"),
        Binding("left", "pan(-4)", "Scroll left", show=False, id="table.left"),
        Binding("right", "pan(4)", "Scroll right", show=False, id="table.right"),
    ]

    # Narrower than this many cells, the table is compact: its columns take their `least`.
    COMPACT_BELOW: ClassVar[int] = 0

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor is on another row (`key` None: the table is empty)."""

        def __init__(self, table: VirtualTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class HeaderSelected(Message):
        """A column's header was clicked."""

        def __init__(self, table: VirtualTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(self, columns: Sequence[Column] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: tuple[Column, ...] = tuple(columns)
        self._labels: dict[str, str] = {}
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._strips: dict[str, Strip] = {}  # drawn rows, at the current widths
        self._widths: tuple[int, ...] = ()
        self._highlighted: str | None = None

    # -- columns and rows ---------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        self._columns = tuple(columns)
        self._labels = {}
        self._layout()

    def set_label(self, key: str, label: str) -> None:
        """Change a column's header text (e.g. a sort arrow), not its width."""
        self._labels[key] = label
        if self.is_mounted:
            self.refresh_line(self.scroll_offset.y)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> Sequence[str]:
        return self._keys

    def row_cells(self, key: str) -> Sequence[Text]:
        """The cells of row `key`, one per column. Called only for rows being drawn."""
        raise NotImplementedError

    def get_row(self, key: str) -> list[Text]:
        return list(self.row_cells(key))

    def get_row_at(self, index: int) -> list[Text]:
        return self.get_row(self._keys[index])

    def set_rows(self, keys: Iterable[str], keep: str | None = None) -> None:
        """The rows in display order. The cursor stays on `keep` (by default the row it is on)
        where that row is still there; rows kept keep their drawn lines."""
        keep = self._highlighted if keep is None else keep
        self._keys = list(keys)
        self._index = {key: i for i, key in enumerate(self._keys)}
        self._strips = {k: s for k, s in self._strips.items() if k in self._index}
        self._resize_virtual()
        # validate_cursor_row keeps it within the rows
        self.cursor_row = (
            self.cursor_row if keep is None else self._index.get(keep, self.cursor_row)
        )
        self.refresh()

    def refresh_rows(self, keys: Iterable[str]) -> None:
        """Rows whose cells changed: drawn again if on screen, else when they come into view."""
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        for key in keys:
            if self._strips.pop(key, None) is None:
                continue  # never drawn, or already stale
            index = self._index.get(key)
            if index is not None and top <= index < top + height:
                self.refresh_line(index + 1)

    def refresh_all_rows(self) -> None:
        self._strips.clear()
        self.refresh()

    # -- cursor -----------------------------------------------------------------------------

    @property
    def highlighted_key(self) -> str | None:
        return self._highlighted

    def move_to(self, key: str) -> bool:
        """Put the cursor on row `key`; False when there is no such row."""
        index = self._index.get(key)
        if index is None:
            return False
        self.cursor_row = index
        return True

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._keys) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        for row in {old, new}:
            key = self._keys[row] if 0 <= row < len(self._keys) else None
            if key is not None:
                self.refresh_line(row + 1)
        self._scroll_to_cursor()
        key = self._keys[new] if self._keys else None
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(VirtualTable.Highlighted(self, key))

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)  # less the header
        top = int(self.scroll_y)
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + rows:
            self.scroll_to(y=row - rows + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.cursor_row += step

    def action_page(self, step: int) -> None:
        rows = max(1, self.scrollable_content_region.height - 2)
        self.cursor_row += step * rows

    def action_jump(self, row: int) -> None:
        self.cursor_row = row if row >= 0 else len(self._keys) - 1

    def action_pan(self, step: int) -> None:
        self.scroll_to(x=self.scroll_x + step, animate=False, immediate=True)

    def visible_keys(self) -> Sequence[str]:
        """The keys of the rows on screen now."""
        top = int(self.scroll_y)
        return self._keys[top : top + max(0, self.scrollable_content_region.height - 1)]

    def to_top(self) -> None:
        """Back to the first row (after a filter, say): the view and the cursor."""
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False, immediate=True)

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + int(self.scroll_x))
            if column is not None:
                self.post_message(VirtualTable.HeaderSelected(self, column.key))
            return
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self._keys):
            self.cursor_row = row

    def _column_at(self, x: int) -> Column | None:
        left = 0
        for column, width in zip(self._columns, self._widths, strict=True):
            if left <= x < left + width + _GAP:
                return column
            left += width + _GAP
        return None

    # -- layout and drawing -----------------------------------------------------------------

    def on_resize(self) -> None:
        self._layout()
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor_row + 1)

    def notify_style_update(self) -> None:
        self._strips.clear()
        super().notify_style_update()

    def _layout(self) -> None:
        """Column widths for the table's width: fixed ones as given (their `least` in a table
        narrower than COMPACT_BELOW), the fill column gets the rest. Rows are drawn again only
        when a width changes."""
        room = self.scrollable_content_region.width
        compact = room < self.COMPACT_BELOW
        given = [c.least if compact and c.least else c.width for c in self._columns]
        fixed = sum(w + _GAP for w, c in zip(given, self._columns, strict=True) if not c.fill)
        spare = room - fixed - _GAP
        widths = tuple(
            max(w, spare) if c.fill else w for w, c in zip(given, self._columns, strict=True)
        )
        if widths != self._widths:
            self._widths = widths
            self._strips.clear()
        self._resize_virtual()
        self.refresh()

    def _resize_virtual(self) -> None:
        """The scrollable size for the rows and columns now. A new size is a layout pass of the
        whole screen (~100 ms at 160x50) in Textual, needed only when a scrollbar comes or
        goes; otherwise the scrollbars are updated in place, as Textual does during a layout."""
        size = Size(self._virtual_width(), len(self._keys) + 1)
        old, view = self.virtual_size, self.scrollable_content_region.size
        bars_stay = (size.height > view.height) == (old.height > view.height) and (
            size.width > view.width
        ) == (old.width > view.width)
        if size == old:
            return
        if not (bars_stay and self.is_mounted and view.area):
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _virtual_width(self) -> int:
        return sum(w + _GAP for w in self._widths) + _GAP

    def _draw(self, cells: Sequence[Text | str], base: Style) -> Strip:
        segments = [Segment(" " * _GAP, base)]
        for column, width, cell in zip(self._columns, self._widths, cells, strict=False):
            if isinstance(cell, str):
                segments.append(Segment(fit(cell, width, column.justify), base))
            elif cell.spans:
                # Rare (several styles in one cell): let rich lay it out.
                text = cell.copy()
                text.truncate(width, overflow="ellipsis", pad=True)
                segments.extend(
                    Segment(s.text, base + s.style if s.style else base)
                    for s in text.render(self.app.console)
                    if s.text
                )
            else:
                style = cell.style
                if isinstance(style, str):
                    style = Style.parse(style) if style else Style()
                justify = cell.justify if cell.justify in ("left", "right") else column.justify
                segments.append(Segment(fit(cell.plain, width, justify), base + style))
            segments.append(Segment(" " * _GAP, base))
        return Strip(segments, self._virtual_width())

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_x)
        base = self.rich_style
        if y == 0:
            header = base + self._style("vtable--header")
            labels = [self._labels.get(c.key, c.label) for c in self._columns]
            strip = self._draw(labels, header)
            return strip.crop_extend(scroll_x, scroll_x + width, header)
        row = int(self.scroll_y) + y - 1
        if not 0 <= row < len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[row]
        drawn = self._strips.get(key)
        if drawn is None:
            if len(self._strips) > _KEEP_DRAWN:
                self._strips.clear()  # scrolled through many rows: keep memory bounded
            drawn = self._strips[key] = self._draw(self.row_cells(key), base)
        strip = drawn
        if row == self.cursor_row:
            name = "vtable--cursor" if self.has_focus else "vtable--cursor-blurred"
            cursor = self._style(name)
            strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
