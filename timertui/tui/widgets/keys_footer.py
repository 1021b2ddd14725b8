"""The footer every screen of the app uses: Textual's, with the quit key kept at the right edge
(beside the palette's), so it stays in sight however many keys a screen offers and however
narrow the terminal is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

_QUIT_ACTIONS = frozenset({"quit", "app.quit"})


def quit_binding(owner: str) -> Binding:
    """`q` quits the app. A modal screen needs its own: the app's keys do not reach past it."""
    return Binding("q", "app.quit", "Quit", tooltip="Leave timertui", id=f"{owner}.quit")


class KeysFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if getattr(widget, "action", None) in _QUIT_ACTIONS:
                widget.add_class("-quit")  # placed by app.tcss
            yield widget
