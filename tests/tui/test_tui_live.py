"""The app on this host's real processes: the demo workload's timers seen, read deep, saved and
restored — the issue's "done when", end to end (Pilot instead of a person in tmux)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scenes import MakeApp, RunApp, on_process, until
from textual.widgets import Input, Switch

from timertui import demo, snapshot_file
from timertui.capture import proc_timers
from timertui.choices import DEMO_IDS
from timertui.tui.process_sources import LiveSource
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.screens.snapshot_dialog import SnapshotDialog
from timertui.tui.widgets.timers_table import TimersTable

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def workload() -> Iterator[int]:
    proc: subprocess.Popen[bytes] = demo.spawn_workload(DEMO_IDS, zoo=True)
    try:
        yield demo.read_ready_pid(proc)
    finally:
        demo.stop_workload(proc)


async def test_demo_workload_shown_read_deep_saved_and_restored(
    needs_exact_ids: None,
    needs_ptrace: None,
    workload: int,
    tmp_path: Path,
    make_app: MakeApp,
    run_app: RunApp,
) -> None:
    pid = workload
    app = make_app(LiveSource(), focus_pid=pid)
    async with run_app(app) as pilot:
        table = await on_process(pilot, pid)
        row = [c.plain for c in table.get_row(str(pid))]
        assert row[5:] == ["12", "2,000,000", "4", "2,000,001"]
        kernel_ids = [t.id for t in proc_timers.read_timers(pid).timers]
        timers = app.screen.query_one(TimersTable)
        assert [
            int(timers.get_row_at(i)[0].plain.replace(",", "")) for i in range(timers.row_count)
        ] == kernel_ids

        # Deep values, live: the zoo's periods, counting down.
        await pilot.press("v")
        await until(
            pilot, lambda: "values: live" in str(app.screen.query_one("#timers-title").render())
        )
        await until(pilot, lambda: timers.get_row("0")[3].plain == "250.0 ms")
        first = timers.get_row("0")[2].plain
        await pilot.pause(0.3)
        assert timers.get_row("0")[2].plain != first  # counting down (or into its next period)
        assert timers.get_row("1")[3].plain == "500.0 ms"

        # Mark it, snapshot it with deep capture on.
        await pilot.press("space", "s")
        await until(pilot, lambda: isinstance(app.screen, SnapshotDialog))
        dialog = app.screen
        dialog.query_one("#snap-name", Input).value = "demo"
        dialog.query_one("#deep", Switch).value = True
        await pilot.press("enter")
        path = tmp_path / "demo.ttsnap"
        await until(pilot, path.exists)
        saved = snapshot_file.load(path)
        (proc,) = saved.processes
        assert proc.pid == pid and [t.id for t in proc.timers] == kernel_ids
        assert all(t.values is not None and t.values.interval_ns > 0 for t in proc.timers)

        # Restore it natively from the processes screen: live progress, then verified.
        await pilot.press("U", "r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        screen = app.screen
        await pilot.press("s")
        await until(pilot, lambda: screen.view.finished)
        view = screen.view
        assert view.done is not None and view.done.ok, view.error
        assert view.mode == "exact" and set(view.states.values()) == {"verified"}
