"""The command palette's commands: every key the current screen offers (so the palette and the
footer never disagree), "open" for any snapshot file or CRIU image directory typed as a path, and
"Back to the live host" wherever a snapshot is browsed on top of the live host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

if TYPE_CHECKING:
    from timertui.tui.app import TimerTuiApp

_PATH_STARTS = ("/", "~", "./", "../")
BACK_TO_LIVE = "Back to the live host"


def looks_like_path(query: str) -> bool:
    return query.strip().startswith(_PATH_STARTS)


class TimerCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """(name, help, run): going back to the live host when that applies, then each key the
        calling screen and the app offer now; the focused widget's keys (cursor moves) are not
        commands."""
        app = cast("TimerTuiApp", self.app)
        if app.can_go_live():
            # Also from a screen opened over the snapshot, where esc has another use.
            yield (
                BACK_TO_LIVE,
                "close the snapshot's screens: this host's live processes · key esc (offline)",
                app.action_back_to_live,
            )
        seen: set[str] = {"back_to_live"}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not (active.enabled and binding.description) or binding.action in seen:
                continue
            if not isinstance(active.node, Screen | App):
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            help_text = f"{binding.tooltip or binding.description} · key {key}"
            yield (
                binding.description,
                help_text,
                partial(self.app.run_action, binding.action, active.node),
            )

    async def discover(self) -> Hits:
        yield DiscoveryHit(
            "Open a snapshot…",
            self._ask_path,
            help="a snapshot file, CRIU image directory or crit JSON (or type its path here)",
        )
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        if looks_like_path(query):
            path = query.strip()
            app = cast("TimerTuiApp", self.app)
            yield Hit(
                1.0,
                Text(f"Open {path}"),  # not markup: a path may hold brackets
                partial(app.open_path, path),
                text=f"Open {path}",
                help="browse it offline (snapshot file, CRIU image directory or crit JSON)",
            )
            return
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)

    def _ask_path(self) -> None:
        cast("TimerTuiApp", self.app).action_open()
