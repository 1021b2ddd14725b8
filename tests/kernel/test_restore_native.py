"""The native backend on the real kernel: every timer is created in a worker child, never here."""

from __future__ import annotations

import errno
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from builders import HELPER, MS, PID, armed, decision, done, of, process, timer
from native_runs import assert_gone, assert_verified, zoo

from timertui.choices import StartMethod
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import INT_MAX, SIGEV_THREAD_ID
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.native.runner import RestoreRun, local_facts
from timertui.restore.plan import TargetSpec, build_plan

pytestmark = pytest.mark.usefixtures("needs_proc_timers")


def test_exact_restore_of_the_zoo_verifies(needs_exact_ids: None) -> None:
    plan = zoo()
    events = list(run(plan, mode="auto"))
    assert_verified(events, "exact")
    assert isinstance(events[0], ev.Start)
    assert events[0].pid != os.getpid()
    assert {"exact-mode", "thread-mapped", "cpu-clock-remapped"} <= {
        d.code for d in of(ev.Decision, events)
    }
    end = done(events)
    assert (end.creates, end.deletes) == (5, 0)
    assert list(end.phases) == ["spawn", "setup", "probe", "create", "arm", "prctl-off", "verify"]
    created = [i for s in of(ev.TimerState, events) if s.state == "created" for i in s.ids]
    armed_ids = [i for s in of(ev.TimerState, events) if s.state == "armed" for i in s.ids]
    assert created == [0, 3, 4, 17, 40]
    assert armed_ids == [0, 3, 4, 17]  # 40 was disarmed in the snapshot
    assert_gone(events[0].pid)


def test_forced_walk_verifies_with_the_walks_counts() -> None:
    plan = zoo()
    events = list(run(plan, mode="walk"))
    assert_verified(events, "walk")
    end = done(events)
    assert end.creates == plan.max_id + 1
    assert end.deletes == plan.max_id + 1 - len(plan.timers)
    assert "prctl-off" not in end.phases
    assert decision(events, "walk-mode").severity == "info"


def test_spawned_worker_verifies_the_same(needs_exact_ids: None) -> None:
    events = list(run(zoo(), start="spawn"))
    assert_verified(events, "exact")


def test_walk_reports_progress_at_least_every_chunk() -> None:
    plan = build_plan(process([timer(0), timer(150_000)]))
    events = list(run(plan, mode="walk", chunk_ns=5 * MS))
    progress = of(ev.Progress, events)
    assert len(progress) >= 3
    ids = [p.current_id for p in progress]
    assert ids == sorted(ids)
    assert progress[-1].current_id == 150_000
    assert progress[-1].creates == 150_001
    gaps = [b.t_ns - a.t_ns for a, b in itertools.pairwise(progress)]
    assert max(gaps[:-1]) < 50 * MS  # 5 ms chunks; generous for a loaded machine
    assert all(p.rate > 0 for p in progress)


def test_taken_id_is_ebusy_in_exact_mode(needs_exact_ids: None) -> None:
    plan = build_plan(process([timer(2), timer(5), timer(9)]), target=TargetSpec(taken_ids=(5,)))
    events = list(run(plan))
    busy = decision(events, "id-busy")
    assert busy.timer_id == 5
    assert "Can't create posix timer - 1: -16" in busy.reason
    (failed,) = [s for s in of(ev.TimerState, events) if s.state == "failed"]
    assert (failed.ids, failed.errno) == ((5,), errno.EBUSY)
    end = done(events)
    assert not end.ok
    assert end.verified == 2  # 2 and 9 were still created and verify
    assert decision(events, "target-prepared").severity == "info"


def test_taken_id_stops_the_walk_with_crius_message(needs_exact_ids: None) -> None:
    plan = build_plan(process([timer(2), timer(5)]), target=TargetSpec(taken_ids=(5,)))
    events = list(run(plan, mode="walk"))
    over = decision(events, "walk-overshoot")
    assert over.severity == "fatal"
    assert over.reason.startswith("Can't create timers, kernel don't give them consequently")
    assert "gave 6" in over.reason
    assert not done(events).ok


def test_counter_past_a_wanted_id_needs_a_wrap(needs_exact_ids: None) -> None:
    plan = build_plan(process([timer(3)]), target=TargetSpec(start_counter=100))
    events = list(run(plan, mode="walk"))
    wrap = decision(events, "wrap-needed")
    assert wrap.severity == "fatal"
    # After the first create (ID 100, deleted): 101..INT_MAX, then 0..3.
    assert f"{(INT_MAX - 100) + 4} creates" in wrap.reason
    assert "--allow-wrap" in wrap.reason
    assert done(events).creates == 1


