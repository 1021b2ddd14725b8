"""The default screen: the processes with POSIX timers, and the timers and ID gaps of the one
under the cursor.

Polling runs in a thread worker; the next poll is scheduled only once the last one has been
rendered, so polls never overlap however slow a sweep gets.
"""

from __future__ import annotations

import gc
import time
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Input, Static

from timertui import locations
from timertui.errors import InputError
from timertui.model import Access, HostFacts, ProcessTimers
from timertui.tui import formats
from timertui.tui.messages import HostRead, ScanDone, ValuesRead
from timertui.tui.process_sources import FrozenSource, ProcessSource
from timertui.tui.rows import gap_report, parse_filter
from timertui.tui.screens.base import AppScreen, freeze_heap
from timertui.tui.screens.snapshot_dialog import SnapshotDialog, SnapshotRequest
from timertui.tui.widgets.gap_map import GapMap
from timertui.tui.widgets.host_bar import HostBar
from timertui.tui.widgets.keys_footer import KeysFooter
from timertui.tui.widgets.process_table import ProcessTable
from timertui.tui.widgets.timers_table import LiveValues, TimersTable
from timertui.words import counted

INTERVALS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
DEFAULT_INTERVAL = 1.0
_LIVE_ONLY = frozenset({"pause", "faster", "slower", "values"})
_TICK_SECONDS = 0.1  # how often live values count down on screen
_FILTER_DELAY = 0.15


