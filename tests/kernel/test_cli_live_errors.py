"""Bad input naming live processes, and processes that exit while a command reads them: exit
status 2 and one line on stderr naming the problem, nothing written. (The same for files and
missing PIDs: tests/unit/test_cli_errors.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from command_line import NO_PID, bad_input_files, not_refused_in_one_line

from timertui import cli
from timertui.capture import inject, proc_timers, processes


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The bad files, a live process (a sleep) and a thread of ours to name by PID."""
    sleeper = subprocess.Popen(["sleep", "300"])
    thread = threading.Thread(target=threading.Event().wait, daemon=True)  # waits forever
    thread.start()
    assert thread.native_id is not None
    files = bad_input_files(tmp_path_factory.mktemp("bad"))
    yield {**files, "pid": str(sleeper.pid), "thread": str(thread.native_id)}
    sleeper.kill()
    sleeper.wait()


# (arguments with {placeholders}, what the one line must say)
LIVE_CASES: list[tuple[str, str]] = [
    ("show {thread}", "it is a thread of process"),
    ("show {pid} {pid}", "unrecognized arguments"),
    ("snapshot {pid} -o {fifo}/x.ttsnap", "cannot write: Not a directory"),
    ("snapshot {pid} " + NO_PID + " -o {out}", f"no such process: {NO_PID}"),
    ("snapshot {pid} -o {dir}", "cannot write: Is a directory"),
    ("snapshot {pid} -o {unwritable}", "cannot write: No such file or directory"),
    ("snapshot {pid} -o {missing}/x.ttsnap", "cannot write: No such file or directory"),
    ("snapshot {pid} -o {text}/x.ttsnap", "cannot write: Not a directory"),
    ("snapshot {thread} -o {out}", "it is a thread of process"),
]


def test_bad_input_naming_live_processes_is_one_line_exit_2(places: dict[str, str]) -> None:
    assert not_refused_in_one_line(LIVE_CASES, places) == []
    assert not Path(places["out"]).exists()
    assert not list(Path(places["dir"]).iterdir())


# --- a process that exits while the command reads it ------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in this process: its status, stdout and stderr (an exception would escape).
    main() installs SIGTERM/SIGHUP handlers; ours come back after."""
    handlers = {signo: signal.getsignal(signo) for signo in (signal.SIGTERM, signal.SIGHUP)}
    try:
        status = cli.main(args)
    except SystemExit as exc:
        status = int(exc.code or 0)
    finally:
        for signo, handler in handlers.items():
            signal.signal(signo, handler)
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def vanishing(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], int]:
    """A child with timers, and a hook that kills and reaps it at one step of a read: after
    /proc/PID/timers ("timers"), or just before the deep capture ("deep")."""

    def start(when: str) -> int:
        child = subprocess.Popen(
            [sys.executable, "-c", _HOLD_TIMERS], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"

        def end() -> None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()

        if when == "timers":
            real_read = proc_timers.read_timers

            def read_then_end(pid: int) -> proc_timers.TimersReading:
                reading = real_read(pid)
                if pid == child.pid:
                    end()
                return reading

            monkeypatch.setattr(proc_timers, "read_timers", read_then_end)
        else:
            real_capture = inject.capture_values

            def end_then_capture(pid: int, *args: object, **kwargs: object) -> object:
                end()
                return real_capture(pid, *args, **kwargs)  # type: ignore[arg-type]

            monkeypatch.setattr(inject, "capture_values", end_then_capture)
        return child.pid

    return start


_HOLD_TIMERS = """
from timertui import _native
for _ in range(3):
    _native.timer_create(1, 1, 0, 0)
print("ready", flush=True)
import time; time.sleep(60)
"""


@pytest.mark.parametrize(
    ("command", "when"),
    [
        ("show {pid}", "timers"),
        ("show {pid} --json", "timers"),
        ("show {pid} --deep", "deep"),
        ("snapshot {pid} -o {out}", "timers"),
        ("snapshot {pid} -o {out} --deep", "deep"),
    ],
)
def test_a_process_that_exits_mid_command(
    command: str,
    when: str,
    vanishing: Callable[[str], int],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    needs_proc_timers: None,
    needs_ptrace: None,
) -> None:
    """Found by this suite: `show` printed the half-read process with exit 1, and `snapshot`
    saved it ("gone, saved without timers"). Now: one line, exit 2, nothing written."""
    pid = vanishing(when)
    out = tmp_path / "s.ttsnap"
    status, stdout, stderr = run_cli(command.format(pid=pid, out=out).split(), capsys)
    assert (status, stdout) == (2, "")
    assert stderr == f"timertui: process {pid} exited while it was being read\n"
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_exited_tells_zombies_and_the_gone_from_the_living() -> None:
    child = subprocess.Popen(["sleep", "60"])
    assert not processes.exited(child.pid)
    child.kill()
    while not processes.exited(child.pid):  # a zombie until reaped
        pass
    assert Path(f"/proc/{child.pid}").exists()
    child.wait()
    assert processes.exited(child.pid)
