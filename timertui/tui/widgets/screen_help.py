"""`?`: Textual's help panel beside the screen, with what the screen is about on top.

The keys are Textual's own KeyPanel: every key that works where the focus is now (the focused
widget's, the screen's and the app's, with their tooltips), kept up to date as they change. Above
them, the screen's concepts from help_text (on the restore screen: backend, mode, hold, the
simulator's kernel profiles and pace), which no key list says. The screen stays usable beside it;
`?` again hides it.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import HelpPanel, KeyPanel, Static

from timertui.tui.help_text import Topic


def topics_text(topics: tuple[Topic, ...]) -> Text:
    text = Text()
    for heading, body in topics:
        text.append(f"{heading}\n", style="bold")
        text.append(f"{body}\n")
    return text


class ScreenHelp(HelpPanel):
    def __init__(self, title: str, topics: tuple[Topic, ...]) -> None:
        super().__init__(id="screen-help")
        self.title_text = title
        self.topics = topics

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-words"):
            yield Static(f"{self.title_text} — ? hides this", classes="title", markup=False)
            yield Static(topics_text(self.topics), id="help-topics")
        yield KeyPanel(id="keys-help")

    def update_help(self, focused_widget: Widget | None) -> None:
        """The words are the screen's, wherever the focus is (Textual's panel shows the focused
        widget's HELP here; ours have none)."""
