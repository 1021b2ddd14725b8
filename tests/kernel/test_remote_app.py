"""The app on another host (RemoteSource, `timertui --host`) against a throwaway sshd on
127.0.0.1: the header names the host, the demo workload is listed with its timers, a killed
sshd is a notification (the last listing stays, the app answers), and the app connects again
once sshd is back; `v` there reads the timers in view by the timertui there (a wrapper given as
--remote-timertui would give it), or says how to install one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from command_line import remote_timertui, timertui
from textual.pilot import Pilot
from textual.widgets import Input, Switch

from bench import loopback_sshd
from bench.loopback_sshd import LoopbackSshd
from timertui import snapshot_file
from timertui.demo import read_ready_pid, spawn_workload, stop_workload
from timertui.tui.app import TimerTuiApp
from timertui.tui.remote_source import connect
from timertui.tui.screens.snapshot_dialog import SnapshotDialog
from timertui.tui.widgets.host_bar import HostBar
from timertui.tui.widgets.process_table import ProcessTable
from timertui.tui.widgets.timers_table import TimersTable

pytestmark = [
    pytest.mark.usefixtures("needs_proc_timers"),
    pytest.mark.skipif(
        loopback_sshd.available() is not None, reason=str(loopback_sshd.available())
    ),
]


async def until(pilot: Pilot[None], done: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.02)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LoopbackSshd]:
    with loopback_sshd.running(tmp_path / "sshd") as running, running.ssh_here():
        yield running


async def test_app_on_a_remote_host_loses_and_regains_it(
    server: LoopbackSshd, tmp_path: Path
) -> None:
    workload = spawn_workload((0, 1000000), zoo=False)
    source = connect(server.host)
    source.retry_s = 0.3
    try:
        pid = read_ready_pid(workload)
        app = TimerTuiApp(source, snapshot_dir=tmp_path, focus_pid=pid, interval=0.2)
        source.attach(app)
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.screen.query_one(ProcessTable)
            await until(pilot, lambda: table.highlighted_pid == pid)
            assert [t.id for t in table.processes[pid].timers] == [0, 1000000]
            bar = app.screen.query_one(HostBar)
            await until(pilot, lambda: bar.host is not None)
            assert bar.host is not None and f"ssh {server.host}" in bar.host.hostname
            server.kill()
            await until(pilot, lambda: source.lost is not None, timeout=20)
            await until(
                pilot, lambda: any("connection lost" in n.message for n in app._notifications)
            )
            assert table.highlighted_pid == pid  # the last listing stays
            await pilot.press("a")  # the keys still answer
            server.restart()
            await until(pilot, lambda: source.lost is None, timeout=20)
            await until(
                pilot, lambda: any("connected again" in n.message for n in app._notifications)
            )
            await until(pilot, lambda: table.row_count > 10)  # `a`: every process, read afresh
    finally:
        source.close()
        stop_workload(workload)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--host", "bad host"], "bad host"),
        (["--host", f"root@127.0.0.1:{loopback_sshd.free_port()}"], "unreachable"),
        (["--host", "somewhere", "--demo"], "not with --snapshot or --demo"),
        (["--remote-timertui", "/bin/true"], "--remote-timertui goes with --host"),
    ],
)
def test_app_refuses_a_host_it_cannot_use_before_starting(args: list[str], words: str) -> None:
    result = timertui(*args, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


async def test_several_hosts_one_key_apart(server: LoopbackSshd, tmp_path: Path) -> None:
    """`--host` twice: the app starts on the first, `h` shows the second (its host bar says
    so), `h` again comes back to the first."""
    first = connect(server.host)
    second = connect(server.host.removeprefix("root@"))  # the same sshd, another connection
    try:
        app = TimerTuiApp(first, snapshot_dir=tmp_path, interval=0.2, hosts=(first, second))
        async with app.run_test(size=(160, 50)) as pilot:
            home = app.screen
            await until(pilot, lambda: home.query_one(HostBar).host is not None)
            assert app.check_action("next_host", ()) is True
            await pilot.press("h")
            await until(pilot, lambda: app.screen is not home)
            assert app.screen.source is second  # type: ignore[attr-defined]
            bar = app.screen.query_one(HostBar)
            await until(pilot, lambda: bar.host is not None)
            assert bar.host is not None and "ssh" in bar.host.hostname
            await pilot.press("h")
            await until(pilot, lambda: app.screen is home)
    finally:
        first.close()
        second.close()


def _deep_values_running() -> bool:
    """A `timertui deep-values` runs (the loopback host's processes are this machine's)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"deep-values" in (entry / "cmdline").read_bytes().split(b"\0"):
                    return True
            except OSError:
                continue  # it ended meanwhile
    return False


