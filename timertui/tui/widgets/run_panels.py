"""The panels of a restore run: progress over the ID space, the per-timer states, the decisions
log, the timing panel and the verification table. Each draws from a RunView."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from timertui.capture.describe import clock_text
from timertui.model import ITIMER_NAMES, Timer
from timertui.restore import events as ev
from timertui.restore.sim.costs import BUILT_IN
from timertui.tui import formats
from timertui.tui.columns import Column
from timertui.tui.run_view import RunView, diff_text
from timertui.tui.widgets.style_cache import StyleCache
from timertui.tui.widgets.virtual_table import VirtualTable

WORKER_START = "spawn"  # the phase that starts the worker process (forked by the server)
_SEVERITY_MARK = {"info": "·", "warning": "!", "error": "✗", "fatal": "✗✗"}
_SEVERITY_CLASS = {
    "warning": "decision--warning",
    "error": "decision--error",
    "fatal": "decision--error",
}


def since_start(t_ns: int) -> str:
    """An event's time since the run started."""
    return f"+{formats.duration(t_ns)}"


class RunProgress(Vertical):
    """A bar over the ID space the create phase has covered, with what it says in words."""

    fraction: reactive[float] = reactive(0.0)
    label: reactive[str] = reactive("not started")

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="progress-label", markup=False)
        yield ProgressBar(total=1.0, show_eta=False).data_bind(progress=RunProgress.fraction)

    def watch_label(self, label: str) -> None:
        # Before compose the label goes in with the Static; after, one line whatever it says:
        # no layout pass (a walk updates this 50 times a second).
        for line in self.query(".progress-label").results(Static):
            line.update(label, layout=False)

    def ready(self, text: str) -> None:
        """Before the first run: what will run, and how to start it."""
        self.fraction = 0.0
        self.label = text

    def show(self, view: RunView) -> None:
        self.fraction = view.fraction
        reached = max(view.reached, 0)
        where = timing_text(view) if view.finished else f"ID {reached:,}"
        self.label = f"{view.outcome} · {view.mode or '…'} · {where}"


def timing_text(view: RunView) -> str:
    """A finished run's time: the restore itself, and the worker's start apart from it (a
    process start is not kernel timer work, and would hide microseconds of it)."""
    start = view.phases.get(WORKER_START)
    if start is None:
        return formats.duration(view.elapsed_ns)
    restore = formats.duration(max(0, view.elapsed_ns - start))
    return f"{restore} + {formats.duration(start)} worker start"


STATE_CLASSES = frozenset(f"state--{s}" for s in formats.STATE_MARKERS)


def state_text(widget: StyleCache, state: str) -> Text:
    """A restore state as marker + word, coloured from the widget's `state--*` component class."""
    return Text(f"{formats.STATE_MARKERS[state]} {state}", style=widget._style(f"state--{state}"))


class RunTimersTable(VirtualTable):
    """Each timer of the plan and where it is: pending → created → armed → verified / failed.
    A state change costs a dict update; only rows on screen are drawn again."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | STATE_CLASSES
    # Too narrow for ID, CLOCK and STATE (the pane at 80 columns, ~40 cells): the clock's word
    # gives up cells so that the state shows.
    COMPACT_BELOW = 50

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            (
                Column("id", "ID", 13, "right"),
                Column("clock", "CLOCK", 22, least=12),
                Column("state", "STATE", 10),
                Column("detail", "DETAIL", 20, fill=True),
            ),
            id=id,
        )
        self._loaded: tuple[Timer, ...] = ()
        self._by_id: dict[int, Timer] = {}
        self._view: RunView | None = None

    def load(self, timers: tuple[Timer, ...], view: RunView) -> None:
        """The rows of `timers`, in the states of `view` (the same timers again, for a new run:
        only the states are new)."""
        self._view = view
        self.refresh_all_rows()
        if timers is not self._loaded:
            self._loaded = timers
            self._by_id = {t.id: t for t in timers}
            self.set_rows(str(tid) for tid in sorted(self._by_id))

    def update_states(self, view: RunView, ids: set[int]) -> None:
        self._view = view
        if len(ids) > self.row_count // 2:
            self.refresh_all_rows()
        else:
            self.refresh_rows(str(tid) for tid in ids)

    def row_cells(self, key: str) -> Sequence[Text]:
        t = self._by_id[int(key)]
        view = self._view
        state = view.states.get(t.id, "pending") if view else "pending"
        detail = view.details.get(t.id, "") if view else ""
        return (Text(f"{t.id:,}"), Text(clock_text(t)), state_text(self, state), Text(detail))


class DecisionsLog(VirtualTable):
    """Every decision of the run: when, its stable code, and why (the reason in full under the
    table, for the one under the cursor)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | set(
        _SEVERITY_CLASS.values()
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            (
                Column("time", "TIME", 10, "right"),
                Column("severity", "", 2),
                Column("code", "CODE", 18),
                Column("timer", "TIMER", 13, "right"),
                Column("reason", "REASON", 20, fill=True),
            ),
            id=id,
        )
        self._added: list[ev.Decision] = []

    def reset(self) -> None:
        self._added = []
        self.refresh_all_rows()
        self.set_rows(())

    def show(self, view: RunView) -> None:
        """Append the decisions not shown yet; the cursor follows the newest."""
        if len(view.decisions) == len(self._added):
            return
        self._added = list(view.decisions)
        self.set_rows(map(str, range(len(self._added))), keep=str(len(self._added) - 1))

    def decision(self, key: str | None) -> ev.Decision | None:
        return None if key is None else self._added[int(key)]

    def row_cells(self, key: str) -> Sequence[Text]:
        d = self._added[int(key)]
        style = self._style(_SEVERITY_CLASS.get(d.severity, ""))
        return (
            Text(since_start(d.t_ns)),
            Text(_SEVERITY_MARK[d.severity], style=style),
            Text(d.code, style=style),
            Text("" if d.timer_id is None else f"{d.timer_id:,}"),
            Text(d.reason),
        )


