"""Faults mid-run, at CI size (`make stress` runs the same code longer): SIGKILL at random points
of snapshot writes, restore workers and deep captures; a held restore target when its CLI or app
goes away in each way it can; process churn under the scanner; RLIMIT_SIGPENDING running out
during a restore."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import armed_process, snapshot_of
from nobody import Nobody, find_nobody, python_as_nobody
from textual.widgets import Checkbox

from stress import procs
from timertui import snapshot_file
from timertui.capture import host
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.native.runner import RestoreRun
from timertui.restore.plan import TargetFacts, TargetSpec, build_plan
from timertui.tui.app import TimerTuiApp
from timertui.tui.process_sources import FrozenSource
from timertui.tui.restorer import BackendRestorer
from timertui.tui.screens.restore import RestoreScreen

ROOT = Path(__file__).resolve().parents[2]
KILL_POINTS = {"snapshot": 40, "walk": 20, "exact": 20}
CHURN = 1000


def _stress(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stress", "--json", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _tallies(proc: subprocess.Popen[str]) -> dict[str, dict[str, Any]]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, 1) and out, err
    return {t.get("name", "churn"): t for t in json.loads(out)}


@pytest.fixture(scope="module")
def stress_runs(needs_proc_timers: None) -> Iterator[dict[str, dict[str, Any]]]:
    """The kill points and the churn, side by side, each in a single-threaded process of its
    own (they fork)."""
    kills = [
        _stress("kills", "--only", kind, "--points", str(points))
        for kind, points in KILL_POINTS.items()
    ]
    churn = _stress("churn", "--count", str(CHURN), "--seconds", "60")
    found: dict[str, dict[str, Any]] = {}
    for proc in [*kills, churn]:
        found.update(_tallies(proc))
    yield found


# --- SIGKILL at random points -------------------------------------------------------------------


def test_a_snapshot_write_killed_anywhere_leaves_old_or_new_whole(
    stress_runs: dict[str, dict[str, Any]],
) -> None:
    t = stress_runs["snapshot write killed"]
    assert (t["points"], t["failures"], t["lost_files"], t["orphans"]) == (40, [], 0, 0)
    # Kills landed before the rename (OLD intact) and after (A or B whole): both were tried.
    assert t["outcomes"]["old intact"] > 0 and t["outcomes"]["replaced whole"] > 0
    # The temp file has a name only between its link and the rename: rarely left behind.
    assert t["litter"] <= t["points"] // 10


@pytest.mark.parametrize("mode", ["walk", "exact"])
def test_a_restore_worker_killed_anywhere_is_named_and_reaped(
    stress_runs: dict[str, dict[str, Any]], mode: str
) -> None:
    t = stress_runs[f"restore worker killed ({mode})"]
    assert (t["points"], t["failures"], t["orphans"]) == (20, [], 0)
    killed = sum(n for k, n in t["outcomes"].items() if k.startswith("killed in "))
    # Most kills landed before `done`. (The phase an error names is the last one the worker
    # had reported: it sends its events in batches, so that lags behind; see the report.)
    assert killed >= 5, t["outcomes"]


def test_churn_under_the_scanner(stress_runs: dict[str, dict[str, Any]]) -> None:
    t = stress_runs["churn"]
    assert (t["processes"], t["failures"], t["stale_rows"], t["orphans"]) == (CHURN, [], 0, 0)
    assert t["with_timers"] > CHURN // 8 and t["timer_rows"] > 0  # the scanner saw their timers
    assert t["sweeps"] > 20 and t["reads"] > 20 and t["captures"] > 20


def test_a_capturer_killed_anywhere_leaves_the_target_unharmed(
    tmp_path: Path, needs_ptrace: None
) -> None:
    from stress.kills import build_inject_target, capture_kills

    tally = capture_kills(150, 1, build_inject_target(tmp_path))
    assert (tally.failures, tally.orphans) == ([], 0)


def test_signals_other_than_sigkill_never_cut_a_capture(tmp_path: Path, needs_ptrace: None) -> None:
    """SIGTERM, SIGINT, SIGHUP to a capturing process at random moments: every signal is
    blocked inside the attached window, so the process ends outside it and the target runs on
    with its registers and stack as they were."""
    from stress.kills import _judge_target, _Target, build_inject_target

    target = _Target(build_inject_target(tmp_path), "spin")
    code = (
        "import sys\n"
        "from timertui.capture.inject import capture_values\n"
        "print('go', flush=True)\n"
        "while True:\n"
        "    capture_values(int(sys.argv[1]), tid=int(sys.argv[1]))\n"
    )
    try:
        for index, signo in enumerate([signal.SIGTERM, signal.SIGINT, signal.SIGHUP] * 4):
            capturer = subprocess.Popen(
                [sys.executable, "-c", code, str(target.pid)], stdout=subprocess.PIPE, text=True
            )
            assert capturer.stdout is not None and capturer.stdout.readline() == "go\n"
            time.sleep(0.005 * index)
            capturer.send_signal(signo)
            assert capturer.wait(10) != 0
            assert _judge_target(target) is None
        assert target.report() == "ok"
    finally:
        target.close()


# --- a held target when its CLI goes away --------------------------------------------------------


@pytest.fixture(scope="module")
def held_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hold") / "armed.ttsnap"
    snapshot_file.save(snapshot_of([armed_process(4242, [0, 5], period_ms=20)]), path)
    return path


def _holding(path: Path, as_json: bool) -> tuple[subprocess.Popen[str], int]:
    """`timertui restore PATH --hold` once it holds: the CLI and the worker's pid."""
    argv = [sys.executable, "-m", "timertui", "restore", str(path), "--hold"]
    cli = subprocess.Popen(
        argv + (["--json"] if as_json else []),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cli.stdout is not None
    for line in cli.stdout:
        if as_json:
            event = json.loads(line)
            if event["kind"] == "start":
                worker = int(event["pid"])
            if event["kind"] == "expiration":  # held, and its timers fire
                return cli, worker
        elif line.startswith("holding pid "):
            return cli, int(line.split()[2].rstrip(";"))
    raise AssertionError(f"the restore never held: {cli.wait()} {cli.stderr.read()}")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("Ctrl-C", 0),  # the documented way to release it
        ("SIGTERM", 128 + signal.SIGTERM),
        ("SIGHUP", 128 + signal.SIGHUP),  # the terminal went away
        ("reader gone", 0),  # `timertui restore --hold --json | head`
    ],
)
def test_a_held_target_is_reaped_by_the_cli_however_it_ends(
    held_file: Path, how: str, status: int, needs_proc_timers: None
) -> None:
    cli, worker = _holding(held_file, as_json=how == "reader gone")
    assert procs.children(cli.pid) == [worker]
    if how == "reader gone":
        assert cli.stdout is not None
        cli.stdout.close()
    else:
        cli.send_signal({"Ctrl-C": signal.SIGINT}.get(how, getattr(signal, how, 0)))
    assert cli.wait(10) == status
    assert cli.stderr is not None
    assert "Traceback" not in cli.stderr.read()
    # Reaped by the CLI before it ended: not running, not a zombie waiting for init.
    assert not Path(f"/proc/{worker}").exists()


