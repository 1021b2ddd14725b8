"""The app at the scale where restores get interesting: a native restore of 10,000 timers on this
kernel, live values on a process holding 10,000, and polls of 5,000 processes. Each checks what
the screen shows and that the app still answers keys; speed itself is measured by `make bench`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from builders import host_process, snapshot_of
from scenes import MakeApp, RunApp, ScriptedSource, on_process, until
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from timertui import demo
from timertui.model import SIGEV_NONE, Access, ProcessTimers, Timer, TimerValues
from timertui.tui.process_sources import FrozenSource, LiveSource
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.widgets.process_table import ProcessTable
from timertui.tui.widgets.run_panels import RunTimersTable, VerifyTable
from timertui.tui.widgets.timers_table import TimersTable

DENSE = 10_000
MINUTE_NS = 60_000_000_000


def dense_process(pid: int, count: int) -> ProcessTimers:
    values = TimerValues(MINUTE_NS, 0, 0)
    timers = tuple(Timer(i, 1, SIGEV_NONE, pid, 0, i, values) for i in range(count))
    return host_process(pid, "root", "dense", "dense --timers", timers)


@pytest.mark.kernel
async def test_native_restore_of_10000_timers_from_the_app(
    needs_exact_ids: None, make_app: MakeApp, run_app: RunApp
) -> None:
    process = dense_process(4000, DENSE)
    source = FrozenSource(snapshot_of([process]), "dense.ttsnap")
    app = make_app(source, focus_pid=process.pid)
    async with run_app(app) as pilot:
        await on_process(pilot, 4000)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        assert "press s" in screen.query_one("#run-progress").label  # ready, not "starting"
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished, timeout=60)
        assert screen.view.ok, screen.view.error
        assert set(screen.view.states.values()) == {"verified"}
        # What is on screen: the rows in view say verified, the verification lists them all.
        timers = screen.query_one(RunTimersTable)
        assert timers.row_count == DENSE
        assert timers.get_row_at(0)[2].plain == "✓ verified"
        assert screen.query_one(VerifyTable).row_count == DENSE
        assert "verified" in screen.query_one("#run-progress").label
        # Keys still work at once: the last timer, then the decisions tab.
        await pilot.press("tab", "end")
        await pilot.press("1")
        assert screen.query_one(TabbedContent).active == "decisions"


@pytest.fixture(scope="module")
def dense_workload() -> Iterator[int]:
    proc: subprocess.Popen[bytes] = demo.spawn_workload(tuple(range(DENSE)), zoo=False)
    try:
        yield demo.read_ready_pid(proc)
    finally:
        demo.stop_workload(proc)


def _title(pilot: Pilot[None]) -> str:
    return str(pilot.app.screen.query_one("#timers-title").render())


@pytest.mark.kernel
async def test_live_values_on_10000_timers_read_for_the_rows_in_view(
    needs_proc_timers: None,
    needs_ptrace: None,
    dense_workload: int,
    make_app: MakeApp,
    run_app: RunApp,
) -> None:
    pid = dense_workload
    app = make_app(LiveSource(), focus_pid=pid)
    async with run_app(app) as pilot:
        await on_process(pilot, pid)
        timers = app.screen.query_one(TimersTable)
        await until(pilot, lambda: timers.row_count == DENSE)
        await pilot.press("v")
        await until(pilot, lambda: "values: live" in _title(pilot))
        await until(pilot, lambda: timers.get_row("0")[2].plain not in ("-", ""))
        visible = timers.visible_ids()
        assert 0 < len(visible) < 100
        values = app.screen._values  # (pid, LiveValues, refusal)
        assert values is not None and values[1] is not None
        # Only what is shown was read: the target is not stopped for 10,000 timers a second.
        assert set(values[1].values) <= set(range(len(visible) * 3))
        last = str(DENSE - 1)
        assert timers.get_row(last)[2].plain == "-"
        timers.focus()
        await pilot.press("end")
        await until(pilot, lambda: timers.get_row(last)[2].plain != "-")
        assert timers.get_row(last)[3].plain != "-"  # its interval, read live


def many_processes(count: int, generation: int) -> list[ProcessTimers]:
    """`count` processes, a few of which change (and one goes) from one generation to the next."""
    procs = []
    for n in range(count):
        pid = 10_000 + n
        if generation and n == 7:
            continue  # exited
        ids = range(n % 5 + (generation if n % 500 == 0 else 0))
        timers = tuple(Timer(i, 1, SIGEV_NONE, pid, 0, i) for i in ids)
        access = Access.NO_ACCESS if n % 97 == 0 else Access.OK
        procs.append(
            host_process(
                pid, f"u{n % 13}", f"worker{n}", f"worker{n} --n {n}", timers, access=access
            )
        )
    return procs


async def test_polls_of_5000_processes(make_app: MakeApp, run_app: RunApp) -> None:
    source = ScriptedSource([many_processes(5_000, g) for g in range(3)])
    app = make_app(source, interval=0.25)
    async with run_app(app) as pilot:
        table = app.screen.query_one(ProcessTable)
        await until(pilot, lambda: table.row_count > 0)
        # Gone: shown faded for one refresh, then removed.
        await until(pilot, lambda: "10007" in table.keys and table.get_row("10007")[0].plain == "✕")
        await until(pilot, lambda: "10007" not in table.keys)
        assert table.get_row("10500")[5].plain == "2"  # changed between polls: drawn anew
        await pilot.press("a")
        await until(pilot, lambda: table.row_count == 4_999)
        await pilot.press("end")
        assert table.highlighted_pid == 14_999
        await pilot.press("home")
        assert table.highlighted_pid == 10_000
        await pilot.press("slash", *"worker4999", "enter")
        await until(pilot, lambda: table.row_count == 1)
        assert table.highlighted_pid == 14_999 and table.cursor_row == 0
