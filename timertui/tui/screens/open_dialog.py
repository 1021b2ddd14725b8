"""`o`: ask for a path to open — a snapshot file, a CRIU image directory or crit JSON — with path
completion (tab, and inline suggestions: → takes one). The file is opened in a thread before the
dialog closes, so a bad path leaves the dialog open with the error and the path still there."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, Static

from timertui.tui.paths import Completion, Opened, PathSuggester, complete, open_any
from timertui.tui.screens.input_dialog import InputDialog

_SHOWN_CANDIDATES = 6
_NOTE = "enter opens it (browsed offline) · tab completes · esc cancels"


class Completed(Message):
    """The completion of `asked`, the input's value when tab was pressed."""

    def __init__(self, asked: str, completion: Completion) -> None:
        super().__init__()
        self.asked = asked
        self.completion = completion


def candidates_line(candidates: tuple[str, ...]) -> str:
    shown = "  ".join(candidates[:_SHOWN_CANDIDATES])
    more = len(candidates) - _SHOWN_CANDIDATES
    return f"{len(candidates)} matches: {shown}" + (f"  (+{more})" if more > 0 else "")


class OpenDialog(InputDialog[Opened]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "tab",
            "complete",
            "Complete",
            tooltip="Complete the path; with several matches, list them",
            id="open.complete",
        ),
    ]

    def __init__(self, start: str = "") -> None:
        super().__init__(
            "Open a snapshot file, a CRIU image directory, crit JSON, an archive or a CRIU log",
            start,
            _NOTE,
            placeholder="/path/to/file.ttsnap or a CRIU dir",
        )

    def make_input(self, box: Input) -> Input:
        box.suggester = PathSuggester()
        return box

    def attempt(self, value: str) -> Opened:
        return open_any(value)

    def action_complete(self) -> None:
        self._complete(self.query_one("#dialog-input", Input).value)

    @work(thread=True, exclusive=True, group="complete", exit_on_error=False, name="completion")
    def _complete(self, text: str) -> None:
        self.post_message(Completed(text, complete(text)))

    def on_completed(self, message: Completed) -> None:
        box = self.query_one("#dialog-input", Input)
        if box.value != message.asked:
            return  # typed on meanwhile
        found = message.completion
        box.value = found.value
        box.cursor_position = len(found.value)
        note = self.query_one("#dialog-note", Static)
        if not found.candidates:
            note.update(f"nothing here starts with {message.asked!r}")
        else:
            note.update(candidates_line(found.candidates) if len(found.candidates) > 1 else _NOTE)