class ProcessesScreen(AppScreen):
    # Under 100 columns the gap map gives the timers pane room for the values (app.tcss).
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012 - Screen types it as no ClassVar
        (0, "-narrow"),
        (100, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Filter",
            tooltip="Filter by name, pid or user; !word negates",
            id="processes.filter",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            tooltip="Show every row again",
            id="processes.clear-filter",
        ),
        Binding(
            "a",
            "toggle_all",
            "All",
            tooltip="Every process, or only those with timers",
            id="processes.all",
        ),
        Binding(
            "space", "mark", "Mark", tooltip="Mark the process for a snapshot", id="processes.mark"
        ),
        Binding(
            "U",
            "unmark",
            "Unmark all",
            tooltip="Clear every mark",
            show=False,
            id="processes.unmark-all",
        ),
        Binding(
            "s",
            "snapshot",
            "Snapshot",
            tooltip="Save the marked processes to a file",
            id="processes.snapshot",
        ),
        Binding(
            "r",
            "restore",
            "Restore",
            tooltip="Replay the restore of this process",
            id="processes.restore",
        ),
        Binding(
            "R",
            "race",
            "Race",
            tooltip="Exact against walk (and simulator), side by side",
            id="processes.race",
        ),
        Binding(
            "V",
            "verify",
            "Verify",
            tooltip="This process of the checkpoint against the live process restored from it: "
            "every timer compared, the periodic ones watched",
            id="processes.verify",
        ),
        Binding(
            "p",
            "pause",
            "Pause",
            tooltip="Freeze the table (p again resumes)",
            id="processes.pause",
        ),
        Binding(
            "v",
            "values",
            "Values",
            tooltip="Read the timers' remaining time, interval and overrun live (ptrace: the "
            "process stops for a fraction of a millisecond per read)",
            id="processes.values",
        ),
        Binding(
            "plus",
            "faster",
            "Faster",
            show=False,
            tooltip="Refresh more often",
            id="processes.faster",
        ),
        Binding(
            "minus",
            "slower",
            "Slower",
            show=False,
            tooltip="Refresh less often",
            id="processes.slower",
        ),
        Binding(
            "less_than_sign",
            "sort(-1)",
            "Sort ←",
            show=False,
            tooltip="Sort by the column left",
            id="processes.sort-left",
        ),
        Binding(
            "greater_than_sign",
            "sort(1)",
            "Sort →",
            show=False,
            tooltip="Sort by the column right",
            id="processes.sort-right",
        ),
        Binding(
            "I",
            "invert_sort",
            "Invert sort",
            show=False,
            tooltip="Reverse the sort order",
            id="processes.invert-sort",
        ),
    ]

    # What the header shows (bound to the HostBar's own in compose).
    host: var[HostFacts | None] = var(None)
    paused: var[bool] = var(False)
    interval: var[float] = var(DEFAULT_INTERVAL)
    scan_ns: var[int | None] = var(None)
    shown: var[int] = var(0)
    # What the keys offered depend on: the footer follows them (bindings=True).
    can_restore: var[bool] = var(False, bindings=True)
    can_verify: var[bool] = var(False, bindings=True)
    # The filter box shows while -filtering is set (app.tcss).
    filtering: var[bool] = var(False, bindings=True, toggle_class="-filtering")
    filtered: var[bool] = var(False, bindings=True)  # a filter applies
    marks: var[int] = var(0, bindings=True)

    def __init__(
        self,
        source: ProcessSource,
        focus_pid: int | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        super().__init__()
        self.source = source
        self.focus_pid = focus_pid  # where the cursor starts, once the process shows up
        self.include_all = False
        self.set_reactive(ProcessesScreen.interval, interval)
        self._generation = 0
        self._next_poll: Timer | None = None
        self._filter_text = ""
        self._filter_timer: Timer | None = None
        self.deep_values = False
        self._values: tuple[int, LiveValues | None, str | None] | None = None  # pid, read, refusal
        self._ticker: Timer | None = None
        self._title = ""
        self._suspended = False  # another screen is on top: no polls

    def compose(self) -> ComposeResult:
        yield HostBar(self.source.label, self.source.live, id="host-bar").data_bind(
            ProcessesScreen.host,
            ProcessesScreen.paused,
            ProcessesScreen.interval,
            ProcessesScreen.scan_ns,
            ProcessesScreen.shown,
        )
        yield Input(
            placeholder="filter: name, pid or user; !word excludes", id="filter", compact=True
        )
        yield ProcessTable(id="processes")
        with Horizontal(id="detail"):
            with Vertical(id="timers-box"):
                yield Static("no process selected", id="timers-title", markup=False)
                yield TimersTable(id="timers")
            with Vertical(id="gap-box"):
                yield Static("ID gap map", id="gap-title")
                yield GapMap(id="gap-map")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(ProcessTable).focus()
        self._read_host()
        self._poll()

    # -- workers --------------------------------------------------------------------------------

    @work(thread=True, group="host", exit_on_error=False, name="reading host facts")
    def _read_host(self) -> None:
        self.post_message(HostRead(self.source.host()))

    def on_screen_suspend(self) -> None:
        """Another screen on top (a restore, the snapshots, a dialog): no polls meanwhile. A
        scan reads every process's /proc/PID/timers, and the kernel lists a page per read, each
        restarting at the first timer: a restore target with 90,000 timers costs it seconds a
        scan, which the restore's own verify would wait behind."""
        self._suspended = True
        self._generation += 1  # a scan under way lands nowhere
        if self._next_poll is not None:
            self._next_poll.stop()
            self._next_poll = None
        self._set_ticking()

    def on_screen_resume(self) -> None:
        """Back on top: a scan at once, then the usual polls."""
        if self._suspended:
            self._suspended = False
            self._set_ticking()
            if self.source.live and not self.paused:
                self._poll()

    def _poll(self) -> None:
        if self._next_poll is not None:
            self._next_poll.stop()
            self._next_poll = None
        self._generation += 1
        self._scan(self._generation, self.include_all)

    @work(thread=True, group="poll", exit_on_error=False, name="process scan")
    def _scan(self, generation: int, include_all: bool) -> None:
        started = time.monotonic_ns()
        processes = self.source.scan(include_all)
        self.post_message(ScanDone(processes, time.monotonic_ns() - started, generation))

    def on_host_read(self, message: HostRead) -> None:
        self.host = message.host

    def on_scan_done(self, message: ScanDone) -> None:
        if message.generation != self._generation:
            return  # a scan made stale by `a` or a pause
        if not gc.get_freeze_count():
            freeze_heap()  # the app is up: what it holds now lives as long as it does
        table = self.query_one(ProcessTable)
        table.update_processes(message.processes)
        if self.focus_pid is not None and table.select_pid(self.focus_pid):
            self.focus_pid = None
        self.scan_ns = message.elapsed_ns
        self.shown = table.row_count
        self.marks = len(table.marked)  # a marked process may have gone
        self._show_timers(table.highlighted_pid)
        self._request_values(table.highlighted_pid)
        if self.source.live and not self.paused and not self._suspended:
            self._next_poll = self.set_timer(self.interval, self._poll)

    # -- the timers pane ------------------------------------------------------------------------

    @on(ProcessTable.Highlighted)
    def _highlighted(self, message: ProcessTable.Highlighted) -> None:
        self._show_timers(message.pid)
        self._request_values(message.pid)
        self.can_restore = self._highlighted_process() is not None  # some rows only
        self.can_verify = self._checkpoint_process() is not None

    @on(TimersTable.Scrolled)
    def _timers_scrolled(self) -> None:
        self._request_values(self.query_one(ProcessTable).highlighted_pid)

    def _request_values(self, pid: int | None) -> None:
        """Read the values of the timers on screen (a process may hold 100,000: reading all
        would stop it for a tenth of a second at every refresh)."""
        if not self.deep_values or pid is None:
            return
        process = self.query_one(ProcessTable).processes.get(pid)
        if process is not None and process.timers and process.access is Access.OK:
            ids = self.query_one(TimersTable).visible_ids()
            if ids:
                self._read_values(pid, ids)

    @work(thread=True, group="values-off", exit_on_error=False, name="ending live values")
    def _values_off(self) -> None:
        self.source.values_off()  # another host's reader: a request over ssh

    @work(thread=True, exclusive=True, group="values", exit_on_error=False, name="deep capture")
    def _read_values(self, pid: int, ids: tuple[int, ...]) -> None:
        try:
            capture = self.source.capture_values(pid, ids)
        except InputError as exc:  # another host's connection or timertui: said as a refusal
            self.post_message(ValuesRead(pid, None, str(exc)))
            return
        live = None if capture.refused else LiveValues(capture.values, capture.read_ns)
        self.post_message(ValuesRead(pid, live, capture.reason))

    def on_values_read(self, message: ValuesRead) -> None:
        if not self.deep_values:
            return
        live = message.live
        if live is not None and self._values is not None and self._values[0] == message.pid:
            # Rows read earlier keep their values while they are off screen.
            before = self._values[1]
            if before is not None:
                live = LiveValues(
                    {**before.values, **live.values}, {**before.read_ns, **live.read_ns}
                )
        self._values = (message.pid, live, message.refused)
        self._show_timers(self.query_one(ProcessTable).highlighted_pid)

    def _tick(self) -> None:
        self.query_one(TimersTable).tick()

    def _set_ticking(self) -> None:
        """The live values count down while they are on and shown: not paused (frozen means
        frozen, the countdown stops with the table) and no other screen on top."""
        if self._ticker is not None:
            on = self.deep_values and not self.paused and not self._suspended
            (self._ticker.resume if on else self._ticker.pause)()

    def _show_timers(self, pid: int | None) -> None:
        table = self.query_one(ProcessTable)
        process = table.processes.get(pid) if pid is not None else None
        timers_table = self.query_one(TimersTable)
        gap_map = self.query_one(GapMap)
        if process is None:
            self._set_title("no process selected")
            timers_table.show(())
            gap_map.show(None)
            return
        live, values_note = self._live_values(process.pid)
        note = f"timers of {process.pid} · {process.comm} · {self._access_note(process)}"
        self._set_title(note + values_note)
        timers_table.show(process.timers, live, process.timerfds, process.itimers)
        readable = process.access is Access.OK
        # The map is of POSIX timer IDs: a process with timerfds only has none of those.
        empty = "no timers" if not process.holds_timers else "no POSIX timers (no IDs)"
        empty = empty if readable else f"timers unknown: {process.access.value}"
        gap_map.show(gap_report(process), empty=empty)

    def _set_title(self, text: str) -> None:
        # One line (height 1 in the stylesheet): a new text needs no layout pass, and the same
        # text, after each poll, no repaint either.
        if text != self._title:
            self._title = text
            self.query_one("#timers-title", Static).update(text, layout=False)

    def _live_values(self, pid: int) -> tuple[LiveValues | None, str]:
        """The deep capture to show for `pid`, and what the title says about it."""
        if not self.deep_values:
            return None, ""
        if self._values is None or self._values[0] != pid:
            return None, " · values: reading…"
        _, live, refused = self._values
        if refused is not None:
            return None, f" · values refused: {refused}"
        return live, " · values: live"

    @staticmethod
    def _access_note(process: ProcessTimers) -> str:
        if process.access is not Access.OK:
            return str(process.access.value)
        return formats.timers_text(process)

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LIVE_ONLY and not self.source.live:
            return False
        if action == "values":
            return self.timer_app.deep_unavailable() is None
        if action == "clear_filter":
            return self.filtered or self.filtering
        if action in ("restore", "race"):
            return self.can_restore
        if action == "verify":
            return self.can_verify
        if action == "unmark":
            return self.marks > 0
        return True

    def _highlighted_process(self) -> ProcessTimers | None:
        table = self.query_one(ProcessTable)
        pid = table.highlighted_pid
        process = table.processes.get(pid) if pid is not None else None
        return process if process is not None and process.holds_timers else None

    def _checkpoint_process(self) -> ProcessTimers | None:
        """The highlighted process of an opened checkpoint, when it holds a timer of any kind."""
        if not isinstance(self.source, FrozenSource):
            return None
        table = self.query_one(ProcessTable)
        pid = table.highlighted_pid
        p = table.processes.get(pid) if pid is not None else None
        return p if p is not None and p.holds_timers else None

    def action_filter(self) -> None:
        self.filtering = True
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter_text = event.value
        # Applied once typing pauses: re-adding 2,000 rows on every key would lag the typing.
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(_FILTER_DELAY, self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_timer = None
        row_filter = parse_filter(self._filter_text)
        self.query_one(ProcessTable).set_filter(row_filter)
        self.filtered = bool(row_filter)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.filtering = bool(self.query_one("#filter", Input).value)
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._apply_filter()
        self.query_one(ProcessTable).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.filtering = False
        self._filter_text = ""
        self._apply_filter()
        self.query_one(ProcessTable).focus()

    def action_toggle_all(self) -> None:
        self.include_all = not self.include_all
        self.notify("every process" if self.include_all else "processes with timers")
        self._poll()

    def action_mark(self) -> None:
        table = self.query_one(ProcessTable)
        table.toggle_mark()
        self.marks = len(table.marked)

    def action_unmark(self) -> None:
        table = self.query_one(ProcessTable)
        table.unmark_all()
        self.marks = len(table.marked)

    def action_values(self) -> None:
        self.deep_values = not self.deep_values
        self._values = None
        if self._ticker is None:
            self._ticker = self.set_interval(_TICK_SECONDS, self._tick, pause=True)
        self._set_ticking()
        if not self.deep_values:
            self._values_off()
        pid = self.query_one(ProcessTable).highlighted_pid
        self._show_timers(pid)
        self._request_values(pid)

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._set_ticking()
        if self.paused:
            self._generation += 1  # a scan under way when pausing must not change the table
            if self._next_poll is not None:
                self._next_poll.stop()
        else:
            self._poll()

    def _set_interval(self, step: int) -> None:
        # The next step from wherever the rate is, even one given on the command line.
        if step < 0:
            self.interval = max((i for i in INTERVALS if i < self.interval), default=INTERVALS[0])
        else:
            self.interval = min((i for i in INTERVALS if i > self.interval), default=INTERVALS[-1])
        if not self.paused:
            self._poll()

    def action_faster(self) -> None:
        self._set_interval(-1)

    def action_slower(self) -> None:
        self._set_interval(1)

    def action_sort(self, step: int) -> None:
        self.query_one(ProcessTable).step_sort(step)

    def action_invert_sort(self) -> None:
        table = self.query_one(ProcessTable)
        table.sort_by(table.sort_column, not table.sort_reverse)

    # -- snapshot, restore, race ------------------------------------------------------------------

    def action_snapshot(self) -> None:
        pids = self.query_one(ProcessTable).marked_or_highlighted()
        if not pids:
            self.notify("no process to snapshot: mark some with space", severity="warning")
            return
        app = self.timer_app
        processes = self.query_one(ProcessTable).processes
        no_access = [pid for pid in pids if (p := processes.get(pid)) and p.access is not Access.OK]
        first = processes.get(pids[0])
        name = locations.snapshot_name(pids[0], first.comm if first else "", len(pids) - 1)
        dialog = SnapshotDialog(
            pids, app.snapshot_dir, app.deep_unavailable(), name, no_access=no_access
        )
        app.push_screen(dialog, self._snapshot_chosen)

    def _snapshot_chosen(self, request: SnapshotRequest | None) -> None:
        if request is not None:
            self._write_snapshot(request)

    @work(thread=True, group="snapshot", exit_on_error=False, name="snapshot")
    def _write_snapshot(self, request: SnapshotRequest) -> None:
        from timertui import snapshot_file

        captured = self.source.capture(request.pids, request.deep)
        snap = captured.snapshot
        request.path.parent.mkdir(parents=True, exist_ok=True)
        snapshot_file.save(snap, request.path)
        timers = sum(len(p.timers) for p in snap.processes)
        saved = f"{counted(len(snap.processes), 'process')}, {counted(timers, 'timer')}"
        lines = [f"{saved} → {request.path}"]
        self.app.call_from_thread(
            self.app.notify,
            "\n".join([*lines, *captured.notes]),
            title="snapshot saved",
            severity="warning" if captured.notes else "information",
            markup=False,
        )

    def action_restore(self) -> None:
        process = self._highlighted_process()
        if process is not None:
            self.timer_app.open_restore(process, self._origin(process))

    def action_race(self) -> None:
        process = self._highlighted_process()
        if process is not None:
            self.timer_app.open_race(process, self._origin(process))

    def action_verify(self) -> None:
        process = self._checkpoint_process()
        if process is not None and isinstance(self.source, FrozenSource):
            self.timer_app.open_verify(self.source.snapshot, process, self._origin(process))

    def _origin(self, process: ProcessTimers) -> str:
        where = "live" if self.source.live else self.source.label
        return f"pid {process.pid} ({process.comm}) · {where}"
