"""The timertui application: the processes screen on a process source (this host, or a frozen
snapshot), and the screens it opens — snapshots, restore, race, help.

    app = TimerTuiApp(LiveSource())                 # this host
    app = TimerTuiApp(FrozenSource(snap, "x.ttsnap"))  # a snapshot, offline

Everything that reads /proc, files or runs a restore happens in thread workers; the data comes
from the injected source and restorer, so tests drive the app on deterministic data.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen

from timertui import locations
from timertui.criulog.report import LogReport
from timertui.model import ProcessTimers, Snapshot
from timertui.tui import help_text
from timertui.tui.keymap import binding_ids, load_keymap
from timertui.tui.palette import TimerCommands
from timertui.tui.paths import Opened, open_any
from timertui.tui.process_sources import FrozenSource, ProcessSource
from timertui.tui.restorer import BackendRestorer, Restorer
from timertui.tui.screens.base import ReportsWorkerErrors
from timertui.tui.screens.log import LogScreen, criu_timing
from timertui.tui.screens.open_dialog import OpenDialog
from timertui.tui.screens.processes import DEFAULT_INTERVAL, ProcessesScreen
from timertui.tui.screens.race import RaceScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshots import SnapshotsScreen
from timertui.tui.screens.verify import VerifyScreen
from timertui.tui.verifier import Verifier, engine_verifier
from timertui.tui.widgets.keys_footer import quit_binding
from timertui.tui.widgets.screen_help import ScreenHelp
from timertui.words import counted


class TimerTuiApp(ReportsWorkerErrors, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "timertui"
    COMMANDS = App.COMMANDS | {TimerCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark",
            "help",
            "Help",
            tooltip="What this screen shows, and its keys",
            id="app.help",
        ),
        Binding("S", "snapshots", "Snapshots", tooltip="The snapshot folder", id="app.snapshots"),
        Binding(
            "o",
            "open",
            "Open",
            tooltip="Open a snapshot file or CRIU image directory",
            show=False,
            id="app.open",
        ),
        Binding(
            "h",
            "next_host",
            "Next host",
            tooltip="The processes of the next host given with --host",
            id="app.next-host",
        ),
        Binding(
            "L",
            "criu_log",
            "CRIU log",
            tooltip="CRIU's own logs beside the opened images or archive, explained",
            id="app.criu-log",
        ),
        Binding(
            "escape",
            "back_to_live",
            "Live host",
            tooltip="Leave the snapshot: back to this host's live processes",
            id="app.back-to-live",
        ),
        quit_binding("app"),
    ]

    def __init__(
        self,
        source: ProcessSource,
        *,
        restorer: Restorer | None = None,
        snapshot_dir: Path | None = None,
        focus_pid: int | None = None,
        interval: float = DEFAULT_INTERVAL,
        keymap_file: Path | None = None,
        hosts: tuple[ProcessSource, ...] = (),
        verifier: Verifier = engine_verifier,
    ) -> None:
        super().__init__()
        self.source = source
        # Other hosts over ssh (`--host` more than once): `h` goes round them, source first.
        self.hosts = hosts
        self.focus_pid = focus_pid
        self.interval = interval
        self.restorer: Restorer = restorer or BackendRestorer()
        self.verifier = verifier
        self.snapshot_dir = snapshot_dir or locations.snapshot_dir()
        self.keymap_file = keymap_file  # the user's keys (timertui.tui.keymap), if any
        self._clashes: set[frozenset[str]] = set()
        # CRIU's logs found where a snapshot was opened from (an image directory, an archive).
        self.logs: tuple[str, list[LogReport]] | None = None

    def on_mount(self) -> None:
        if self.keymap_file is not None:
            self._load_keymap(self.keymap_file)

    def get_default_screen(self) -> Screen[None]:
        return ProcessesScreen(self.source, focus_pid=self.focus_pid, interval=self.interval)

    def close_restorer(self) -> None:
        """End what the restorer keeps running between restores (the worker server)."""
        self.restorer.close()

    def deep_unavailable(self) -> str | None:
        """Why the snapshot dialog cannot offer deep capture, or None when it can."""
        if not self.source.live:
            return "deep capture reads live processes; this is a snapshot"
        return None  # a process that cannot be read deep says why when it is tried

    # -- the user's keys -------------------------------------------------------------------------

    @work(thread=True, group="keymap", exit_on_error=False, name="reading the keymap")
    def _load_keymap(self, path: Path) -> None:
        keymap = load_keymap(path)
        self.call_from_thread(self._keymap_loaded, path, keymap)

    def _keymap_loaded(self, path: Path, keymap: dict[str, str]) -> None:
        unknown = sorted(keymap.keys() - binding_ids())
        if unknown:
            self.notify(
                f"{path}: no key has the id {', '.join(unknown)} (left out)",
                title="keymap",
                severity="warning",
                markup=False,
            )
        self.set_keymap({k: v for k, v in keymap.items() if k not in unknown})

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        # Called at every key while a clash stands: said once.
        keys = frozenset(b.key for b in clashed_bindings)
        if keys not in self._clashes:
            self._clashes.add(keys)
            self.notify(
                f"{', '.join(sorted(keys))}: taken by the keymap, its other use is off here",
                title="keymap",
                severity="warning",
                markup=False,
            )

    # -- opening screens ------------------------------------------------------------------------

    def open_restore(self, process: ProcessTimers, origin: str) -> None:
        # Opened from CRIU's images with their restore log: CRIU's own timing beside the replay.
        criu = criu_timing(self.logs[1], process.pid) if self.logs is not None else ()
        self.push_screen(RestoreScreen(process, origin, self.restorer, criu))

    def open_race(self, process: ProcessTimers, origin: str) -> None:
        self.push_screen(RaceScreen(process, origin, self.restorer))

    def open_verify(self, snapshot: Snapshot, process: ProcessTimers, origin: str) -> None:
        self.push_screen(VerifyScreen(snapshot, process, origin, self.verifier))

    def open_path(self, path: str, then: str = "browse") -> None:
        """Open a snapshot file, CRIU image directory or crit JSON; then browse it, or restore,
        race or verify its process."""
        self._load(path, then)

    @work(thread=True, group="open", exit_on_error=False, name="opening a snapshot")
    def _load(self, path: str, then: str) -> None:
        self.call_from_thread(self._show_opened, open_any(path), then)

    def _show_opened(self, opened: Opened, then: str) -> None:
        """Browse (restore, race) the snapshot opened; CRIU logs alone get their screen, and
        those beside a snapshot the `L` key."""
        self.logs = (opened.path, opened.logs) if opened.logs else None
        if opened.snapshot is None:
            self.push_screen(LogScreen(opened.path, opened.logs))
        else:
            self._opened(opened.snapshot, opened.path, then)

    def _opened(self, snap: Snapshot, path: str, then: str) -> None:
        name = Path(path).name
        with_timers = [p for p in snap.processes if p.holds_timers]
        if then != "browse" and len(with_timers) == 1:
            process = with_timers[0]
            origin = f"pid {process.pid} ({process.comm}) · {name}"
            if then == "verify":
                self.open_verify(snap, process, origin)
            else:
                (self.open_restore if then == "restore" else self.open_race)(process, origin)
            return
        if then != "browse":
            self.notify(
                f"{name} holds {counted(len(with_timers), 'process')} with timers: "
                f"pick one, press {'V' if then == 'verify' else 'r'}",
                markup=False,
            )
        self.push_screen(ProcessesScreen(FrozenSource(snap, name)))

    # -- actions --------------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show Textual's help panel on this screen, with what the screen is about; hide it."""
        screen = self.screen
        shown = screen.query(ScreenHelp)
        if shown:
            shown.remove()
            return
        name = type(screen).__name__.removesuffix("Screen").lower()
        screen.mount(ScreenHelp(name, help_text.topics(name)))

    def action_open(self) -> None:
        """Ask for a path, then browse what it holds."""

        def chosen(opened: Opened | None) -> None:
            if opened is not None:
                self._show_opened(opened, "browse")

        self.push_screen(OpenDialog(), chosen)

    def action_snapshots(self) -> None:
        self.push_screen(SnapshotsScreen(self.snapshot_dir))

    # -- offline and back -----------------------------------------------------------------------

    def is_offline(self, screen: Screen[object]) -> bool:
        return isinstance(screen, ProcessesScreen) and not screen.source.live

    def can_go_live(self) -> bool:
        """Whether a snapshot is being browsed on top of this host's live processes (never when
        the app started on a snapshot: there is no live host to go back to)."""
        return self.source.live and any(self.is_offline(s) for s in self.screen_stack)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back_to_live":
            # Esc, where the screen has no other use for it: on a snapshot browsed offline.
            return self.source.live and self.is_offline(self.screen)
        if action == "snapshots":
            return not isinstance(self.screen, SnapshotsScreen)
        if action == "next_host":
            return len(self.hosts) > 1 and isinstance(self.screen, ProcessesScreen)
        if action == "criu_log":
            return self.logs is not None and not isinstance(self.screen, LogScreen)
        return True

    def action_next_host(self) -> None:
        """The next host's processes: the first host's are the home screen, each other's a
        screen on top of it."""
        shown = self.screen.source if isinstance(self.screen, ProcessesScreen) else self.source
        at = self.hosts.index(shown) if shown in self.hosts else 0
        following = self.hosts[(at + 1) % len(self.hosts)]
        home = self.screen_stack[0]
        while self.screen is not home:
            self.pop_screen()
        if following is not self.source:
            self.push_screen(ProcessesScreen(following, interval=self.interval))

    def action_criu_log(self) -> None:
        """Show CRIU's logs of the images or archive opened last."""
        if self.logs is not None:
            self.push_screen(LogScreen(*self.logs))

    def action_back_to_live(self) -> None:
        """Close every screen above the first one: the live processes."""
        home = self.screen_stack[0]
        while self.screen is not home:
            self.pop_screen()