async def test_a_held_target_is_reaped_when_the_app_quits(
    tmp_path: Path, needs_proc_timers: None
) -> None:
    process = armed_process(4242, [0, 5], period_ms=20)
    source = FrozenSource(snapshot_of([process]), "armed.ttsnap")
    app = TimerTuiApp(source, restorer=BackendRestorer(), snapshot_dir=tmp_path, focus_pid=4242)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("r")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        screen.query_one("#hold", Checkbox).value = True
        await pilot.press("s")
        deadline = time.monotonic() + 20
        while not screen.view.expirations:
            assert time.monotonic() < deadline, "the restore never held"
            await pilot.pause(0.05)
        assert screen.view.start is not None
        worker = screen.view.start.pid
        assert Path(f"/proc/{worker}").exists()
        await pilot.press("q")
    deadline = time.monotonic() + 5
    while Path(f"/proc/{worker}").exists():
        assert time.monotonic() < deadline, f"worker {worker} outlived the app"
        time.sleep(0.01)
    # The app ran the restore in a child: its own process holds no timer.
    assert Path("/proc/self/timers").read_text() == ""


# --- RLIMIT_SIGPENDING --------------------------------------------------------------------------
# Slots are counted per user: run as uid 65534, whose count no other test (nor other work on
# this machine, all root's) moves while we measure it.

_SIGPENDING = """
import json, os, sys
from timertui import _native
from timertui.capture import host
from timertui.model import ProcessTimers, Timer, TimerValues
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.plan import TargetFacts, TargetSpec, build_plan

mode, leave = sys.argv[1], int(sys.argv[2])
ids = list(range(0, 600, 3))
values = TimerValues(500_000_000, 1_000_000_000, 0)
proc = ProcessTimers(4242, 1, "p", (), 65534, "nobody", "sleeping", (4242,),
                     tuple(Timer(i, 1, 0, 4242, 34, i, values) for i in ids))
in_use = host.sigpending_in_use("self") or 0
limit = in_use + 400
plan = build_plan(proc, target=TargetSpec(sigpending_limit=limit),
                  facts=TargetFacts(limit, in_use))
# Then another process of the same user takes all but `leave` of the slots the plan counted on.
release_r, release_w = os.pipe()
ready_r, ready_w = os.pipe()
hog = os.fork()
if hog == 0:
    os.close(release_w)
    for _ in range(limit - in_use - leave):
        _native.timer_create(1, 1, 0, 0)
    os.write(ready_w, b"!")
    os.read(release_r, 1)
    os._exit(0)
os.read(ready_r, 1)
stream = run(plan, mode=mode)
events = [json.loads(ev.to_json(e)) for e in stream]
os.close(release_w)
os.waitpid(hog, 0)
print(json.dumps({"planned": sorted(plan.decision_codes()), "events": events, "ids": ids,
                  "worker": stream.pid, "worker_left": os.path.exists(f"/proc/{stream.pid}")}))
"""


