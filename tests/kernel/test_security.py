"""What the tool may do and show. Its own process (the CLI, the app) never calls prctl,
timer_create or ptrace on itself: those run in children or on the target. As a user without
privileges (uid 65534), other users' processes are "no access", deep capture of them is
refused with the reason, nothing crashes, and snapshots are 0600 whatever the umask.

Running as another user: see tests/kernel/nobody.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from builders import armed_process, snapshot_of
from nobody import CLI, NOBODY, Nobody, as_nobody, find_nobody, popen_as_nobody, python_as_nobody

from timertui import snapshot_file

ROOT = Path(__file__).resolve().parents[2]

# A child that holds three timers (the target of deep captures) until stdin closes.
HOLD_TIMERS = """
import sys
from timertui import _native
for _ in range(3):
    _native.timer_create(1, 1, 0, 0)
print("ready", flush=True)
sys.stdin.read()
"""


def _holder(**kwargs: Any) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_TIMERS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        **kwargs,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


# --- the tool's own process --------------------------------------------------------------------

_IN_PROCESS = """
import json, os, sys
from timertui import _native, cli
from pathlib import Path

statuses = [cli.main(args) for args in json.loads(sys.argv[1])]
own = Path("/proc/self/timers").read_text()
tracers = {Path(t, "status").read_text().split("TracerPid:")[1].split()[0]
           for t in Path("/proc/self/task").iterdir()}
exact = _native.restore_ids(_native.RESTORE_IDS_GET)
# The per-process ID counter starts at 0 and only timer_create moves it: a first timer made now
# at ID 0 shows no timer was ever created in this process (deleted ones included).
first = _native.timer_create(1, 1, 0, 0)
print(json.dumps({"statuses": statuses, "own_timers": own, "tracers": sorted(tracers),
                  "exact_mode": exact, "first_id": first}))
