"""Every subcommand given bad input: bad arguments, missing files, directories where files are
expected, damaged files, PIDs that do not exist or that exit while the command reads them. Each
must end with exit status 2 and one line on stderr naming the problem: no traceback, no output,
nothing written."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import STRESS_NG

from stress.kills import sample_process, sample_snapshot
from timertui import cli, snapshot
from timertui.capture import inject, proc_timers, processes

ROOT = Path(__file__).resolve().parents[2]
NO_PID = "999999999"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Inputs to point commands at, and a live process (a sleep) to name by PID."""
    tmp = tmp_path_factory.mktemp("bad")
    (tmp / "empty-dir").mkdir()
    (tmp / "text").write_text("hello\n")
    good = tmp / "good.ttsnap"
    snapshot.save(sample_snapshot(sample_process(4242, [0, 5])), good)
    damaged = bytearray(good.read_bytes())
    damaged[-1] ^= 1
    (tmp / "damaged.ttsnap").write_bytes(bytes(damaged))
    (tmp / "cut.ttsnap").write_bytes(good.read_bytes()[:40])
    snapshot.save(sample_snapshot(sample_process(7, [])), tmp / "no-timers.ttsnap")
    (tmp / "loop").symlink_to(tmp / "loop")
    criu_cut = tmp / "criu-cut"
    criu_cut.mkdir()
    if (STRESS_NG / "pstree.img").exists():
        for name in ("pstree.img", "core-19874.img", "core-19876.img"):
            data = (STRESS_NG / name).read_bytes()
            (criu_cut / name).write_bytes(data[: len(data) // 2] if "19876" in name else data)
    (tmp / "wrong.crit.json").write_text('{"magic": "FDINFO", "entries": []}')
    os.mkfifo(tmp / "fifo")  # no writer ever: opening it for reading would wait forever
    (tmp / "fifo-dir").mkdir()
    os.mkfifo(tmp / "fifo-dir" / "pstree.img")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp / "sock"))
    sleeper = subprocess.Popen(["sleep", "300"])
    thread = _a_thread_id()
    yield {
        "dir": str(tmp / "empty-dir"),
        "text": str(tmp / "text"),
        "good": str(good),
        "damaged": str(tmp / "damaged.ttsnap"),
        "cut": str(tmp / "cut.ttsnap"),
        "no-timers": str(tmp / "no-timers.ttsnap"),
        "loop": str(tmp / "loop"),
        "criu-cut": str(criu_cut),
        "wrong-json": str(tmp / "wrong.crit.json"),
        "fifo": str(tmp / "fifo"),
        "fifo-dir": str(tmp / "fifo-dir"),
        "socket": str(tmp / "sock"),
        "missing": str(tmp / "missing"),
        "pid": str(sleeper.pid),
        "thread": str(thread),
        "unwritable": str(tmp / "no-such-dir" / "out.ttsnap"),
        "out": str(tmp / "out.ttsnap"),
    }
    sleeper.kill()
    sleeper.wait()
    listener.close()


def _a_thread_id() -> int:
    """A TID that is not a process: a thread of ours that waits forever."""
    import threading

    thread = threading.Thread(target=threading.Event().wait, daemon=True)
    thread.start()
    assert thread.native_id is not None
    return thread.native_id


