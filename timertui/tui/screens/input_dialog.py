"""A dialog around one input whose value is tried in a thread worker: it closes with the result
when the attempt works, and otherwise stays open with the one-line error under the input and the
typed text still there to fix."""

from __future__ import annotations

from abc import abstractmethod
from functools import partial
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from timertui.tui.screens.base import failure_text

ResultT = TypeVar("ResultT")


class InputDialog(ModalScreen[ResultT | None], Generic[ResultT]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", tooltip="Close without doing anything", id="dialog.cancel"
        )
    ]

    error: reactive[str] = reactive("")
    busy: reactive[bool] = reactive(False)

    def __init__(self, question: str, value: str, note: str, placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.start_value = value
        self.note = note
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, markup=False)
            yield self.make_input(
                Input(self.start_value, placeholder=self.placeholder, id="dialog-input")
            )
            yield Static(id="dialog-error", markup=False)
            yield Static(self.note, id="dialog-note", classes="note", markup=False)

    def make_input(self, box: Input) -> Input:
        """The input as the dialog wants it (a suggester, a validator)."""
        return box

    @abstractmethod
    def attempt(self, value: str) -> ResultT:
        """Do what the dialog asks with `value`; runs in a thread. An exception's one line is
        shown under the input."""

    @on(Input.Submitted, "#dialog-input")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value or self.busy:
            return
        self.busy = True
        self.error = ""
        self.run_worker(
            partial(self.attempt, value),
            thread=True,
            exclusive=True,
            group="attempt",
            exit_on_error=False,
            name=self.question,
        )

    @on(Input.Changed, "#dialog-input")
    def _changed(self) -> None:
        self.error = ""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "attempt":
            return
        if event.state is WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.error = failure_text(event.worker.error)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.busy = False

    def watch_error(self, error: str) -> None:
        line = self.query_one("#dialog-error", Static)
        line.update(error)
        line.set_class(bool(error), "-shown")

    def watch_busy(self, busy: bool) -> None:
        self.query_one("#dialog-note", Static).update("working…" if busy else self.note)

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "attempt")
        self.dismiss(None)
