"""The processes screen's header: the host's facts, where the data comes from, the refresh rate,
and a PAUSED banner that cannot be missed."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var
from textual.widgets import Static

from timertui.model import HostFacts
from timertui.tui import formats
from timertui.words import counted

if TYPE_CHECKING:
    from timertui.tui.app import TimerTuiApp


def _limit(value: int) -> str:
    return "unlimited" if value < 0 or value >= 2**63 - 1 else f"{value:,}"


def host_text(host: HostFacts) -> str:
    if not (host.hostname or host.kernel_release):
        # A CRIU image records only the architecture: say so rather than show blanks and zeros.
        machine = host.machine or "machine unknown"
        return f"{machine} · no host facts recorded (kernel, exact IDs, RLIMIT_SIGPENDING unknown)"
    exact = {True: "yes", False: "no (walk)", None: "not probed"}[host.exact_ids]
    return (
        f"{host.hostname} · Linux {host.kernel_release} {host.machine} · exact IDs: {exact} · "
        f"RLIMIT_SIGPENDING {_limit(host.sigpending_soft)}/{_limit(host.sigpending_hard)}"
    )


class HostBar(Vertical):
    """Shows its screen's state: the processes screen binds these to its own (data_bind)."""

    host: var[HostFacts | None] = var(None)
    paused: var[bool] = var(False, toggle_class="-paused")  # the banner shows
    interval: var[float] = var(1.0)
    scan_ns: var[int | None] = var(None)
    shown: var[int] = var(0)

    def __init__(self, source_label: str, live: bool, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source_label = source_label
        self.live = live

    def compose(self) -> ComposeResult:
        yield Static("reading host facts…", id="host-facts", markup=False)
        yield Static(id="host-source", markup=False)
        yield Static("⏸ PAUSED — the table is frozen; press p to resume", id="paused-banner")

    def watch_host(self, host: HostFacts | None) -> None:
        if host is not None:
            self.query_one("#host-facts", Static).update(host_text(host))

    def watch_paused(self) -> None:
        self._source_line()

    def watch_interval(self) -> None:
        self._source_line()

    def watch_scan_ns(self) -> None:
        self._source_line()

    def watch_shown(self) -> None:
        self._source_line()

    def _source_line(self) -> None:
        scan = f" · last scan {formats.duration(self.scan_ns)}" if self.scan_ns is not None else ""
        if self.live:
            state = "paused" if self.paused else f"refresh every {self.interval:g} s"
            text = f"live · {state}{scan} · {counted(self.shown, 'process')}"
        else:
            text = f"snapshot {self.source_label} (offline) · {counted(self.shown, 'process')}"
            if cast("TimerTuiApp", self.app).source.live:
                text += " · esc: back to live"
        # One line (height 1 in the stylesheet): a new figure after every scan needs no layout.
        self.query_one("#host-source", Static).update(text, layout=False)