class TimingPanel(Static):
    """Elapsed time, per-phase times, creates and deletes, rate and ETA; with a prediction of the
    same run beside each phase when one is given. Lines stay short enough for a race lane."""

    _lines = 0

    # Lines after the run's own: CRIU's timing of the same restore, from its log.
    criu: tuple[str, ...] = ()

    def show(self, view: RunView, prediction: RunView | None = None) -> None:
        start = view.start
        where = f"{start.backend} {start.kernel}".strip() if start else "…"
        lines = [
            f"{formats.duration(view.elapsed_ns)} · {view.mode or '…'} · {where}",
            f"creates {view.creates:,} · deletes {view.deletes:,}",
        ]
        progress = view.progress
        if progress is not None and not view.finished:
            eta = formats.duration(progress.eta_ns) if progress.eta_ns >= 0 else "unknown"
            lines.append(f"rate      {formats.rate(progress.rate)} · ETA {eta}")
        for name, ns in view.phases.items():
            predicted = prediction.phases.get(name) if prediction else None
            guess = f" (sim {formats.duration(predicted)})" if predicted is not None else ""
            label = "start" if name == WORKER_START else name
            lines.append(f"{label:<10}{formats.duration(ns)}{guess}")
        if prediction is not None and prediction.done is not None:
            lines.append(prediction_line(prediction))
        if view.done is not None:
            d = view.done
            lines.append(f"result    {view.outcome} {d.verified:,}/{d.verified + d.failed:,}")
        if view.error is not None:
            lines.append(f"error     {view.error.code}: {view.error.message}")
        lines += self.criu
        # A layout pass only when the panel grows, not for every new figure: a line that goes
        # (the rate, at the end) leaves its room blank.
        grows = len(lines) > self._lines
        lines += [""] * (self._lines - len(lines))
        self.update(Text("\n".join(lines)), layout=grows)
        self._lines = len(lines)


def prediction_line(prediction: RunView) -> str:
    """What the simulator predicted, and from which costs (built-in ones are only a guess)."""
    kernel = prediction.start.kernel if prediction.start else ""
    model = next((d.reason for d in prediction.decisions if d.code == "sim-model"), "")
    costs = "built-in costs: run `timertui calibrate`" if BUILT_IN in model else "calibrated"
    return f"sim {kernel}: {prediction.creates:,} creates · {costs}"


class VerifyTable(VirtualTable):
    """The end of a run: each timer equal, or the fields that differ."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | STATE_CLASSES

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            (
                Column("id", "ID", 13, "right"),
                Column("result", "RESULT", 10),
                Column("fields", "FIELDS", 20, fill=True),
            ),
            id=id,
        )
        self._differing: dict[int, ev.TimerCheck] = {}
        self._others: dict[str, ev.TimerCheck] = {}

    def show(self, view: RunView) -> None:
        self._differing = view.differing
        # The POSIX timers by ID, then the timerfds ("fd:N") and interval timers ("it:N").
        self._others = {_other_key(c): c for c in view.other_checks}
        self.refresh_all_rows()
        self.set_rows([*map(str, sorted((*view.equal_ids, *view.differing))), *self._others])

    def clear(self) -> None:
        self.show(RunView(()))

    def row_cells(self, key: str) -> Sequence[Text]:
        other = self._others.get(key)
        if other is not None:
            name = f"fd {other.timer_id}" if other.timer_kind == "timerfd" else _itimer(other)
            check: ev.TimerCheck | None = None if other.equal else other
        else:
            name, check = f"{int(key):,}", self._differing.get(int(key))
        return (
            Text(name),
            state_text(self, "verified" if check is None else "differs"),
            Text("all equal" if check is None else diff_text(check)),
        )


def _other_key(check: ev.TimerCheck) -> str:
    return f"{'fd' if check.timer_kind == 'timerfd' else 'it'}:{check.timer_id}"


def _itimer(check: ev.TimerCheck) -> str:
    which = check.timer_id
    return ITIMER_NAMES[which] if 0 <= which < len(ITIMER_NAMES) else f"itimer {which}"