@pytest.fixture(scope="session")
def nobody() -> Iterator[Nobody]:
    yield from find_nobody()


@pytest.mark.parametrize("mode", ["exact", "walk"])
def test_sigpending_running_out_mid_restore_is_eagain_per_timer(
    mode: str, nobody: Nobody, needs_proc_timers: None
) -> None:
    """The plan saw room for its 200 timers; then another process of the same user took the
    slots but 40: the worker creates 40, each timer past the limit is reported failed (EAGAIN
    for each in exact mode; the walk stops at the first, saying EAGAIN), the run fails, and
    the worker is gone."""
    if mode == "exact" and not host.probe_exact_ids().ok:
        pytest.skip("kernel lacks PR_TIMER_CREATE_RESTORE_IDS")
    out = python_as_nobody(nobody, _SIGPENDING, mode, "40", check=True)
    seen = json.loads(out.stdout)
    events, ids = seen["events"], seen["ids"]
    assert "rlimit-headroom" not in seen["planned"]  # there was room when planned
    states = [e for e in events if e["kind"] == "timer"]
    created = [i for e in states if e["state"] == "created" for i in e["ids"]]
    failed = [e for e in states if e["state"] == "failed"]
    failed_ids = [i for e in failed for i in e["ids"]]
    assert created == ids[:40] and failed_ids == ids[40:]  # each timer once, in order
    first = next(e for e in events if e["kind"] == "decision" and e["code"] == "create-failed")
    assert first["timer_id"] == ids[40]
    assert "EAGAIN" in first["reason"] and "RLIMIT_SIGPENDING" in first["reason"]
    if mode == "exact":
        assert {e["errno"] for e in failed if e["ids"]} == {errno.EAGAIN}
    (done,) = [e for e in events if e["kind"] == "done"]
    assert not done["ok"] and done["verified"] == 40
    assert not seen["worker_left"]


def test_sigpending_short_before_starting_is_a_decision(needs_proc_timers: None) -> None:
    in_use = host.sigpending_in_use("self") or 0
    plan = build_plan(
        armed_process(4242, list(range(50)), period_ms=1000),
        target=TargetSpec(sigpending_limit=in_use + 5),
        facts=TargetFacts(sigpending_soft=in_use + 5, sigpending_in_use=in_use),
    )
    assert "rlimit-headroom" in plan.decision_codes()
    stream = run(plan)
    assert isinstance(stream, RestoreRun)
    events = list(stream)
    first = next(i for i, e in enumerate(events) if isinstance(e, ev.Decision))
    setup = next(i for i, e in enumerate(events) if isinstance(e, ev.Phase) and e.name == "setup")
    assert first < setup and events[first].code == "rlimit-headroom"  # type: ignore[attr-defined]
    assert stream.exit_status is not None
    assert not Path(f"/proc/{stream.pid}").exists()


# --- a process changing its timers while it is read ---------------------------------------------

_CHURN_TIMERS = """
import sys, time
from timertui import _native
kept = [_native.timer_create(1, 1, 0, 0) for _ in range(int(sys.argv[1]))]
pause = float(sys.argv[2])
print("go", flush=True)
while True:
    _native.timer_delete(_native.timer_create(1, 1, 0, 0))
    if pause:
        time.sleep(pause)
"""


@pytest.mark.parametrize(
    ("kept", "pause"),
    [(1, 0.0), (150, 0.0), (150, 0.0002)],
)
def test_timers_read_while_they_change(kept: int, pause: float, needs_proc_timers: None) -> None:
    """Found by the churn run: /proc/PID/timers read while the process creates timers listed
    one twice (the kernel restarts its listing at a position on every read()), and read_timers
    raised TimersParseError "duplicate timer ID" out of scan(). One timer fits in one read()
    and reads whole; 150 take three reads, which agree while the process changes its timers
    now and then (every 200 us) — and under a storm of changes (no pause) at least never
    list one twice nor raise."""
    from timertui.capture.proc_timers import read_timers

    child = subprocess.Popen(
        [sys.executable, "-c", _CHURN_TIMERS, str(kept), str(pause)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "go\n"
        deadline = time.monotonic() + 0.5
        counts = []
        while time.monotonic() < deadline:
            ids = [t.id for t in read_timers(child.pid).timers]
            assert len(ids) == len(set(ids))
            counts.append(len(ids))
        assert len(counts) > 100
        if kept == 1 or pause:
            assert set(counts) <= {kept, kept + 1}
    finally:
        child.kill()
        child.wait()