def test_allowed_wrap_walks_round_int_max(needs_exact_ids: None) -> None:
    plan = build_plan(process([timer(3), timer(6)]), target=TargetSpec(start_counter=INT_MAX - 4))
    events = list(run(plan, mode="walk", allow_wrap=True))
    assert decision(events, "wrap-needed").severity == "warning"
    assert_verified(events, "walk")
    # INT_MAX-4 .. INT_MAX, then 0..3 (3 kept), then 4..6.
    assert done(events).creates == 5 + 4 + 3


def test_dead_thread_remapped_and_made_none_verify() -> None:
    dead = [timer(1, notify=SIGEV_THREAD_ID, target=4999, values=armed(9000))]
    remapped = list(run(build_plan(process(dead))))
    assert_verified(remapped, done(remapped).mode)
    assert decision(remapped, "thread-remapped")
    none = list(run(build_plan(process(dead), dead_threads="none")))
    assert_verified(none, done(none).mode)
    assert decision(none, "thread-to-none")


def test_cpu_clock_of_a_live_thread_is_remapped_to_the_targets_thread() -> None:
    clock = make_cpu_clock(HELPER, CpuClockType.SCHED, per_thread=True)
    plan = build_plan(process([timer(1, clock=clock, values=armed(9000))], tids=(PID, HELPER)))
    events = list(run(plan))
    assert_verified(events, done(events).mode)
    assert decision(events, "cpu-clock-remapped").timer_id == 1


def test_small_rlimit_sigpending_is_reported_and_fails_with_eagain() -> None:
    plan = build_plan(
        process([timer(i) for i in range(6)]),
        target=TargetSpec(sigpending_limit=2),
        facts=local_facts(),
    )
    assert "rlimit-headroom" in plan.decision_codes()
    events = list(run(plan))
    headroom = decision(events, "rlimit-headroom")
    assert events.index(headroom) < next(
        i for i, e in enumerate(events) if isinstance(e, ev.Phase) and e.name == "create"
    )
    failed = [s for s in of(ev.TimerState, events) if s.state == "failed"]
    assert failed and failed[0].errno == errno.EAGAIN
    assert not done(events).ok


def test_rlimit_found_short_by_the_worker_when_the_plan_had_no_facts() -> None:
    plan = build_plan(process([timer(i) for i in range(4)]), target=TargetSpec(sigpending_limit=1))
    assert plan.decisions == ()
    events = list(run(plan))
    assert decision(events, "rlimit-headroom").severity == "error"


def test_killed_worker_mid_walk_gives_an_error_and_leaves_nothing() -> None:
    plan = build_plan(process([timer(0), timer(50_000_000)]))
    stream = run(plan, mode="walk")
    assert isinstance(stream, RestoreRun)
    seen: list[ev.Event] = []
    for event in stream:
        seen.append(event)
        if isinstance(event, ev.Progress):
            os.kill(stream.pid, signal.SIGKILL)
            break
    rest = list(stream)
    (error,) = of(ev.Error, rest)
    assert error.code == "worker-killed"
    assert "SIGKILL" in error.message
    assert "create phase" in error.message
    assert stream.exit_status is not None
    assert_gone(stream.pid)


def test_cancel_from_another_thread_ends_with_cancelled() -> None:
    import threading

    plan = build_plan(process([timer(50_000_000)]))
    stream = run(plan, mode="walk")
    assert isinstance(stream, RestoreRun)
    first = next(stream)
    threading.Timer(0.05, stream.cancel).start()
    rest = list(stream)
    assert isinstance(first, ev.Start)
    assert of(ev.Error, rest)[-1].code == "cancelled"
    assert_gone(first.pid)


def test_closing_the_generator_kills_and_reaps() -> None:
    stream = run(build_plan(process([timer(50_000_000)])), mode="walk")
    assert isinstance(stream, RestoreRun)
    next(stream)
    pid = stream.pid
    assert Path(f"/proc/{pid}").exists()
    stream.close()
    assert_gone(pid)
    assert list(stream) == []


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_hold_reports_expirations_per_timer_then_is_reaped(start: StartMethod) -> None:
    plan = build_plan(
        process(
            [
                timer(1, values=armed(5, 10)),
                timer(2, notify=SIGEV_THREAD_ID, target=HELPER, values=armed(5, 20)),
            ],
            tids=(PID, HELPER),
        )
    )
    stream = run(plan, hold=True, start=start)
    assert isinstance(stream, RestoreRun)
    totals: dict[int, int] = {}
    deadline = None
    for event in stream:
        if isinstance(event, ev.Done):
            assert event.ok and event.holding
            deadline = time.monotonic() + 0.5
        if isinstance(event, ev.Expiration):
            totals[event.timer_id] = event.total
        if deadline and time.monotonic() > deadline and len(totals) == 2:
            break
    pid = stream.pid
    stream.close()
    assert totals[1] >= 10  # every 10 ms for ~0.5 s
    assert totals[2] >= 5
    assert_gone(pid)


