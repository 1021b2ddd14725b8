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
        yield Static(classes="progress-label", markup=False)
        yield ProgressBar(total=1.0, show_eta=False).data_bind(progress=RunProgress.fraction)

    def watch_label(self, label: str) -> None:
        self.query_one(".progress-label", Static).update(label)

    def show(self, view: RunView) -> None:
        self.fraction = view.fraction
        top = view.ids[-1] if view.ids else 0
        self.label = (
            f"{view.outcome} · {view.mode or '…'} · ID {max(view.reached, 0):,} of {top:,} · "
            f"{view.creates:,} creates · {look.duration(view.elapsed_ns)}"
        )


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
        self._shown = 0

    def on_mount(self) -> None:
        self.add_column("TIME", key="time")
        self.add_column("", key="severity")
        self.add_column("CODE", key="code")
        self.add_column("TIMER", key="timer")
        self.add_column("REASON", key="reason")

    def reset(self) -> None:
        self.clear()
        self._shown = 0

    def show(self, view: RunView) -> None:
        for decision in view.decisions[self._shown :]:
            self.add(decision)
        self._shown = len(view.decisions)

    def add(self, d: ev.Decision) -> None:
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
        )
        self.move_cursor(row=self.row_count - 1, animate=False)


class TimingPanel(Static):
    """Elapsed time, per-phase times, creates and deletes, rate and ETA; with a prediction of the
    same run beside it when one is given."""

    def show(self, view: RunView, prediction: RunView | None = None) -> None:
        lines = [
            f"mode      {view.mode or '…'}   backend {view.start.backend if view.start else '…'}"
            + (f" ({view.start.kernel})" if view.start and view.start.kernel else ""),
            f"elapsed   {look.duration(view.elapsed_ns)}",
            f"creates   {view.creates:,}   deletes {view.deletes:,}"
            + (f"   syscalls {view.done.syscalls:,}" if view.done else ""),
        ]
        progress = view.progress
        if progress is not None and not view.finished:
            eta = look.duration(progress.eta_ns) if progress.eta_ns >= 0 else "unknown"
            lines.append(f"rate      {look.rate(progress.rate)}   ETA {eta}")
        if view.phases:
            lines.append("phases")
            for name, ns in view.phases.items():
                predicted = prediction.phases.get(name) if prediction else None
                guess = f"   predicted {look.duration(predicted)}" if predicted is not None else ""
                lines.append(f"  {name:<9}{look.duration(ns):>10}{guess}")
        if prediction is not None and prediction.done is not None:
            lines.append(
                f"simulator {prediction.start.kernel if prediction.start else ''}: "
                f"{prediction.creates:,} creates, {look.duration(prediction.done.wall_ns)}"
            )
        if view.done is not None:
            d = view.done
            lines.append(
                f"result    {view.outcome} · {d.verified:,} verified · {d.failed:,} failed · "
                f"wall {look.duration(d.wall_ns)}"
            )
        if view.error is not None:
            lines.append(f"error     {view.error.code}: {view.error.message}")
        self.update(Text("\n".join(lines)))


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
