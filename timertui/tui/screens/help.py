"""`?`: the keys of the screen it was opened from, and what the markers mean."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from timertui.tui import look

LEGEND = "\n".join(
    (
        f"{look.MARKED} marked for a snapshot   {look.GONE} process gone (shown one refresh)   "
        "'no access': its timers are not readable by you",
        f"gap map: {look.MAP_TIMER} timer   {look.MAP_FREE} free IDs   {look.MAP_WALKED} walked   "
        f"{look.MAP_PENDING} pending   {look.MAP_FAILED} failed",
        "restore states: "
        + "   ".join(f"{marker} {state}" for state, marker in look.STATE_MARKERS.items()),
        "filter: words match name, pid or user; !word excludes.  Sort: < > or click a header.",
        "The command palette (ctrl+p) runs every command and opens a path typed into it.",
    )
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, keys: list[tuple[str, str, str]], title: str) -> None:
        super().__init__()
        self.keys = keys
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(f"{self.title_text} — keys", classes="title", markup=False)
            yield DataTable(id="help-keys", cursor_type="none", show_cursor=False)
            yield Static(LEGEND, id="help-legend", markup=False)
            yield Static("esc closes", classes="note")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#help-keys", DataTable)
        table.add_columns("KEY", "DOES", "DETAIL")
        for key, description, tooltip in self.keys:
            table.add_row(Text(key), Text(description), Text(tooltip))