async def test_live_values_on_a_remote_host(server: LoopbackSshd, tmp_path: Path) -> None:
    """`v` on another host: the timertui there reads the rows in view over the kept
    connection, and they count down here; `v` off ends it there; without a timertui there, the
    title says how to install one and the connection stays up."""
    workload = spawn_workload((0, 1000000), zoo=False)
    with_timertui = connect(server.host, remote_timertui(tmp_path))
    without = connect(server.host)
    try:
        pid = read_ready_pid(workload)
        app = TimerTuiApp(
            with_timertui, snapshot_dir=tmp_path, focus_pid=pid, interval=0.2,
            hosts=(with_timertui, without),
        )  # fmt: skip
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.screen.query_one(ProcessTable)
            await until(pilot, lambda: table.highlighted_pid == pid)
            timers = app.screen.query_one(TimersTable)
            await pilot.press("v")
            await until(pilot, lambda: "values: live" in _title(app))
            await until(pilot, lambda: timers.get_row("0")[3].plain == "250.0 ms")
            assert timers.get_row("1000000")[3].plain == "500.0 ms"
            first = timers.get_row("0")[2].plain
            assert first not in ("-", "disarmed")
            await until(pilot, lambda: timers.get_row("0")[2].plain != first)  # counting down
            assert _deep_values_running()  # the timertui there that reads them, kept
            await pilot.press("v")  # off: it ends there, not when the connection closes
            await until(pilot, lambda: not _deep_values_running())
            assert with_timertui.lost is None
            await pilot.press("v")
            await until(pilot, lambda: timers.get_row("0")[3].plain == "250.0 ms")
            await pilot.press("s")  # a deep snapshot, saved here
            await until(pilot, lambda: isinstance(app.screen, SnapshotDialog))
            app.screen.query_one("#snap-name", Input).value = "there"
            app.screen.query_one("#deep", Switch).value = True
            await pilot.press("enter")
            await until(pilot, (tmp_path / "there.ttsnap").exists)
            saved = snapshot_file.load(tmp_path / "there.ttsnap")
            assert saved.source == f"ssh:{server.host}"
            assert [t.values.interval_ns for t in saved.processes[0].timers if t.values] == [
                250_000_000, 500_000_000,
            ]  # fmt: skip
            await pilot.press("h")  # the host without a timertui
            await until(pilot, lambda: app.screen.source is without)  # type: ignore[attr-defined]
            other = app.screen.query_one(ProcessTable)
            await until(pilot, lambda: pid in other.processes)
            other.select_pid(pid)
            await pilot.press("v")
            await until(pilot, lambda: "values refused" in _title(app))
            assert "no timertui on the remote PATH" in _title(app)
            assert without.lost is None
    finally:
        with_timertui.close()
        without.close()
        stop_workload(workload)


async def test_live_values_there_are_read_for_the_rows_in_view(
    server: LoopbackSshd, tmp_path: Path
) -> None:
    """10,000 timers there: `v` reads those on screen, and the last once scrolled to."""
    dense = 10000
    workload = spawn_workload(tuple(range(dense)), zoo=False)
    source = connect(server.host, remote_timertui(tmp_path))
    try:
        pid = read_ready_pid(workload)
        app = TimerTuiApp(source, snapshot_dir=tmp_path, focus_pid=pid, interval=1.0)
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.screen.query_one(ProcessTable)
            await until(pilot, lambda: table.highlighted_pid == pid)
            timers = app.screen.query_one(TimersTable)
            await until(pilot, lambda: timers.row_count == dense)
            await pilot.press("v")
            await until(pilot, lambda: "values: live" in _title(app))
            await until(pilot, lambda: timers.get_row("0")[2].plain not in ("-", ""))
            visible = timers.visible_ids()
            values = app.screen._values  # type: ignore[attr-defined]  # pid, read, refusal
            assert values is not None and values[1] is not None
            assert 0 < len(visible) < 100
            assert set(values[1].values) <= set(range(len(visible) * 3))
            last = str(dense - 1)
            assert timers.get_row(last)[2].plain == "-"
            timers.focus()
            await pilot.press("end")
            await until(pilot, lambda: timers.get_row(last)[2].plain != "-")
    finally:
        source.close()
        stop_workload(workload)


def _title(app: TimerTuiApp) -> str:
    return str(app.screen.query_one("#timers-title").render())