def test_worker_leaves_when_its_caller_dies(tmp_path: Path) -> None:
    """The caller is SIGKILLed while holding: the worker sees the control pipe close and exits.
    A subreaper between us and the caller adopts and reaps it, and reports how it ended."""
    caller = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from builders import armed, process, timer
        from timertui.restore import run
        from timertui.restore.plan import build_plan
        stream = run(build_plan(process([timer(1, values=armed(5, 10))])), hold=True)
        for event in stream:
            if event.kind == "done":
                print(stream.pid, flush=True)
                break
        import time
        time.sleep(60)
        """
    )
    reaper = textwrap.dedent(
        """
        import json, os, signal, subprocess, sys, time
        from timertui._native import lib
        lib.tt_prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
        child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                                 stdout=subprocess.PIPE, text=True)
        worker = int(child.stdout.readline())
        child.kill(); child.wait()
        start = time.monotonic()
        pid, status = os.waitpid(worker, 0)
        print(json.dumps({"pid": pid, "worker": worker, "code": os.waitstatus_to_exitcode(status),
                          "seconds": time.monotonic() - start}))
        """
    )
    tests_dir = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", reaper, caller, tests_dir],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["pid"] == result["worker"]
    assert result["code"] == 1  # left on its own: parent gone
    assert result["seconds"] < 2
    assert_gone(result["worker"])


def test_events_stream_as_json_lines() -> None:
    events = list(run(zoo(), mode="walk"))
    lines = [ev.to_json(e) for e in events]
    decoded = [ev.decode(json.loads(line)) for line in lines]
    assert decoded == events
    assert json.loads(lines[0])["kind"] == "start"
    assert all("t_ns" in json.loads(line) for line in lines)
    times = [e.t_ns for e in events]
    assert times == sorted(times)


def test_alarm_clock_without_support_is_reported_before_and_by_the_kernel() -> None:
    from timertui.capture.host import probe_alarm_timers

    probe = probe_alarm_timers()
    if probe.ok:
        pytest.skip("this host supports alarm timers: nothing to report")
    timers = [timer(1, clock=8), timer(2)]
    planned = build_plan(process(timers), facts=local_facts(probe_alarm=True))
    assert decision(list(planned.decisions), "alarm-unsupported").timer_id == 1
    events = list(run(build_plan(process(timers))))  # no facts: the kernel says it
    found = decision(events, "alarm-unsupported")
    assert found.timer_id == 1
    assert "Can't create posix timer - 0: -95" in found.reason
    (failed,) = [s for s in of(ev.TimerState, events) if s.state == "failed"]
    assert (failed.ids, failed.errno) == ((1,), errno.EOPNOTSUPP)
    assert done(events).verified == 1


def _script_result(code: str) -> Any:
    """The JSON that `code` prints, run by a fresh interpreter with tests/ as argv[1]."""
    tests_dir = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code, tests_dir],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


PRESTART = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from builders import armed, process, timer
from timertui.restore import run
from timertui.restore.native import runner as native
from timertui.restore.plan import build_plan

def children():
    return sorted(int(p) for p in open(f"/proc/self/task/{os.getpid()}/children").read().split())

native.prestart()
spare = children()
many = [timer(i) for i in range(native.PRESTART_MAX_TIMERS + 1)]
big = [e.pid for e in run(build_plan(process(many))) if e.kind == "start"]
small = list(run(build_plan(process([timer(7, values=armed(5000))]))))
native.discard_prestarted()
print(json.dumps({"spare": spare, "big": big, "small": small[0].pid,
                  "ok": small[-1].ok, "after": children()}))
"""


def test_a_prestarted_worker_takes_the_next_small_plan_and_is_reaped() -> None:
    """prestart() forks a worker ahead of its plan: a plan too big to send goes to a fresh
    fork, the next small one to the waiting worker; nothing is left once the runs end."""
    result = _script_result(PRESTART)
    (spare,) = result["spare"]
    assert result["big"] != [spare]
    assert result["small"] == spare
    assert result["ok"]
    assert result["after"] == []
    assert_gone(spare)


