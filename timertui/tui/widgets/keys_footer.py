"""The footer every screen of the app uses: Textual's, with the help and quit keys kept at the
right edge (beside the palette's), so they stay in sight however many keys a screen offers and
however narrow the terminal is."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer

_EDGE_ACTIONS = frozenset({"quit", "app.quit", "help", "app.help"})


def quit_binding(owner: str) -> Binding:
    """`q` quits the app. A modal screen needs its own: the app's keys do not reach past it."""
    return Binding("q", "app.quit", "Quit", tooltip="Leave timertui", id=f"{owner}.quit")


class KeysFooter(Footer):
    def compose(self) -> ComposeResult:
        edge: list[Widget] = []
        for widget in super().compose():
            if getattr(widget, "action", None) in _EDGE_ACTIONS:
                widget.add_class("-edge")  # placed by app.tcss: the first yielded outermost
                edge.insert(0, widget)  # quit comes after help among the app's keys
            else:
                yield widget
        yield from edge
