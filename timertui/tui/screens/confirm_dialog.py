"""A yes/no question before something that cannot be undone (deleting a snapshot)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from timertui.tui.widgets.keys_footer import KeysFooter, quit_binding


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", tooltip="Go ahead", id="confirm.yes"),
        Binding("n", "answer(False)", "No", tooltip="Leave things as they are", id="confirm.no"),
        Binding(
            "escape", "answer(False)", "No", tooltip="Leave things as they are", id="confirm.esc"
        ),
        quit_binding("confirm"),
    ]

    def __init__(self, question: str, yes: str) -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.yes, variant="error", id="yes")
                yield Button("Keep it", id="no")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # enter alone never deletes

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
