"""Messages the thread workers post to the screens (workers never touch widgets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from timertui.model import HostFacts, ProcessTimers
from timertui.restore.events import Error, Event, Progress
from timertui.tui.widgets.timers_table import LiveValues
from timertui.verify.findings import Report

if TYPE_CHECKING:
    from timertui.tui.restorer import RunStream


class HostRead(Message):
    def __init__(self, host: HostFacts) -> None:
        super().__init__()
        self.host = host


class ScanDone(Message):
    """One poll of the process source; `elapsed_ns` is how long the scan took, `generation`
    which poll it answers (a later toggle or pause makes it stale)."""

    def __init__(self, processes: list[ProcessTimers], elapsed_ns: int, generation: int) -> None:
        super().__init__()
        self.processes = processes
        self.elapsed_ns = elapsed_ns
        self.generation = generation


class ValuesRead(Message):
    """A deep capture of one process's timers: the values, or `refused` with the reason."""

    def __init__(self, pid: int, live: LiveValues | None, refused: str | None) -> None:
        super().__init__()
        self.pid = pid
        self.live = live
        self.refused = refused


class RestoreEvent(Message):
    """One event of a restore run; `run` tells the runs of a race apart. Progress of the same run
    replaces a pending one, so a fast walk never floods the queue."""

    def __init__(self, run: str, event: Event) -> None:
        super().__init__()
        self.run = run
        self.event = event

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, RestoreEvent)
            and message.run == self.run
            and isinstance(message.event, Progress)
            and isinstance(self.event, Progress)
        )


def pump(node: MessagePump, run: str, stream: RunStream) -> None:
    """Post every event of `stream` to `node`; runs in a thread worker. When the worker is
    cancelled the stream is closed (which stops the restore), and if the backend did not say so
    itself the run ends with an Error `cancelled`."""
    worker = get_current_worker()
    last: Event | None = None
    try:
        for last in stream:
            node.post_message(RestoreEvent(run, last))
            if worker.is_cancelled:
                break
    finally:
        stream.close()
    if worker.is_cancelled and not isinstance(last, Error):
        cancelled(node, run, last.t_ns if last is not None else 0)


def cancelled(node: MessagePump, run: str, t_ns: int = 0) -> None:
    """Tell `node` that run `run` ended, cancelled (the backend did not say so itself)."""
    node.post_message(RestoreEvent(run, Error(t_ns, "cancelled", "restore cancelled")))


class Verified(Message):
    """A Report of the verify screen's run `generation`, or why it could not start (`refused`).
    A Report of the watch replaces a pending one of the same run: only the latest shows."""

    def __init__(self, generation: int, report: Report | None, refused: str = "") -> None:
        super().__init__()
        self.generation = generation
        self.report = report
        self.refused = refused

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, Verified)
            and message.generation == self.generation
            and message.report is not None
            and not message.report.done
        )
