"""`timertui restore`: text report, JSON lines, exit codes, --hold; run as a real command."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import HELPER, PID, armed, process, timer

from timertui import snapshot_file
from timertui.capture.host import capture_times, host_facts
from timertui.model import SIGEV_THREAD_ID, Snapshot
from timertui.restore import events as ev
from timertui.restore.plan import build_plan

pytestmark = pytest.mark.usefixtures("needs_proc_timers")

# The command as the CLI runs it: argparse with the module's register(), exit status from func
# and InputError as one line with status 2.
RUNNER = """
import argparse, sys
from timertui.commands import restore
from timertui.errors import InputError
parser = argparse.ArgumentParser(prog="timertui")
restore.register(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(args.func(args))
except InputError as exc:
    print(f"timertui: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, "restore", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def snap_file(tmp_path: Path) -> Path:
    proc = process(
        [
            timer(0, values=armed(9000, 1000)),
            timer(1_000, values=armed(7000)),
            timer(20_000, notify=SIGEV_THREAD_ID, target=HELPER, values=armed(8000, 500)),
        ],
        tids=(PID, HELPER),
    )
    path = tmp_path / "three.ttsnap"
    snapshot_file.save(Snapshot(host_facts(probe=False), capture_times(), (proc,)), path)
    return path


def test_text_report_and_exit_0(snap_file: Path) -> None:
    out = command(str(snap_file), "--mode", "walk")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for part in ("decisions:", "walk-mode", "thread-mapped", "timing:", "verification:"):
        assert part in text
    assert "result: verified, 3 of 3 timers equal" in text
    assert "20,001 creates, 19,998 deletes" in text
    rows = [line for line in text.splitlines() if line.endswith("  equal")]
    assert len(rows) == 3


def test_json_streams_parseable_events(snap_file: Path) -> None:
    out = command(str(snap_file), "--json")
    assert out.returncode == 0, out.stderr
    events = [ev.decode(json.loads(line)) for line in out.stdout.splitlines()]
    assert isinstance(events[0], ev.Start)
    assert isinstance(events[-1], ev.Done)
    assert events[-1].ok


def test_failed_restore_exits_1(snap_file: Path) -> None:
    out = command(str(snap_file), "--sigpending", "0")
    assert out.returncode == 1
    assert "rlimit-headroom" in out.stdout
    assert "result: FAILED" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/snap"], "no such file"),
        (["--pid", "1"], "no process 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(snap_file: Path, args: list[str], message: str) -> None:
    argv = [*args, str(snap_file)] if args[0].startswith("--") else args
    out = command(*argv)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_criu_images_restore(stress_ng_dir: Path) -> None:
    out = command(str(stress_ng_dir), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    events = [ev.decode(json.loads(line)) for line in out.stdout.splitlines()]
    starts = [e for e in events if isinstance(e, ev.Start)]
    # The parent holds only the one-shot ITIMER_REAL of stress-ng's alarm() (CRIU skips it:
    # criu #2559); the timer worker holds it too, and POSIX timer 0.
    assert [s.source_pid for s in starts] == [19874, 19876]
    verifies = [e for e in events if isinstance(e, ev.Verify)]
    posix = [list(v.equal_ids) for v in verifies]
    assert posix == [[], [0]]
    one_shot = [e for e in events if isinstance(e, ev.Decision) and e.code == "itimer-one-shot"]
    assert len(one_shot) == 2 and all("#2559" in d.reason for d in one_shot)


def test_hold_prints_expirations_until_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "fast.ttsnap"
    proc = process([timer(5, values=armed(5, 10))])
    snapshot_file.save(Snapshot(host_facts(probe=False), capture_times(), (proc,)), path)
    child = subprocess.Popen(
        [sys.executable, "-c", RUNNER, "restore", str(path), "--hold"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines = []
    worker = 0
    for line in child.stdout:
        lines.append(line)
        if line.startswith("holding pid"):
            worker = int(line.split()[2].rstrip(";"))
        if worker and "expirations" in line and "timer 5" in line:
            break
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=10) == 0, child.stderr.read() if child.stderr else ""
    assert worker
    deadline = time.monotonic() + 5
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not Path(f"/proc/{worker}").exists()


def test_progress_line_on_a_terminal() -> None:
    from timertui.commands.restore import _Text

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = io.StringIO(), Tty()
    view = _Text(build_plan(process([timer(0), timer(2_000_000)])), out, err)
    for t, current, eta in ((1, 1_000_000, 700_000_000), (2, 1_500_000, 300_000_000)):
        view.show(ev.Progress(t, "create", 1, 2, current, 2_000_000, current, 0, 1.5e6, eta))
    view.finish()
    shown = err.getvalue()
    assert shown.count("\r\x1b[K") == 3  # two updates, then cleared
    assert "ID 1,500,000 of 2,000,000 (75.0%)" in shown
    assert "1.50 M/s" in shown
    assert "ETA 300.0 ms" in shown


def test_plain_progress_is_a_line_a_second() -> None:
    from timertui.commands.restore import _Text

    err = io.StringIO()
    view = _Text(build_plan(process([timer(0), timer(2_000_000)])), io.StringIO(), err)
    second = 1_000_000_000
    for t in (second // 2, second, second + 1, 2 * second - 1, 2 * second):
        view.show(ev.Progress(t, "create", 0, 2, t // 1000, 2_000_000, 1, 0, 1e6, second))
    assert len(err.getvalue().splitlines()) == 2
    assert "\r" not in err.getvalue()


def test_verification_says_what_differs_in_words() -> None:
    from timertui.commands.restore import _Text

    plan = build_plan(process([timer(0), timer(5)]))
    view = _Text(plan, io.StringIO(), io.StringIO())
    checks = (
        ev.TimerCheck(0, (ev.FieldDiff("present", 1, 0),)),
        ev.TimerCheck(5, (ev.FieldDiff("signo", 34, 35),)),
    )
    table = view.verification(ev.Verify(1, checks))
    assert "differs: missing after the restore" in table
    assert "differs: signo: want 34, got 35" in table
    assert "!=" not in table
