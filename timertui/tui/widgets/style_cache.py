"""Component styles looked up once per stylesheet, for widgets that draw many cells."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    # A plain mixin at run time: Textual inherits CSS along the first DOMNode base, which must
    # stay the widget class this is mixed into.
    _Base = object


class StyleCache(_Base):
    """Mixed in first, before the widget class, by widgets whose render asks for component
    styles per cell: a lookup costs more than drawing a row, so each name is looked up once
    until the stylesheet changes."""

    _style_cache: dict[str, Style]

    def _style(self, name: str) -> Style:
        if not name:
            return Style()
        try:
            cache = self._style_cache
        except AttributeError:
            cache = self._style_cache = {}
        if name not in cache:
            cache[name] = self.get_component_rich_style(name, partial=True)
        return cache[name]

    def notify_style_update(self) -> None:
        self._style_cache = {}
        super().notify_style_update()
