"""The `s` dialog: where the snapshot of the marked processes goes, and whether to capture the
timers' values too (deep capture, which stops each process for a moment). Processes whose timers
cannot be read ("no access") are named before anything is saved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, Switch

from timertui import locations


@dataclass(frozen=True)
class SnapshotRequest:
    pids: tuple[int, ...]
    path: Path
    deep: bool


def resolve(directory: Path, name: str) -> Path:
    """A bare name goes into the snapshot folder; a path (absolute or with ~) is kept."""
    path = Path(name.strip()).expanduser()
    if not path.suffix:
        path = path.with_suffix(locations.SNAPSHOT_SUFFIX)
    return path if path.is_absolute() else directory / path


def pid_list(pids: Sequence[int], most: int = 8) -> str:
    return ", ".join(str(p) for p in pids[:most]) + (" …" if len(pids) > most else "")


def no_access_warning(pids: Sequence[int]) -> str:
    return (
        f"⚠ no access to {len(pids)} of them ({pid_list(pids)}): their timers are unknown "
        "and they are saved without any"
    )


def _deep_label(on: bool) -> str:
    # Said in words: the switch's look alone does not tell on from off without colour.
    state = "on" if on else "off"
    return f"deep capture {state}: remaining time, interval, overrun (ptrace)"


class SnapshotDialog(ModalScreen[SnapshotRequest | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="snapshot.cancel")
    ]

    def __init__(
        self,
        pids: list[int],
        directory: Path,
        deep_unavailable: str | None,
        name: str,
        no_access: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.pids = tuple(pids)
        self.no_access = tuple(p for p in pids if p in set(no_access))
        self.directory = directory
        self.deep_unavailable = deep_unavailable
        self.file_name = name

    def compose(self) -> ComposeResult:
        shown = pid_list(self.pids)
        with Vertical(id="dialog"):
            yield Label(f"Snapshot of {len(self.pids)} process(es): {shown}", markup=False)
            yield Label("File name (or a path)")
            yield Input(self.file_name, id="snap-name")
            yield Static(id="snap-where", markup=False)
            with Horizontal(classes="switch-row"):
                yield Switch(False, id="deep", disabled=self.deep_unavailable is not None)
                yield Label(_deep_label(False), id="deep-label")
            if self.deep_unavailable:
                yield Static(self.deep_unavailable, classes="note", markup=False)
            if self.no_access:
                yield Static(no_access_warning(self.no_access), id="snap-warning", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._show_where(self.file_name)
        self.query_one("#snap-name", Input).focus()

    @on(Input.Changed, "#snap-name")
    def _name_changed(self, event: Input.Changed) -> None:
        self._show_where(event.value)

    def _show_where(self, name: str) -> None:
        where = self.query_one("#snap-where", Static)
        where.update(f"→ {resolve(self.directory, name)}" if name.strip() else "→ (no name)")

    @on(Switch.Changed, "#deep")
    def _deep_changed(self, event: Switch.Changed) -> None:
        self.query_one("#deep-label", Label).update(_deep_label(event.value))

    @on(Input.Submitted, "#snap-name")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        name = self.query_one("#snap-name", Input).value
        if not name.strip():
            self.notify("the snapshot needs a file name", severity="warning")
            return
        deep = self.query_one("#deep", Switch).value
        self.dismiss(SnapshotRequest(self.pids, resolve(self.directory, name), deep))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
