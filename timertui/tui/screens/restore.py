"""The restore screen: choose a backend, mode and hold, then watch the restore live — progress over
the ID space, each timer's state, the gap map filling in, every decision, and the timing — and at
the end the verification table.

The restore runs in a thread worker that only reads the event stream and posts messages; the
widgets change on the event loop. Esc cancels a run (the stream's cancel kills the worker process).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import (
    Button,
    Checkbox,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from timertui.choices import MODES, NATIVE, SIM, Mode
from timertui.model import ProcessTimers
from timertui.restore import events as ev
from timertui.tui import formats
from timertui.tui.messages import RestoreEvent
from timertui.tui.restorer import REAL_PACE, WALK_KERNEL, Restorer, RunRequest
from timertui.tui.rows import gap_report
from timertui.tui.run_view import RunView
from timertui.tui.screens.runs import RunsScreen
from timertui.tui.widgets.gap_map import GapMap
from timertui.tui.widgets.keys_footer import KeysFooter
from timertui.tui.widgets.run_panels import (
    DecisionsLog,
    RunProgress,
    RunTimersTable,
    TimingPanel,
    VerifyTable,
)


def _choice(
    options: list[tuple[str, str]], id: str, tooltip: str, preferred: str = ""
) -> Select[str]:
    """A one-line choice of `preferred` if offered, else of the first option ("-" for none)."""
    options = options or [("-", "")]
    values = [value for _, value in options]
    value = preferred if preferred in values else values[0]
    return Select(options, value=value, allow_blank=False, compact=True, id=id, tooltip=tooltip)


class RestoreScreen(RunsScreen):
    # What the keys offered depend on: the footer follows them (bindings=True).
    running: var[bool] = var(False, bindings=True)
    holding: var[bool] = var(False, bindings=True)  # a held target to release
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "s", "start", "Start", tooltip="Run the restore with these choices", id="run.start"
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            tooltip="Stop the restore; the worker is killed",
            id="run.cancel",
        ),
        Binding(
            "escape",
            "release",
            "Release",
            tooltip="Let the held target go (it is killed)",
            id="run.release",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the previous screen", id="run.back"),
        Binding(
            "1",
            "show_tab('decisions')",
            "Decisions",
            tooltip="The decisions log",
            id="restore.decisions",
        ),
        Binding(
            "2",
            "show_tab('verify')",
            "Verification",
            tooltip="The verification table",
            id="restore.verification",
        ),
    ]

    def __init__(
        self,
        process: ProcessTimers,
        origin: str,
        restorer: Restorer,
        criu: tuple[str, ...] = (),
    ) -> None:
        super().__init__(process, origin, restorer)
        self.criu = criu  # CRIU's own timing of this restore, from its log, if opened with one
        self.view = RunView(tuple(sorted(t.id for t in process.timers)))
        self.prediction: RunView | None = None
        self._predict: RunRequest | None = None  # the prediction to run once the run is done
        self._gaps = gap_report(process)
        self._run = 0
        self._changed: set[int] = set()  # timers whose state the table has not shown yet

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(
            f"restore {self.origin} · {formats.timers_text(self.process, with_ids=True)}",
            id="restore-head",
            markup=False,
        )
        sim_missing = self.restorer.unavailable(SIM)
        backends: list[tuple[str, str]] = [("native", NATIVE)]
        if sim_missing is None:
            backends.append(("simulator", SIM))
        with Horizontal(id="controls", classes="controls"):
            yield Label("backend")
            yield _choice(backends, "backend", "native: this kernel; simulator: a model of one")
            yield Label("mode")
            yield _choice(
                [(m, m) for m in MODES], "mode", "auto probes the prctl; exact or walk force one"
            )
            yield Checkbox(
                "hold: off",
                id="hold",
                compact=True,
                tooltip="keep the target alive after the restore, counting expirations",
            )
            yield Button("Start", variant="primary", id="start", compact=True)
        # The simulator's own choices, on a line of their own (shown with the simulator).
        with Horizontal(id="sim-controls", classes="controls"):
            yield Label("kernel")
            kernels = [(k, k) for k in self.restorer.kernels()]
            yield _choice(kernels, "kernel", "the kernel the simulator models", WALK_KERNEL)
            yield Label("pace")
            paces = [(p, p) for p in self.restorer.paces()]
            yield _choice(paces, "pace", "how fast the simulator plays its events back", REAL_PACE)
        if sim_missing is not None:
            yield Static(f"simulator: {sim_missing}", classes="note", markup=False)
        yield RunProgress(id="run-progress")
        with Horizontal(id="run-body"):
            yield RunTimersTable(id="run-timers")
            with Vertical(id="run-side"):
                yield GapMap(id="run-gap-map")
                timing = TimingPanel(id="timing")
                timing.criu = self.criu
                yield timing
        with TabbedContent(id="run-tabs", initial="decisions"):
            with TabPane("Decisions", id="decisions"):
                yield DecisionsLog(id="decisions-log")
                yield Static(id="decision-reason", markup=False)
            with TabPane("Verification", id="verify"):
                yield VerifyTable(id="verify-table")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.prepare_runs()
        self._sim_controls()
        self.query_one(RunTimersTable).load(self.process.timers, self.view)
        self._draw()
        self.query_one("#start", Button).focus()

    @on(DecisionsLog.Highlighted, "#decisions-log")
    def _decision_highlighted(self, event: DecisionsLog.Highlighted) -> None:
        # The table cuts long reasons (CRIU's are long): the one under the cursor in full.
        decision = self.query_one(DecisionsLog).decision(event.key)
        reason = "" if decision is None else f"{decision.code}: {decision.reason}"
        self.query_one("#decision-reason", Static).update(reason)

    @on(Checkbox.Changed, "#hold")
    def _hold_changed(self, event: Checkbox.Changed) -> None:
        # The box's look alone does not say on or off without colour.
        event.checkbox.label = "hold: on" if event.value else "hold: off"

    @on(Select.Changed)
    def _choice_changed(self) -> None:
        self._sim_controls()

    def _sim_controls(self) -> None:
        sim = self.query_one("#backend", Select).value == SIM
        self.query_one("#sim-controls").set_class(not sim, "-hidden")
        if not self.running and self.view.start is None:
            self.query_one(RunProgress).ready(self._ready_text())

    def _ready_text(self) -> str:
        request = self.request()
        how = request.backend if request.backend == NATIVE else f"simulator {request.kernel}"
        return f"ready · {how}, mode {request.mode} · press s (or Start) to run the restore"

    # -- running --------------------------------------------------------------------------------

    def request(self) -> RunRequest:
        mode: Mode = self.query_one("#mode", Select).value  # type: ignore[assignment]
        return RunRequest(
            backend=str(self.query_one("#backend", Select).value),
            mode=mode,
            hold=self.query_one("#hold", Checkbox).value,
            kernel=str(self.query_one("#kernel", Select).value),
            pace=str(self.query_one("#pace", Select).value),
        )

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.running:
            return
        request = self.request()
        self._run += 1
        run = f"run-{self._run}"
        self.view = RunView(self.view.ids)
        self.prediction = None
        self._predict = None
        self.running = True
        self.query_one(RunTimersTable).load(self.process.timers, self.view)
        self.query_one(DecisionsLog).reset()
        self.query_one(VerifyTable).clear()
        tabs = self.query_one(TabbedContent)
        if tabs.active == "verify":  # back from the last run's end (never before tabs exist)
            tabs.active = "decisions"
        self._draw()
        self.stream(run, request)
        if request.backend == NATIVE and self.restorer.unavailable(SIM) is None:
            # The simulator's prediction for this host's kernel ("" picks its profile), shown
            # beside the measurement once that is done: run beside it, the model would take CPU
            # from the app and the worker (this VM has two cores) and slow what it predicts.
            self._predict = RunRequest(SIM, request.mode, False, "", "instant")

    def on_restore_event(self, message: RestoreEvent) -> None:
        current = f"run-{self._run}"
        if message.run == f"{current}-prediction" and self.prediction is not None:
            self.prediction.apply(message.event)
            self.redraw_soon(self._draw)
            return
        if message.run != current:
            return  # a cancelled run's last events
        self._changed |= self.view.apply(message.event)
        if isinstance(message.event, ev.Done) and self._predict is not None:
            self.prediction = RunView(self.view.ids)
            self.stream(f"{current}-prediction", self._predict)
            self._predict = None
        if self.view.finished or self.view.holding:
            self._draw()
        else:
            self.redraw_soon(self._draw)
        if isinstance(message.event, ev.Verify):
            self.query_one(VerifyTable).show(self.view)
            self.query_one(TabbedContent).active = "verify"
        self.holding = self.view.holding
        if isinstance(message.event, ev.Done) and message.event.holding:
            self.notify(
                f"target {self.view.start.pid if self.view.start else ''} holds the timers and "
                "counts their expirations; esc releases it",
                title="holding",
                markup=False,
            )
        if self.view.finished and self.running:
            self._finished()

    def _draw(self) -> None:
        view = self.view
        if self._run:
            self.query_one(RunProgress).show(view)
        changed, self._changed = self._changed, set()
        if changed:
            self.query_one(RunTimersTable).update_states(view, changed)
        self.query_one(GapMap).show(self._gaps, view.states, view.walked, changed)
        self.query_one(DecisionsLog).show(view)
        self.query_one(TimingPanel).show(view, self.prediction)

    def watch_running(self, running: bool) -> None:
        self.query_one("#start", Button).disabled = running

    def _finished(self) -> None:
        self.running = False
        view = self.view
        cancelled = view.error is not None and view.error.code == "cancelled"
        detail = view.error.message if view.error and not view.released else view.outcome
        self.notify(
            detail,
            title="restore cancelled" if cancelled and not view.released else "restore finished",
            severity="information" if view.ok or cancelled else "error",
            markup=False,
        )

    def action_cancel(self) -> None:
        self.cancel_runs()

    def action_release(self) -> None:
        self.cancel_runs()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return not self.running
        if action == "cancel":
            return self.running and not self.holding
        if action == "release":
            return self.holding
        if action == "back":
            return not (self.running or self.holding)
        return True