# (arguments with {placeholders}, what the one line must say). Every subcommand appears.
CASES: list[tuple[str, str]] = [
    ("nosuchcommand", "invalid choice"),
    ("--bogus", "unrecognized arguments: --bogus"),
    ("--snapshot {missing}", "no such file or directory"),
    ("--snapshot {dir}", "not a CRIU image directory"),
    ("--snapshot {damaged}", "fails its SHA-256 check"),
    ("--snapshot /dev/zero", "/dev/zero: not a regular file or directory"),
    ("--snapshot {fifo}", "fifo: not a regular file or directory"),
    ("--snapshot {socket}", "sock: not a regular file or directory"),
    ("--snapshot {fifo-dir}", "pstree.img: not a regular file or directory"),
    ("ps extra", "unrecognized arguments: extra"),
    ("ps --bogus", "unrecognized arguments: --bogus"),
    ("show", "the following arguments are required: pid"),
    ("show abc", "invalid int value: 'abc'"),
    ("show " + NO_PID, f"no such process: {NO_PID}"),
    ("show -- -1", "no such process: -1"),
    ("show 0", "no such process: 0"),
    ("show 99999999999999999999", "no such process: 99999999999999999999"),
    ("show {thread}", "it is a thread of process"),
    ("show " + NO_PID + " --deep", f"no such process: {NO_PID}"),
    ("show {pid} {pid}", "unrecognized arguments"),
    ("snapshot", "the following arguments are required"),
    ("snapshot {pid} -o {fifo}/x.ttsnap", "cannot write: Not a directory"),
    ("snapshot abc -o {out}", "invalid int value: 'abc'"),
    ("snapshot " + NO_PID + " -o {out}", f"no such process: {NO_PID}"),
    ("snapshot {pid} " + NO_PID + " -o {out}", f"no such process: {NO_PID}"),
    ("snapshot {pid} -o {dir}", "cannot write: Is a directory"),
    ("snapshot {pid} -o {unwritable}", "cannot write: No such file or directory"),
    ("snapshot {pid} -o {missing}/x.ttsnap", "cannot write: No such file or directory"),
    ("snapshot {pid} -o {text}/x.ttsnap", "cannot write: Not a directory"),
    ("snapshot {thread} -o {out}", "it is a thread of process"),
    ("inspect", "the following arguments are required"),
    ("inspect {missing}", "no such file or directory"),
    ("inspect {dir}", "not a CRIU image directory"),
    ("inspect {text}", "not a timertui snapshot, a CRIU image directory or crit JSON"),
    ("inspect /dev/null", "/dev/null: not a regular file or directory"),
    ("inspect /dev/zero", "/dev/zero: not a regular file or directory"),
    ("inspect {fifo}", "fifo: not a regular file or directory"),
    ("inspect {socket}", "sock: not a regular file or directory"),
    ("inspect {fifo-dir}", "pstree.img: not a regular file or directory"),
    ("inspect {damaged}", "damaged: the payload fails its SHA-256 check"),
    ("inspect {cut}", "truncated: 40 bytes, shorter than the header"),
    ("inspect {loop}", "Too many levels of symbolic links"),
    ("inspect {criu-cut}", "truncated"),
    ("inspect {wrong-json}", "crit JSON of a FDINFO image"),
    ("inspect {good} {good}", "unrecognized arguments"),
    ("check extra", "unrecognized arguments: extra"),
    ("check --deep", "unrecognized arguments: --deep"),
    ("restore", "the following arguments are required"),
    ("restore {missing}", "no such file or directory"),
    ("restore {dir}", "not a CRIU image directory"),
    ("restore {damaged}", "fails its SHA-256 check"),
    ("restore {text}", "not a timertui snapshot"),
    ("restore /dev/zero", "/dev/zero: not a regular file or directory"),
    ("restore {fifo}", "fifo: not a regular file or directory"),
    ("restore {socket}", "sock: not a regular file or directory"),
    ("restore {fifo-dir}", "pstree.img: not a regular file or directory"),
    ("restore {no-timers}", "no process with timers in it"),
    ("restore {good} --pid 12345", "no process 12345 in it"),
    ("restore {good} --pid abc", "invalid int value: 'abc'"),
    ("restore {good} --mode sideways", "invalid choice: 'sideways'"),
    ("restore {good} --backend qemu", "invalid choice: 'qemu'"),
    ("restore {good} --dead-threads keep", "invalid choice: 'keep'"),
    ("restore {good} --sigpending lots", "invalid int value: 'lots'"),
    ("restore {good} --start vfork", "invalid choice: 'vfork'"),
    ("restore {good} --backend sim --kernel 1.0-nope", "1.0-nope"),
    ("restore {good} --kernel 3.10-6.14", "--kernel and --pace apply to the simulator"),
    ("restore {good} --backend sim --pace sideways", "sideways"),
    ("calibrate extra", "unrecognized arguments: extra"),
    ("calibrate --bogus", "unrecognized arguments: --bogus"),
    ("demo-workload --ids abc", "--ids: 'abc' is not an integer"),
    ("demo-workload --ids 1,1", "--ids: 1 given twice"),
    ("demo-workload --ids=-1", "--ids: -1 is outside 0..2147483647"),
    ("demo-workload --ids 2147483648", "--ids: 2147483648 is outside 0..2147483647"),
    ("demo-workload --ids ,", "is not an integer"),
    ("demo-workload extra", "unrecognized arguments: extra"),
]


def timertui(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "timertui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def _argv(template: str, files: dict[str, str]) -> list[str]:
    return [arg.format(**files) for arg in template.split()]


def test_every_subcommand_has_bad_input_cases() -> None:
    covered = {t.split()[0].replace("-", "_") for t, _ in CASES}
    assert set(cli.COMMANDS) <= covered, set(cli.COMMANDS) - covered


def test_bad_input_is_one_line_exit_2(files: dict[str, str]) -> None:
    """All the cases, four at a time (each is a fresh interpreter)."""
    if not Path(files["criu-cut"], "pstree.img").exists():
        pytest.skip(f"CRIU fixture missing: {STRESS_NG}")
    commands = [_argv(template, files) for template, _ in CASES]
    # Any command added later gets the generic check at least.
    commands += [[name.replace("_", "-"), "--no-such-option"] for name in cli.COMMANDS]
    needles = [needle for _, needle in CASES] + ["(see --help)"] * len(cli.COMMANDS)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(timertui, commands))
    bad = []
    for argv, needle, out in zip(commands, needles, results, strict=True):
        lines = out.stderr.splitlines()
        ok = (
            out.returncode == 2
            and len(lines) == 1
            and lines[0].startswith("timertui")
            and needle in lines[0]
            and out.stdout == ""
        )
        if not ok:
            bad.append((argv, out.returncode, out.stderr[-500:], out.stdout[-200:]))
    assert bad == []
    assert not Path(files["out"]).exists()
    assert not list(Path(files["dir"]).iterdir())


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
