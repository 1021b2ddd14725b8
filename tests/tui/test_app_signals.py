"""Every way out of the real app: `timertui --demo` in a pseudo-terminal, ended by SIGTERM, SIGHUP,
SIGINT or SIGQUIT. Each must end it promptly through its normal exit: the terminal restored (the
alternate screen left, the cursor shown) and nothing it started left running."""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from timertui.tui import launch as app_command

ROOT = Path(__file__).resolve().parents[2]
ALT_SCREEN_ON, ALT_SCREEN_OFF, CURSOR_SHOWN = b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[?25h"
DRAWN = b"Quit"  # the footer's `q` hint: the first screen is on the terminal
ROWS, COLS = 30, 120


@dataclass
class AppInPty:
    proc: subprocess.Popen[bytes]
    master: int
    output: bytearray

    def read_until(self, needle: bytes, timeout: float) -> bool:
        """Read the terminal until `needle` appears (True) or the app's output ends (False)."""
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            if not self._read(deadline - time.monotonic()):
                return False
        return True

    def wait_exit(self, timeout: float) -> int | None:
        """Drain the terminal (a full one would block the app's last writes) until it exits."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(min(0.1, deadline - time.monotonic()))
        while self._read(0.1):  # what it wrote just before exiting
            pass
        return self.proc.poll()

    def _read(self, timeout: float) -> bool:
        if timeout <= 0 or not select.select([self.master], [], [], timeout)[0]:
            return self.proc.poll() is None
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every holder of the terminal's other side has closed it
            return False
        self.output += data
        return bool(data)


def assert_terminal_restored(out: bytes) -> None:
    """The alternate screen was entered, then left last, with the cursor shown after."""
    left = out.rfind(ALT_SCREEN_OFF)
    assert left > out.rfind(ALT_SCREEN_ON) >= 0, out[-500:]
    assert CURSOR_SHOWN in out[left:], out[-500:]
    assert b"Traceback" not in out


# In its new session the app takes the pty as its controlling terminal, as it has a terminal
# window's (closing the other side then hangs it up: SIGHUP), then becomes `timertui`.
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'timertui', *sys.argv[1:]])"
)


@pytest.fixture
def app_in_pty(request: pytest.FixtureRequest) -> Iterator[AppInPty]:
    """`timertui --demo` (or the arguments given as the fixture's param) in a pty."""
    argv = getattr(request, "param", ["--demo"])
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _TAKE_TERMINAL, *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,  # its own session: a signal to it reaches nothing of ours
    )
    os.close(slave)
    running = AppInPty(proc, master, bytearray())
    try:
        yield running
    finally:
        if proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
        proc.wait()
        os.close(master)


@pytest.mark.kernel
@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT])
def test_a_signal_ends_the_app_cleanly(
    signo: signal.Signals, app_in_pty: AppInPty, needs_proc_timers: None
) -> None:
    app = app_in_pty
    assert app.read_until(DRAWN, timeout=60), bytes(app.output[-2000:])
    descendants = psutil.Process(app.proc.pid).children(recursive=True)
    workloads = [p for p in descendants if "demo-workload" in p.cmdline()]
    assert len(workloads) == 1, descendants

    started = time.monotonic()
    app.proc.send_signal(signo)
    status = app.wait_exit(timeout=10)
    took = time.monotonic() - started

    assert status == 128 + signo, bytes(app.output[-2000:])
    assert took < 5, took
    for proc in descendants:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE, proc
    assert_terminal_restored(bytes(app.output))


@pytest.mark.kernel
def test_the_demo_workload_dies_with_a_killed_app(
    app_in_pty: AppInPty, needs_proc_timers: None
) -> None:
    """SIGKILL runs none of the app's code: the workload's PR_SET_PDEATHSIG ends it."""
    app = app_in_pty
    assert app.read_until(DRAWN, timeout=60), bytes(app.output[-2000:])
    (workload,) = [
        p for p in psutil.Process(app.proc.pid).children() if "demo-workload" in p.cmdline()
    ]
    app.proc.kill()
    app.wait_exit(timeout=10)
    workload.wait(timeout=5)  # reaped by init once re-parented: gone either way
    assert not workload.is_running()


