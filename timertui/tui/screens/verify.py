"""The verify screen: one process of an opened checkpoint (snapshot, CRIU images, archive)
against a live process, the same pid by default or one the user gives (p). Each timer's finding
is a row, updated as the engine's liveness watch goes on (timertui.verify, drained by a thread
worker that posts each Report); a summary line counts them, the detail under the table says
everything about the timer under the cursor."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from timertui.errors import InputError
from timertui.model import ProcessTimers, Snapshot
from timertui.tui.messages import Verified
from timertui.tui.screens.base import AppScreen, failure_text
from timertui.tui.screens.input_dialog import InputDialog
from timertui.tui.verifier import Verifier
from timertui.tui.widgets.findings_table import FindingsTable
from timertui.tui.widgets.keys_footer import KeysFooter
from timertui.verify.findings import Finding, Report
from timertui.words import counted


class VerifyScreen(AppScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the checkpoint", id="verify.back"),
        Binding(
            "p",
            "choose_pid",
            "Live pid",
            tooltip="Verify against another live process",
            id="verify.live-pid",
        ),
        Binding(
            "g",
            "again",
            "Again",
            tooltip="Compare and watch again (a stalled timerfd: once the process read it)",
            id="verify.again",
        ),
    ]

    done: var[bool] = var(False, bindings=True)

    def __init__(
        self, snapshot: Snapshot, process: ProcessTimers, origin: str, verifier: Verifier
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.process = process
        self.origin = origin
        self.verifier = verifier
        self.live_pid = process.pid
        self._generation = 0
        self.report: Report | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="verify-head", markup=False)
        yield Static("verifying…", id="verify-summary", markup=False)
        yield FindingsTable(id="findings")
        yield Static(id="verify-detail", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(FindingsTable).focus()
        self._start()

    def _start(self) -> None:
        self._generation += 1
        self.done = False
        self.report = None
        self.query_one("#verify-head", Static).update(
            f"{self.origin} against live pid {self.live_pid}"
        )
        self.query_one("#verify-summary", Static).update("verifying…")
        self._verify(self._generation, self.live_pid)

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False, name="verify")
    def _verify(self, generation: int, live_pid: int) -> None:
        worker = get_current_worker()
        # The watch waits on the cancel event: a new run or leaving the screen ends it at once.
        reports = self.verifier(self.snapshot, self.process, live_pid, worker.cancelled_event.wait)
        try:
            for report in reports:
                if worker.is_cancelled:
                    return
                self.post_message(Verified(generation, report))
        except InputError as exc:
            self.post_message(Verified(generation, None, str(exc)))
        finally:
            reports.close()

    def on_verified(self, message: Verified) -> None:
        if message.generation != self._generation:
            return  # a run replaced by `p` or `g`
        summary = self.query_one("#verify-summary", Static)
        if message.report is None:
            self.done = True
            summary.update(f"cannot verify: {message.refused}")
            return
        self.report = message.report
        self.done = message.report.done
        self.query_one(FindingsTable).show(message.report.findings)
        summary.update(summary_text(message.report))
        self._show_detail()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)  # the notification
        if event.state is WorkerState.ERROR and event.worker.group == "verify":
            self.done = True
            summary = f"cannot verify: {failure_text(event.worker.error)}"
            self.query_one("#verify-summary", Static).update(summary)

    @on(FindingsTable.Highlighted)
    def _show_detail(self) -> None:
        finding = self.query_one(FindingsTable).highlighted
        self.query_one("#verify-detail", Static).update(
            "" if finding is None else detail_text(finding)
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "again":
            return self.done
        return True

    def action_back(self) -> None:
        self.workers.cancel_group(self, "verify")
        self.app.pop_screen()

    def action_again(self) -> None:
        self._start()

    def action_choose_pid(self) -> None:
        def chosen(pid: int | None) -> None:
            if pid is not None:
                self.live_pid = pid
                self._start()

        self.app.push_screen(PidDialog(self.live_pid), chosen)


class PidDialog(InputDialog[int]):
    """The live process to verify against."""

    def __init__(self, pid: int) -> None:
        super().__init__(
            "Verify against live pid", str(pid), "the process the checkpoint was restored as"
        )

    def attempt(self, value: str) -> int:
        if not value.isdigit() or int(value) <= 0:
            raise InputError(f"not a pid: {value}")
        return int(value)


def summary_text(report: Report) -> str:
    """'verifying · 3 timers: 2 equal, 1 differ, 1 dead · watching 0.3 of 0.6 s', the verdict
    (OK, FAILED) once done; a process's problems after it. Equal counts the expired too."""
    total = len(report.findings)
    differ = sum(p.differing for p in report.processes)
    counts = f"{counted(total, 'timer')}: {total - differ} equal, {differ} differ"
    counts += f", {sum(p.dead for p in report.processes)} dead"
    if not report.watch_ns:
        watch = "not watched"
    elif report.done:
        watch = f"watched {report.watched_ns / 1e9:.1f} s"
    else:
        watch = f"watching {report.watched_ns / 1e9:.1f} of {report.watch_ns / 1e9:.1f} s"
    verdict = ("OK" if report.ok else "FAILED") if report.done else "verifying"
    problems = [p for v in report.processes for p in v.problems]
    return " · ".join([verdict, counts, watch, *problems])


def detail_text(f: Finding) -> str:
    """Everything about one finding: its words, each field that differs, the CRIU issue."""
    head = f"{f.label}: {f.status.value}" + (f", {f.liveness.value}" if f.liveness.value else "")
    lines = [head + (f" (criu {f.criu_issue})" if f.criu_issue else "")]
    lines += [f"  {d.text()}" for d in f.diffs]
    lines += [f"  {note}" for note in f.notes.split("; ") if note]
    return "\n".join(lines)