"""


@pytest.fixture
def commands(tmp_path: Path) -> Iterator[list[list[str]]]:
    """restore (exact and walk), check, show --deep and snapshot --deep, each with a target."""
    path = tmp_path / "s.ttsnap"
    snapshot_file.save(snapshot_of([armed_process(4242, [0, 5, 40_000], period_ms=20)]), path)
    holder = _holder()
    yield [
        ["restore", str(path)],
        ["restore", str(path), "--mode", "walk", "--json"],
        ["check"],
        ["show", str(holder.pid), "--deep"],
        ["snapshot", str(holder.pid), "--deep", "-o", str(tmp_path / "deep.ttsnap")],
    ]
    holder.kill()
    holder.wait()


def test_own_process_never_had_a_timer_nor_exact_mode_nor_a_tracer(
    commands: list[list[str]], needs_exact_ids: None, needs_ptrace: None
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, json.dumps(commands)],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    seen = json.loads(out.stdout.splitlines()[-1])
    restore, walk, check, show, snap = seen["statuses"]
    assert (restore, walk, show, snap) == (0, 0, 0, 0) and check in (0, 1), out.stderr
    assert seen["own_timers"] == ""
    assert seen["tracers"] == ["0"]
    assert seen["exact_mode"] == 0
    assert seen["first_id"] == 0


@dataclass(frozen=True)
class Call:
    tid: int
    name: str
    text: str
    result: str


def strace_calls(trace: str) -> list[Call]:
    """strace -f output as calls, an interrupted call joined with its resumption."""
    calls, pending = [], {}
    for line in trace.splitlines():
        m = re.match(r"(\d+)\s+(.*)", line)
        if m is None:
            continue
        tid, rest = int(m[1]), m[2]
        if rest.endswith("<unfinished ...>"):
            pending[tid] = rest[: -len("<unfinished ...>")]
            continue
        resumed = re.match(r"<\.\.\. (\w+) resumed>(.*)", rest)
        if resumed:
            rest = pending.pop(tid, resumed[1] + "(") + resumed[2]
        call = re.match(r"(\w+)\((.*)\)\s+= (.*)", rest)
        if call:
            calls.append(Call(tid, call[1], call[2], call[3]))
    return calls


def own_threads(calls: list[Call], main: int) -> set[int]:
    """The tids of process `main`: it and every thread it (or they) cloned."""
    tids = {main}
    for c in calls:
        if c.tid in tids and c.name in ("clone", "clone3") and "CLONE_THREAD" in c.text:
            tids.add(int(c.result.split()[0]))
    return tids


def tracer_tasks(calls: list[Call], mine: set[int]) -> set[int]:
    """Deep capture's tracers: tasks `mine` cloned sharing memory but not a thread of ours,
    so the attached window outlives us (timertui/_native/inject.c)."""
    return {
        int(c.result.split()[0]) for c in calls
        if c.tid in mine and c.name in ("clone", "clone3")
        and "CLONE_VM" in c.text and "CLONE_THREAD" not in c.text
    }  # fmt: skip


@pytest.mark.parametrize("index", range(5))
def test_strace_shows_the_calls_only_in_children_or_on_the_target(
    commands: list[list[str]], index: int, needs_exact_ids: None, needs_ptrace: None
) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed (the in-process test covers the same)")
    log = Path(commands[0][1]).parent / f"trace-{index}"
    traced = subprocess.run(
        [strace, "-f", "-qq", "-o", str(log), "-e", "trace=prctl,timer_create,ptrace,clone,clone3",
         sys.executable, "-m", "timertui", *commands[index]],
        capture_output=True, cwd=ROOT, check=False, timeout=120,
    )  # fmt: skip
    # `check` finds ptrace refused under strace (its probe child is strace's tracee already)
    assert traced.returncode in ((0, 1) if commands[index] == ["check"] else (0,)), traced.stderr
    calls = strace_calls(log.read_text())
    main = calls[0].tid if calls else 0
    mine = own_threads(calls, main)
    forbidden = [c for c in calls if c.tid in mine and c.name in ("prctl", "timer_create")]
    on_self = [c for c in calls if c.name == "ptrace" and int(c.text.split(", ")[1]) in mine]
    assert forbidden == [] and on_self == []
    elsewhere = {c.name for c in calls if c.tid not in mine}
    if commands[index][0] == "restore":
        assert {"prctl", "timer_create"} <= elsewhere  # the worker did them
    if "--deep" in commands[index]:
        tracers = tracer_tasks(calls, mine)
        assert any(c.name == "ptrace" and c.tid in tracers for c in calls)  # on the target


# --- as a user without privileges ----------------------------------------------------------------


@pytest.fixture(scope="session")
def nobody() -> Iterator[Nobody]:
    yield from find_nobody()


@pytest.fixture(scope="module")
def root_holder() -> Iterator[int]:
    """A process of root's, with timers."""
    proc = _holder()
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory uid 65534 may write in."""
    path = Path(tempfile.mkdtemp(prefix="timertui-shared-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path)


def _no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stderr, out.stderr


def test_others_processes_are_no_access(
    nobody: Nobody, root_holder: int, needs_proc_timers: None
) -> None:
    out = as_nobody(nobody, ["ps", "--all", "--json"])
    _no_traceback(out)
    assert out.returncode == 0
    rows = {p["pid"]: p for p in json.loads(out.stdout)}
    assert rows[root_holder]["access"] == "no access" and rows[root_holder]["timers"] == []
    assert rows[1]["access"] == "no access"
    shown = as_nobody(nobody, ["show", str(root_holder)])
    _no_traceback(shown)
    assert shown.returncode == 1 and "timers unreadable: no access" in shown.stdout
    listed = as_nobody(nobody, ["ps"])  # with timers only: root's are not claimed to have none
    _no_traceback(listed)
    assert listed.returncode == 0


def test_deep_capture_of_others_is_refused_with_the_reason(
    nobody: Nobody, root_holder: int, needs_proc_timers: None
) -> None:
    code = (
        "from timertui.capture.inject import capture_values\n"
        "cap = capture_values(int(sys.argv[1]))\n"
        "print(cap.refused.name, cap.reason)\n"
    )
    out = python_as_nobody(nobody, code, str(root_holder), check=True)
    assert out.stdout.strip() == (
        f"OTHER_USER process of another user: uid 0/0, we are uid {NOBODY}"
    )
    for args in (
        ["show", str(root_holder), "--deep"],
        ["show", str(root_holder), "--deep", "--json"],
    ):
        shown = as_nobody(nobody, args)
        _no_traceback(shown)
        assert shown.returncode == 1 and "no access" in shown.stdout
    # Its timers were never touched: still armed as they were, no tracer ever attached.
    assert Path(f"/proc/{root_holder}/status").read_text().count("TracerPid:\t0") == 1


def test_snapshots_are_0600_whatever_the_umask(
    nobody: Nobody, root_holder: int, shared_dir: Path, needs_proc_timers: None
) -> None:
    for umask in (0o000, 0o022, 0o077):
        mine = as_nobody(nobody, ["snapshot", "1", "-o", str(shared_dir / f"{umask}.ttsnap")],
                         umask=umask)  # fmt: skip
        _no_traceback(mine)
        path = shared_dir / f"{umask}.ttsnap"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_uid == NOBODY
    # Root's process: saved, as "no access" without timers, and said so (status 1).
    out = as_nobody(nobody, ["snapshot", str(root_holder), "-o", str(shared_dir / "r.ttsnap")])
    _no_traceback(out)
    assert out.returncode == 1 and "no access (saved without timers)" in out.stdout
    (proc,) = snapshot_file.load(shared_dir / "r.ttsnap").processes
    assert proc.access.value == "no access" and proc.timers == ()
    # Root's own snapshot (0600) is not readable to the other user: one line, exit 2.
    private = shared_dir / "root.ttsnap"
    snapshot_file.save(snapshot_of([armed_process(7, [1])]), private)
    denied = as_nobody(nobody, ["inspect", str(private)])
    assert denied.returncode == 2 and denied.stderr == f"timertui: {private}: permission denied\n"


def test_check_and_restore_work_without_privileges(
    nobody: Nobody, shared_dir: Path, needs_proc_timers: None
) -> None:
    checked = as_nobody(nobody, ["check"])
    _no_traceback(checked)
    assert checked.returncode in (0, 1) and checked.stdout.strip()
    path = shared_dir / "mine.ttsnap"
    snapshot_file.save(snapshot_of([armed_process(4242, [0, 5, 700], period_ms=20)]), path)
    os.chown(path, NOBODY, NOBODY)
    restored = as_nobody(nobody, ["restore", str(path), "--json"])
    _no_traceback(restored)
    events = [json.loads(line) for line in restored.stdout.splitlines()]
    done = [e for e in events if e["kind"] == "done"]
    assert done and (restored.returncode == 0) == done[0]["ok"]
    worker = next(e["pid"] for e in events if e["kind"] == "start")
    assert not Path(f"/proc/{worker}").exists()


def test_a_held_target_without_privileges_is_reaped_on_sigterm(
    nobody: Nobody, shared_dir: Path, needs_proc_timers: None
) -> None:
    """Non-root `restore --hold` ended by SIGTERM: its worker (uid 65534) is reaped by it."""
    snap = shared_dir / "held.ttsnap"
    snapshot_file.save(snapshot_of([armed_process(4242, [0], period_ms=20)]), snap)
    os.chown(snap, NOBODY, NOBODY)
    args = ["restore", str(snap), "--hold", "--json"]
    cli = popen_as_nobody(nobody, CLI, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert cli.stdout is not None
    worker = 0
    for line in cli.stdout:
        event = json.loads(line)
        worker = event["pid"] if event["kind"] == "start" else worker
        if event["kind"] == "expiration":
            break
    cli.send_signal(signal.SIGTERM)
    assert cli.wait(10) == 128 + signal.SIGTERM
    assert worker and not Path(f"/proc/{worker}").exists()
