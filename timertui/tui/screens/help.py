"""`?`: what the screen it was opened from is about (its concepts, from help_text), and its keys.
q still quits from here, as on every screen."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from timertui.tui.help_text import Topic
from timertui.tui.widgets.keys_footer import KeysFooter, quit_binding


def topics_text(topics: tuple[Topic, ...]) -> Text:
    text = Text()
    for heading, body in topics:
        text.append(f"{heading}\n", style="bold")
        text.append(f"{body}\n")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", tooltip="Back to the screen", id="help.close"),
        Binding(
            "question_mark",
            "dismiss",
            "Close",
            tooltip="Back to the screen",
            show=False,
            id="help.close-again",
        ),
        quit_binding("help"),
    ]

    def __init__(
        self, keys: list[tuple[str, str, str]], title: str, topics: tuple[Topic, ...]
    ) -> None:
        super().__init__()
        self.keys = keys
        self.title_text = title
        self.topics = topics

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(f"{self.title_text} — help", classes="title", markup=False)
            yield Static(topics_text(self.topics), id="help-topics")
            yield Static("keys", classes="title")
            yield DataTable(id="help-keys", cursor_type="none", show_cursor=False)
            yield Static("↑ ↓ scroll · esc closes", classes="note")
        yield KeysFooter()

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#help-keys", DataTable)
        table.can_focus = False  # the scroll takes the arrow keys
        table.add_columns("KEY", "DOES", "DETAIL")
        for key, description, tooltip in self.keys:
            table.add_row(Text(key), Text(description), Text(tooltip))
        self.query_one("#help", VerticalScroll).focus()
