"""The panels of a restore run: progress over the ID space, the per-timer states, the decisions
log, the timing panel and the verification table. Each draws from a RunView."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable, ProgressBar, Static

from timertui.capture.describe import clock_text
from timertui.model import Timer
from timertui.restore import events as ev
from timertui.tui import look
from timertui.tui.run_view import RunView, diff_text

_SEVERITY_MARK = {"info": "·", "warning": "!", "error": "✗", "fatal": "✗✗"}
_MIN_REASON = 30
_SEVERITY_CLASS = {
    "warning": "decision--warning",
    "error": "decision--error",
    "fatal": "decision--error",
}


def at(t_ns: int) -> str:
    """An event's time since the run started."""
    return f"+{look.duration(t_ns)}"


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

    def show(self, view: RunView) -> None:
        self.fraction = view.fraction
        reached = max(view.reached, 0)
        where = look.duration(view.elapsed_ns) if view.finished else f"ID {reached:,}"
        self.label = f"{view.outcome} · {view.mode or '…'} · {where}"


STATE_CLASSES = frozenset(f"state--{s}" for s in look.STATE_MARKERS)


def state_text(widget: Widget, state: str) -> Text:
    """A restore state as marker + word, coloured from the widget's `state--*` component class."""
    style = widget.get_component_rich_style(f"state--{state}", partial=True)
    return Text(f"{look.STATE_MARKERS[state]} {state}", style=style)


class RunTimersTable(DataTable[Text]):
    """Each timer of the plan and where it is: pending → created → armed → verified / failed."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | STATE_CLASSES

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def load(self, timers: tuple[Timer, ...], view: RunView) -> None:
        self.clear(columns=True)
        self.add_column("ID", key="id")
        self.add_column("CLOCK", key="clock")
        self.add_column("STATE", key="state", width=12)
        self.add_column("DETAIL", key="detail")
        for t in sorted(timers, key=lambda t: t.id):
            state = view.states.get(t.id, "pending")
            self.add_row(
                Text(f"{t.id:,}", justify="right"),
                Text(clock_text(t)),
                state_text(self, state),
                Text(view.details.get(t.id, "")),
                key=str(t.id),
            )

    def update_states(self, view: RunView, ids: set[int]) -> None:
        for tid in ids:
            key = str(tid)
            if key in self.rows:
                self.update_cell(key, "state", state_text(self, view.states[tid]))
                self.update_cell(key, "detail", Text(view.details.get(tid, "")), update_width=True)


class DecisionsLog(DataTable[Text]):
    """Every decision of the run: when, its stable code, and why."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "decision--warning",
        "decision--error",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._added: list[ev.Decision] = []

    def on_mount(self) -> None:
        self.add_column("TIME", key="time", width=10)
        self.add_column("", key="severity", width=2)
        self.add_column("CODE", key="code", width=18)
        self.add_column("TIMER", key="timer", width=13)
        self.add_column("REASON", key="reason", width=_MIN_REASON)

    def on_resize(self) -> None:
        # Reasons wrap in whatever width the fixed columns leave (CRIU's texts are long).
        used = sum(c.get_render_width(self) for c in self.ordered_columns[:-1])
        reason = self.ordered_columns[-1]
        width = max(
            _MIN_REASON, self.scrollable_content_region.width - used - 2 * self.cell_padding - 1
        )
        if reason.width != width:
            reason.width = width
            # Row heights were measured for the old width: lay the rows out again.
            added, self._added = self._added, []
            self.clear()
            for decision in added:
                self._add(decision)

    def reset(self) -> None:
        self.clear()
        self._added = []

    def show(self, view: RunView) -> None:
        for decision in view.decisions[len(self._added) :]:
            self._add(decision)

    def _add(self, d: ev.Decision) -> None:
        self._added.append(d)
        name = {
            "warning": "decision--warning",
            "error": "decision--error",
            "fatal": "decision--error",
        }
        style = (
            self.get_component_rich_style(name[d.severity], partial=True)
            if d.severity in name
            else Style()
        )
        self.add_row(
            Text(at(d.t_ns), justify="right"),
            Text(_SEVERITY_MARK[d.severity], style=style),
            Text(d.code, style=style),
            Text("" if d.timer_id is None else f"{d.timer_id:,}", justify="right"),
            Text(d.reason),
            height=None,
        )
        self.move_cursor(row=self.row_count - 1, animate=False)


class TimingPanel(Static):
    """Elapsed time, per-phase times, creates and deletes, rate and ETA; with a prediction of the
    same run beside each phase when one is given. Lines stay short enough for a race lane."""

    _lines = 0

    def show(self, view: RunView, prediction: RunView | None = None) -> None:
        start = view.start
        where = f"{start.backend} {start.kernel}".strip() if start else "…"
        lines = [
            f"mode      {view.mode or '…'} · {where}",
            f"elapsed   {look.duration(view.elapsed_ns)}",
            f"creates   {view.creates:,}",
            f"deletes   {view.deletes:,}",
        ]
        progress = view.progress
        if progress is not None and not view.finished:
            eta = look.duration(progress.eta_ns) if progress.eta_ns >= 0 else "unknown"
            lines.append(f"rate      {look.rate(progress.rate)} · ETA {eta}")
        for name, ns in view.phases.items():
            predicted = prediction.phases.get(name) if prediction else None
            guess = f" (sim {look.duration(predicted)})" if predicted is not None else ""
            lines.append(f"{name:<10}{look.duration(ns)}{guess}")
        if prediction is not None and prediction.done is not None:
            kernel = prediction.start.kernel if prediction.start else ""
            lines.append(f"sim {kernel}: {prediction.creates:,} creates")
        if view.done is not None:
            d = view.done
            lines.append(f"result    {view.outcome} {d.verified:,}/{d.verified + d.failed:,}")
        if view.error is not None:
            lines.append(f"error     {view.error.code}: {view.error.message}")
        # A layout pass only when the panel grows or shrinks, not for every new figure.
        self.update(Text("\n".join(lines)), layout=len(lines) != self._lines)
        self._lines = len(lines)


class VerifyTable(DataTable[Text]):
    """The end of a run: each timer equal, or the fields that differ."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | STATE_CLASSES

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def on_mount(self) -> None:
        self.add_column("ID", key="id")
        self.add_column("RESULT", key="result", width=12)
        self.add_column("FIELDS", key="fields")

    def show(self, view: RunView) -> None:
        self.clear()
        for check in view.checks:
            state = "verified" if check.equal else "differs"
            self.add_row(
                Text(f"{check.timer_id:,}", justify="right"),
                state_text(self, state),
                Text("all equal" if check.equal else diff_text(check)),
            )
