"""The race view: one process's timers restored side by side — native exact, native walk, and the
simulator's walk — all live, so the walk's seconds stand next to exact mode's microseconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Static

from timertui.choices import NATIVE, SIM
from timertui.gaps import GapReport
from timertui.model import ProcessTimers
from timertui.tui import formats
from timertui.tui.messages import RestoreEvent
from timertui.tui.restorer import REAL_PACE, WALK_KERNEL, Restorer, RunRequest
from timertui.tui.rows import gap_report
from timertui.tui.run_view import RunView
from timertui.tui.screens.runs import RunsScreen
from timertui.tui.widgets.gap_map import GapMap
from timertui.tui.widgets.keys_footer import KeysFooter
from timertui.tui.widgets.run_panels import RunProgress, TimingPanel, since_start

_LANE_DECISIONS = 40


@dataclass(frozen=True)
class Lane:
    key: str
    title: str
    request: RunRequest


class RaceLane(Vertical):
    def __init__(self, lane: Lane, unavailable: str | None) -> None:
        super().__init__(id=f"lane-{lane.key}", classes="lane")
        self.lane = lane
        self.unavailable = unavailable
        self._decisions = -1

    def compose(self) -> ComposeResult:
        yield Static(self.lane.title, classes="lane-title", markup=False)
        if self.unavailable is not None:
            yield Static(f"not available: {self.unavailable}", classes="note", markup=False)
            return
        yield RunProgress()
        yield GapMap(stats=False)
        yield TimingPanel()
        yield Static(classes="lane-decisions", markup=False)

    def ready(self) -> None:
        if self.unavailable is None:
            self.query_one(RunProgress).ready("ready · press s to start the race")

    def show(self, report: GapReport | None, view: RunView, changed: set[int]) -> None:
        if self.unavailable is not None:
            return
        self.query_one(RunProgress).show(view)
        self.query_one(GapMap).show(report, view.states, view.walked, changed)
        self.query_one(TimingPanel).show(view)
        if len(view.decisions) != self._decisions:
            self._decisions = len(view.decisions)
            # The newest that fit a lane: a zoo of thousands of timers has thousands.
            newest = view.decisions[-_LANE_DECISIONS:]
            lines = ["decisions", *(f"{since_start(d.t_ns):>10} {d.code}" for d in newest)]
            self.query_one(".lane-decisions", Static).update("\n".join(lines))


class RaceScreen(RunsScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "start", "Start", tooltip="Run the race (again)", id="run.start"),
        Binding("escape", "cancel", "Cancel", tooltip="Stop every lane", id="run.cancel"),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="run.back"),
    ]
    # Some lane still runs: what the keys offered depend on (the footer follows, bindings=True).
    running: var[bool] = var(False, bindings=True)

    def __init__(self, process: ProcessTimers, origin: str, restorer: Restorer) -> None:
        super().__init__(process, origin, restorer)
        kernels = restorer.kernels()
        kernel = WALK_KERNEL if WALK_KERNEL in kernels else next(iter(kernels), "")
        self.lanes = (
            Lane("exact", "native · exact IDs", RunRequest(NATIVE, "exact")),
            Lane("walk", "native · create/delete walk", RunRequest(NATIVE, "walk")),
            Lane(
                "sim",
                f"simulator · {kernel or 'walk'}",
                RunRequest(SIM, "auto", kernel=kernel, pace=REAL_PACE),
            ),
        )
        self.views: dict[str, RunView] = {}
        self._changed: dict[str, set[int]] = {}  # per lane, since it was last drawn
        self._gaps = gap_report(process)
        self._round = 0

    def compose(self) -> ComposeResult:
        yield Static(
            f"race · {self.origin} · {formats.timers_text(self.process, with_ids=True)}",
            id="race-head",
            markup=False,
        )
        with Horizontal(id="lanes"):
            for lane in self.lanes:
                yield RaceLane(lane, self.restorer.unavailable(lane.request.backend))
        yield KeysFooter()

    def on_mount(self) -> None:
        self.prepare_runs()
        for lane in self.query(RaceLane):
            lane.ready()

    def action_start(self) -> None:
        if self.running:
            return
        self._round += 1
        ids = tuple(sorted(t.id for t in self.process.timers))
        self.views = {}
        for lane_widget in self.query(RaceLane):
            if lane_widget.unavailable is None:
                lane = lane_widget.lane
                self.views[lane.key] = RunView(ids)
                self._changed[lane.key] = set()
                lane_widget.show(self._gaps, self.views[lane.key], set())
                self.stream(f"{self._round}:{lane.key}", lane.request)
        self.running = bool(self.views)

    def on_restore_event(self, message: RestoreEvent) -> None:
        round_, _, key = message.run.partition(":")
        if round_ != str(self._round) or key not in self.views:
            return
        view = self.views[key]
        self._changed[key] |= view.apply(message.event)
        if view.finished or view.holding:
            self._draw_lanes()
        else:
            self.redraw_soon(self._draw_lanes)
        self.running = any(not v.finished for v in self.views.values())

    def _draw_lanes(self) -> None:
        for key, view in self.views.items():
            changed, self._changed[key] = self._changed[key], set()
            self.query_one(f"#lane-{key}", RaceLane).show(self._gaps, view, changed)

    def action_cancel(self) -> None:
        self.cancel_runs()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action in ("start", "back"):
            return not self.running
        return True