FAILING_COMMAND = """
import json, os
from timertui import cli
from timertui.restore.native import runner as native

def children():
    return open(f"/proc/self/task/{os.getpid()}/children").read().split()

real, seen = native.prestart, []

def prestart():
    real()
    seen[:] = children()

native.prestart = prestart
status = cli.main(["restore", "/nonexistent/snap"])
print(json.dumps({"status": status, "seen": seen, "after": children()}))
"""


def test_an_unused_prestarted_worker_is_reaped_when_the_command_fails() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FAILING_COMMAND], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    assert result["status"] == 2
    assert "no such file" in out.stderr
    assert len(result["seen"]) == 1  # the CLI started the worker before parsing
    assert result["after"] == []
    assert_gone(int(result["seen"][0]))


BIG_SOURCE = """
import json, sys
from timertui import cli
from timertui.restore.native import runner as native

real, seen = native.prestart, []

def prestart():
    seen.append(sys.argv[1])
    real()

native.prestart = prestart
status = cli.main(["restore", "--json", sys.argv[1]])
print(json.dumps({"status": status, "prestarts": len(seen)}))
"""


def test_a_big_snapshot_file_gets_no_prestarted_worker(tmp_path: Path) -> None:
    """A prestarted worker takes plans of up to PRESTART_MAX_TIMERS timers only, and forking it
    costs a big restore more than the fork (its shared pages are copied as the command decodes
    and plans): a source file past _PRESTART_MAX_BYTES gets none, and restores all the same."""
    from timertui import snapshot_file
    from timertui.commands import restore as restore_command
    from timertui.model import CaptureTimes, HostFacts, Snapshot

    timers = [timer(i, values=armed(60_000)) for i in range(5_000)]
    snap = Snapshot(
        HostFacts("6", "b", "h", "m", None, 1, 2), CaptureTimes(1, 2, 3), (process(timers),)
    )
    path = tmp_path / "big.ttsnap"
    snapshot_file.save(snap, path)
    assert path.stat().st_size > restore_command._PRESTART_MAX_BYTES
    for source, status in ((path, 0), (tmp_path / "missing.ttsnap", 2)):
        out = subprocess.run(
            [sys.executable, "-c", BIG_SOURCE, str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        result = json.loads(out.stdout.splitlines()[-1])
        assert result["status"] == status, out.stderr
        assert bool(result["prestarts"]) == (status == 2)  # a path that names no file: prestarted


@pytest.mark.parametrize("mode", ["exact", "walk"])
def test_thousands_of_timers_are_reported_by_id_from_spans(mode: str, request: Any) -> None:
    """The worker reports runs of the plan as spans of indices; the stream gives their IDs."""
    if mode == "exact":
        request.getfixturevalue("needs_exact_ids")
    ids = [2 * i for i in range(3_000)]
    plan = build_plan(process([timer(i, values=armed(60_000 * MS)) for i in ids]))
    events = list(run(plan, mode=mode))  # type: ignore[arg-type]
    assert_verified(events, mode)
    created = [i for s in of(ev.TimerState, events) if s.state == "created" for i in s.ids]
    armed_ids = [i for s in of(ev.TimerState, events) if s.state == "armed" for i in s.ids]
    assert created == ids
    assert armed_ids == ids


PRESTART_CPU = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from builders import armed, process, timer
from timertui.restore import run
from timertui.restore.native import runner as native
from timertui.restore.plan import build_plan

native.prestart()
(pid, _, _), = native._prestarted
waiting = sorted(os.sched_getaffinity(pid))
stream = run(build_plan(process([timer(7, values=armed(60_000))])), hold=True)
for event in stream:
    if event.kind == "done":
        break
holding = sorted(os.sched_getaffinity(pid))
stream.close()
print(json.dumps({"waiting": waiting, "holding": holding, "ok": event.ok}))
"""


def test_a_prestarted_worker_runs_off_its_callers_cpu_until_its_plan_comes() -> None:
    """The prestarted worker must run beside its caller: the caller moves it off its own CPU
    at once (Linux often starts a child on its parent's), and the worker, once it has its
    plan, takes its whole affinity back: the restored process keeps none of ours."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("one CPU: nowhere else to run")
    result = _script_result(PRESTART_CPU)
    # Every CPU but one: the caller's then (it may have moved since).
    waiting = set(result["waiting"])
    assert waiting < allowed and len(waiting) == len(allowed) - 1
    assert result["holding"] == sorted(allowed)
    assert result["ok"]
