"""The app on another host (`timertui --host [USER@]HOST[:PORT]`): a process source read over
one kept ssh connection (timertui.remote).

The header names the host (the host facts line: its hostname, then `ssh USER@HOST:PORT`). A lost
connection never stops the app nor hangs a poll: every request has a deadline, the poll gets the
last listing back while the connection is down, the app is told once (a notification), and each
poll after `retry_s` tries to connect again, saying so when it did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from timertui.capture.processes import NoSuchProcess
from timertui.model import HostFacts, ProcessTimers, Snapshot
from timertui.remote.reading import RemoteHost
from timertui.remote.ssh import AgentRefused, RemoteError
from timertui.tui.process_sources import Captured, attach_deep, unreadable_notes

if TYPE_CHECKING:
    from timertui.capture.inject import DeepCapture

# The app's deadlines: a poll waits this long at most for a reply, a reconnect for the agent.
REPLY_TIMEOUT_S = 10.0
START_TIMEOUT_S = 10.0
RETRY_S = 3.0


def connect(host: str, timertui: str | None = None) -> RemoteSource:
    """The source for `host`, connected: a bad host string or a host that cannot be used is
    one line (RemoteError, exit 2) before the app starts. Deep capture there runs `timertui`
    (default: the one on the remote PATH)."""
    remote = RemoteHost(
        host, timertui=timertui, reply_timeout=REPLY_TIMEOUT_S, start_timeout=START_TIMEOUT_S
    )
    remote.connection.open()
    return RemoteSource(remote)


class RemoteSource:
    """Another host's processes, polled over one connection."""

    live = True

    def __init__(self, remote: RemoteHost, retry_s: float = RETRY_S) -> None:
        self.remote = remote
        self.label = f"ssh {remote.label}"
        self.retry_s = retry_s
        self.notify: Callable[[str, str], None] = lambda _text, _severity: None
        self.lost: str | None = None  # why, while the connection is down
        self._retry_at = 0.0
        self._host: HostFacts | None = None
        self._last: list[ProcessTimers] = []
        self._lock = threading.Lock()

    def attach(self, app: Any) -> None:
        """Tell `app` (a Textual App) when the connection goes and comes back."""

        def notify(text: str, severity: str) -> None:
            with contextlib.suppress(RuntimeError):  # the app is not running (any more)
                app.call_from_thread(app.notify, text, severity=severity, markup=False)

        self.notify = notify

    def close(self) -> None:
        self.remote.connection.close()

    def host(self) -> HostFacts:
        if self._host is None:
            facts, _ = self._request(self.remote.host_facts)
            self._host = dataclasses.replace(
                facts, hostname=f"{facts.hostname} · ssh {self.remote.label}"
            )
        return self._host

    def scan(self, include_all: bool) -> list[ProcessTimers]:
        with self._lock:
            if self.lost is not None and time.monotonic() < self._retry_at:
                return self._last
            try:
                if self.lost is not None:
                    self.remote.connection.open()
                procs = self.remote.scan(include_all, include_unreadable=True)
            except RemoteError as exc:
                self._went(exc)
                return self._last
            if self.lost is not None:
                self.lost = None
                self.notify(f"{self.remote.label}: connected again", "information")
            self._last = procs
            return procs

    def capture(self, pids: Sequence[int], deep: bool = False) -> Captured:
        with self._lock:
            kept: list[ProcessTimers] = []
            notes: list[str] = []
            for pid in pids:
                try:
                    kept.append(self._request(functools.partial(self.remote.read_process, pid)))
                except NoSuchProcess:
                    notes.append(f"pid {pid}: gone before the snapshot")
            if deep:
                try:
                    notes += self._request(
                        functools.partial(attach_deep, kept, self.remote.capture_values)
                    )
                except AgentRefused as exc:  # no timertui there: saved without values
                    notes.append(f"no deep values: {exc}")
            host, times = self._request(self.remote.host_facts)
        snap = Snapshot(host=host, times=times, processes=tuple(kept), source=self.remote.source)
        return Captured(snap, tuple(sorted([*notes, *unreadable_notes(kept)])))

    def capture_values(self, pid: int, ids: Sequence[int]) -> DeepCapture:
        """By the timertui there, over the kept connection."""
        with self._lock:
            capture: DeepCapture = self._request(
                functools.partial(self.remote.capture_values, pid, ids)
            )
        return capture

    def values_off(self) -> None:
        """End the timertui there that reads values; with the connection lost there is none
        (the agent's end ended it), and an older agent that does not know the request keeps
        it until the connection closes."""
        with self._lock:
            if self.lost is not None:
                return
            try:
                self.remote.end_values()
            except AgentRefused:
                pass
            except RemoteError as exc:
                self._went(exc)

    def _request(self, call: Callable[[], Any]) -> Any:
        """`call` on the connection, connecting again first if it was lost."""
        if self.lost is not None:
            self.remote.connection.open()
            self.lost = None
        try:
            return call()
        except AgentRefused:
            raise  # an answer (no timertui there, say): the connection is fine
        except RemoteError as exc:
            self._went(exc)
            raise

    def _went(self, exc: RemoteError) -> None:
        if self.lost is None:
            self.notify(
                f"{exc} · showing the last listing; connecting again every {self.retry_s:g} s",
                "error",
            )
        self.lost = str(exc)
        self._retry_at = time.monotonic() + self.retry_s
