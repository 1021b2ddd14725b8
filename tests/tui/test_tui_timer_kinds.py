"""The timers pane on the CRIU fixture's images: the POSIX timer, then the two timerfds (the
pending-tick one flagged) and the three interval timers; the gap map keeps the POSIX ID."""

from __future__ import annotations

from pathlib import Path

from scenes import MakeApp, RunApp, until

from timertui.criu import import_criu
from timertui.tui.process_sources import FrozenSource
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.widgets.timers_table import TimersTable


async def test_the_timers_pane_shows_every_kind(
    timerfd_itimer_dir: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    source = FrozenSource(import_criu(timerfd_itimer_dir / "images"), "criu-timerfd-itimer")
    app = make_app(source, focus_pid=2216)
    async with run_app(app) as pilot:
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        table = screen.query_one(TimersTable)
        await until(pilot, lambda: len(list(table.visible_keys())) == 6)
        keys = list(table.visible_keys())
        assert keys == ["0", "fd:3", "fd:4", "it:0", "it:1", "it:2"]
        assert table.visible_ids() == (0,)
        fd3 = [str(cell) for cell in table.row_cells("fd:3")]
        assert fd3[0] == "fd 3" and any("CRIU #3162" in c for c in fd3)
        assert fd3[2] == "unread"  # it fired and waits for a read: not "disarmed"
        assert str(table.row_cells("it:2")[0]) == "ITIMER_PROF"