@pytest.mark.kernel
def test_a_signal_during_start_up_leaves_nothing(
    app_in_pty: AppInPty, needs_proc_timers: None
) -> None:
    """Before the app's loop runs (here: as soon as the workload exists) a signal unwinds the
    start-up, through the same finally that reaps the workload."""
    app = app_in_pty
    descendants: list[psutil.Process] = []
    deadline = time.monotonic() + 30
    while not descendants and time.monotonic() < deadline:  # the workload is starting
        descendants = psutil.Process(app.proc.pid).children(recursive=True)
    assert descendants
    app.proc.send_signal(signal.SIGTERM)
    assert app.wait_exit(timeout=10) == 128 + signal.SIGTERM, bytes(app.output[-2000:])
    for proc in descendants:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE, proc
    out = bytes(app.output)
    assert out.rfind(ALT_SCREEN_OFF) >= out.rfind(ALT_SCREEN_ON), out[-500:]
    assert b"Traceback" not in out


class _App:
    def __init__(self) -> None:
        self.exits: list[int] = []

    def exit(self, _result: object, return_code: int) -> None:
        self.exits.append(return_code)


def test_a_second_signal_forces_the_way_out() -> None:
    """The first signal asks the app's loop to exit; if the loop is too busy to answer, the
    next one unwinds by force (SystemExit), and our own handlers come back afterwards."""
    ours = signal.getsignal(signal.SIGTERM)

    async def session() -> None:
        with app_command._ExitOnSignal() as on_signal:
            app = on_signal.app = _App()
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(0.05)  # the handler ran and scheduled app.exit; the loop ran it
            assert app.exits == [128 + signal.SIGTERM]
            with pytest.raises(SystemExit) as forced:
                os.kill(os.getpid(), signal.SIGHUP)
                time.sleep(1)  # a busy loop: the handler still runs, between bytecodes
            assert forced.value.code == 128 + signal.SIGHUP

    asyncio.run(session())
    assert signal.getsignal(signal.SIGTERM) is ours


def test_a_signal_before_any_app_exits_at_once() -> None:
    with app_command._ExitOnSignal(), pytest.raises(SystemExit) as raised:
        os.kill(os.getpid(), signal.SIGQUIT)
        time.sleep(1)
    assert raised.value.code == 128 + signal.SIGQUIT


@pytest.mark.kernel  # the live app: /proc of every process, the kernel's features probed
@pytest.mark.parametrize("app_in_pty", [[]], indirect=True)
def test_sigterm_ends_the_live_app_without_demo(app_in_pty: AppInPty) -> None:
    app = app_in_pty
    assert app.read_until(DRAWN, timeout=60), bytes(app.output[-2000:])
    app.proc.send_signal(signal.SIGTERM)
    assert app.wait_exit(timeout=10) == 128 + signal.SIGTERM, bytes(app.output[-2000:])
    assert_terminal_restored(bytes(app.output))


@pytest.mark.kernel
def test_a_closed_terminal_ends_the_app(app_in_pty: AppInPty, needs_proc_timers: None) -> None:
    # The terminal window closed (ssh dropped, tmux killed): the kernel hangs up the session and
    # nothing reads the app's output any more. It must still end, and its children with it.
    app = app_in_pty
    assert app.read_until(DRAWN, timeout=60), bytes(app.output[-2000:])
    descendants = psutil.Process(app.proc.pid).children(recursive=True)
    os.close(app.master)
    app.master = os.open(os.devnull, os.O_RDONLY)  # for the fixture's close
    try:
        app.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("the app outlived its terminal")
    for proc in descendants:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE, proc
