"""The verify screen on the real kernel, with the engine: a process against its own fresh deep
snapshot is clean; a process holding its timerfd as CRIU's restorer brings it back (criu #3162,
tests/kernel/verify_target.c) is dead once its tick is read, chosen with p as the live pid."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import c_programs
import pytest
from command_line import timertui
from criu_runs import FD, wait_for
from scenes import MakeApp, RunApp, until
from textual.pilot import Pilot
from textual.widgets import Static

from timertui.criu import import_criu
from timertui.sources import open_source
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import FrozenSource
from timertui.tui.screens.verify import PidDialog, VerifyScreen
from timertui.tui.widgets.findings_table import FindingsTable
from timertui.tui.widgets.process_table import ProcessTable

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("needs_proc_timers", "needs_ptrace")]


@pytest.fixture(scope="module")
def target_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return c_programs.build("verify_target", tmp_path_factory.mktemp("verify"))


Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start(target_bin: Path) -> Iterator[Start]:
    """start(*args): the target running with `args`, once it said it is ready; every one
    started is killed at the end."""
    procs: list[subprocess.Popen[str]] = []

    def run(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(target_bin), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        return proc

    yield run
    for proc in procs:
        proc.kill()
        proc.wait()


def checkpoint_app(make_app: MakeApp, pid: int, path: Path) -> TimerTuiApp:
    """The app on a deep snapshot of `pid`, its cursor on that process."""
    made = timertui("snapshot", str(pid), "--deep", "-o", str(path))
    assert made.returncode == 0, made.stderr
    return make_app(FrozenSource(open_source(str(path)), path.name), focus_pid=pid)


async def open_verify(pilot: Pilot[None], pid: int) -> VerifyScreen:
    """V on process `pid` of the checkpoint (shown with a: it may hold timerfds only)."""
    app = pilot.app
    await pilot.press("a")
    await until(pilot, lambda: app.screen.query_one(ProcessTable).highlighted_pid == pid)
    await pilot.press("V")
    await until(pilot, lambda: isinstance(app.screen, VerifyScreen))
    screen = app.screen
    assert isinstance(screen, VerifyScreen)
    return screen


def summary(screen: VerifyScreen) -> str:
    return str(screen.query_one("#verify-summary", Static).render())


async def test_a_process_against_its_own_deep_snapshot_is_clean(
    make_app: MakeApp, run_app: RunApp, start: Start, tmp_path: Path
) -> None:
    proc = start("all")
    app = checkpoint_app(make_app, proc.pid, tmp_path / "self.ttsnap")
    async with run_app(app) as pilot:
        screen = await open_verify(pilot, proc.pid)
        await until(pilot, lambda: screen.done)
        assert summary(screen).startswith("OK · 4 timers: 4 equal, 0 differ, 0 dead"), summary(
            screen
        )
        table = screen.query_one(FindingsTable)
        assert set(table.findings) == {"posix:0", "timerfd:17", "timerfd:18", "itimer:0"}


async def test_a_timerfd_restored_as_criu_does_is_dead_once_read(
    make_app: MakeApp, run_app: RunApp, start: Start, tmp_path: Path
) -> None:
    original = start("timerfd")
    time.sleep(0.15)  # past fd 17's first expiry: ticks 1, it_value 0 in the checkpoint
    app = checkpoint_app(make_app, original.pid, tmp_path / "stalled.ttsnap")
    restored = start("criu", "17", "100000000", "1")
    assert restored.stdin is not None and restored.stdout is not None
    restored.stdin.write("go\n")
    restored.stdin.flush()
    assert restored.stdout.readline() == "read 1\n"  # its restored tick; then it blocks
    async with run_app(app) as pilot:
        screen = await open_verify(pilot, original.pid)
        await until(pilot, lambda: screen.done)
        assert summary(screen).startswith("OK"), summary(screen)  # the original: stalled
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PidDialog))
        await pilot.press("ctrl+a", "ctrl+k", *str(restored.pid), "enter")
        await until(pilot, lambda: app.screen is screen)
        await until(pilot, lambda: screen.done and f"pid {restored.pid}" in head(screen))
        assert summary(screen).startswith("FAILED · 1 timer: 1 equal, 0 differ, 1 dead")
        fd = screen.query_one(FindingsTable).findings["timerfd:17"]
        assert (fd.liveness.value, fd.criu_issue) == ("dead", "#3162")


def head(screen: VerifyScreen) -> str:
    return str(screen.query_one("#verify-head", Static).render())


async def test_the_app_on_real_criu_images_shows_the_timerfd_dead_once_read(
    criu_restored: tuple[int, Path, Path], make_app: MakeApp, run_app: RunApp
) -> None:
    """Issue #17's case with a real CRIU 4.2 (tests/criu_runs.py): the image directory opened
    in the app, V on its process against the same pid, restored in place: fd 3 stalled (OK)
    while its tick waits; once the process read it, FAILED and fd 3 dead, criu #3162, the
    process blocked reading it."""
    pid, images, out = criu_restored
    app = make_app(FrozenSource(import_criu(images), images.name), focus_pid=pid)
    async with run_app(app) as pilot:
        screen = await open_verify(pilot, pid)
        await until(pilot, lambda: screen.done)
        assert summary(screen).startswith("OK"), summary(screen)
        fd = screen.query_one(FindingsTable).findings[f"timerfd:{FD}"]
        assert fd.liveness.value == "stalled"
        os.kill(pid, signal.SIGUSR1)
        wait_for("the restored tick's read", lambda: out.read_text() == "ready\nread 1\n")
        await pilot.press("g")  # again
        await until(pilot, lambda: not screen.done)
        await until(pilot, lambda: screen.done)
        assert summary(screen).startswith("FAILED · 1 timer: 1 equal, 0 differ, 1 dead")
        fd = screen.query_one(FindingsTable).findings[f"timerfd:{FD}"]
        assert (fd.liveness.value, fd.criu_issue) == ("dead", "#3162")
        detail = str(screen.query_one("#verify-detail", Static).render())
        assert "blocked reading it" in detail
