"""The footer every screen of the app uses: Textual's, with the help and quit keys kept at the
right edge (beside the palette's), so they stay in sight however many keys a screen offers and
however narrow the terminal is.

Textual's footer builds its keys again (removes and mounts widgets, then a layout pass) whenever
the screen's bindings are refreshed; this one changes its keys in place when the same keys are
shown — one disabled now, or the same key with another action (Esc: Back, then Cancel) — and
builds them again only when keys come or go: a restore's start refreshes the bindings just when
the user's keys must stay quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

_EDGE_ACTIONS = frozenset({"quit", "app.quit", "help", "app.help"})
# The classes that place a key (the others say how it looks: disabled, compact).
_PLACES = frozenset({"-edge", "-command-palette", "-grouped"})


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

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        """The keys as they are now: changed in place, and those not wanted now hidden, when
        the wanted keys are among those mounted, in the same order; built again otherwise."""
        if not self.is_attached:
            return
        mounted = [key for key in self.children if isinstance(key, FooterKey)]
        matched = _match(mounted, list(self.compose()))
        if matched is None or len(mounted) != len(self.children):
            await self.recompose()
            return
        for key in mounted:
            new = matched.get(key)
            if new is not None:
                _update_key(key, new)
            key.set_class(new is None, "-gone")


def _match(mounted: list[FooterKey], wanted: list[Widget]) -> dict[FooterKey, FooterKey] | None:
    """Each wanted key paired with the mounted key in its place (same key, same placing
    classes), in order; None when some wanted key has none."""
    pairs: dict[FooterKey, FooterKey] = {}
    keys = iter(mounted)
    for new in wanted:
        if not isinstance(new, FooterKey):
            return None
        place = (new.key, new.classes & _PLACES)
        old = next((k for k in keys if (k.key, k.classes & _PLACES) == place), None)
        if old is None:
            return None
        pairs[old] = new
    return pairs


def _update_key(key: FooterKey, new: FooterKey) -> None:
    """Make `key` show what `new` (a key not mounted) says."""
    if (key.description, key.action, key._disabled, key.tooltip) == (
        new.description,
        new.action,
        new._disabled,
        new.tooltip,
    ):
        return
    # The key is as wide as its text: a layout pass only when the text's width changes.
    grows = cell_len(new.description) != cell_len(key.description)
    key.description, key.action, key.tooltip = new.description, new.action, new.tooltip
    key._disabled = new._disabled
    key.set_class(new._disabled, "-disabled")
    key.refresh(layout=grows)
