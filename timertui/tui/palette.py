"""The command palette's commands: every key the current screen offers (so the palette and the
footer never disagree), and "open" for any snapshot file or CRIU image directory typed as a path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from timertui.tui.app import TimerTuiApp

_PATH_STARTS = ("/", "~", "./", "../")


@dataclass(frozen=True)
class _Command:
    name: str
    help: str
    action: str


def looks_like_path(query: str) -> bool:
    return query.strip().startswith(_PATH_STARTS)


class TimerCommands(Provider):
    def _commands(self) -> Iterator[tuple[_Command, object]]:
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            # Keys without a description are plumbing (cursor moves), not commands.
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            help_text = binding.tooltip or binding.description
            command = _Command(
                binding.description,
                f"{help_text}  [{binding.key_display or binding.key}]",
                binding.action,
            )
            yield command, partial(self.app.run_action, binding.action, active.node)

    async def discover(self) -> Hits:
        yield DiscoveryHit(
            "Open a snapshot…",
            self._hint_open,
            help="type a path (/…, ~/…, ./…) to open a snapshot file or a CRIU image directory",
        )
        for command, run in self._commands():
            yield DiscoveryHit(command.name, run, help=command.help)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        if looks_like_path(query):
            path = query.strip()
            app = cast("TimerTuiApp", self.app)
            yield Hit(
                1.0,
                f"Open {path}",
                partial(app.open_path, path),
                text=f"Open {path}",
                help="browse it offline (snapshot file, CRIU image directory or crit JSON)",
            )
            return
        matcher = self.matcher(query)
        for command, run in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), run, help=command.help)  # type: ignore[arg-type]

    def _hint_open(self) -> None:
        self.app.notify("open the palette again and type the path, starting with / ~ or ./")
