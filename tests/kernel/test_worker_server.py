"""The worker server on the real kernel: workers it forks restore like any other, are cancelled,
killed and reaped like any other, and nothing outlives the process that started the server."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import armed, done, of, process, timer
from native_runs import assert_gone, assert_verified, zoo

from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.native.runner import RestoreRun
from timertui.restore.native.server import WorkerServer
from timertui.restore.plan import RestorePlan, build_plan

pytestmark = pytest.mark.usefixtures("needs_proc_timers")

SEED_IDS = [0, 1_000_000, 2_000_000]


@pytest.fixture
def server() -> Iterator[WorkerServer]:
    started = WorkerServer.start()
    yield started
    started.close()
    assert_gone(started.pid)


def served(plan: RestorePlan, server: WorkerServer, **options: object) -> RestoreRun:
    stream = run(plan, start="spawn", server=server, **options)  # type: ignore[arg-type]
    assert isinstance(stream, RestoreRun)
    return stream


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_seed_ids_restore_exactly_in_a_server_worker(
    server: WorkerServer, needs_exact_ids: None
) -> None:
    stream = served(build_plan(process([timer(i) for i in SEED_IDS])), server)
    events = list(stream)
    assert_verified(events, "exact")
    assert stream.served
    # The server's child, reaped by it; its wait status came on the events pipe.
    assert of(ev.Start, events)[0].pid == stream.pid
    assert stream.exit_status == 0
    assert children(server.pid) == []
    assert_gone(stream.pid)
    assert Path("/proc/self/timers").read_text() == ""  # nothing created here


def test_the_zoo_and_10000_dense_timers_verify(server: WorkerServer, needs_exact_ids: None) -> None:
    assert_verified(list(served(zoo(), server)), "exact")
    dense = build_plan(process([timer(i, values=armed(60_000)) for i in range(10_000)]))
    events = list(served(dense, server))
    assert_verified(events, "exact")
    assert done(events).verified == 10_000


def test_cancel_mid_walk_kills_and_reaps(server: WorkerServer) -> None:
    stream = served(build_plan(process([timer(50_000_000)])), server, mode="walk")
    first = next(stream)
    assert isinstance(first, ev.Start)
    assert children(server.pid) == [first.pid]
    threading.Timer(0.05, stream.cancel).start()
    rest = list(stream)
    assert of(ev.Error, rest)[-1].code == "cancelled"
    assert stream.exit_status is not None and os.WTERMSIG(stream.exit_status) == signal.SIGKILL
    assert children(server.pid) == []
    assert_gone(first.pid)


def test_closing_the_stream_kills_and_reaps(server: WorkerServer) -> None:
    stream = served(build_plan(process([timer(50_000_000)])), server, mode="walk")
    pid = next(stream).pid  # type: ignore[attr-defined]
    stream.close()
    assert_gone(pid)
    assert list(stream) == []


def test_a_killed_server_ends_the_run_with_an_error_not_a_hang(server: WorkerServer) -> None:
    stream = served(build_plan(process([timer(50_000_000)])), server, mode="walk")
    first = next(stream)
    assert isinstance(first, ev.Start)
    os.kill(server.pid, signal.SIGKILL)
    started = time.monotonic()
    rest = list(stream)
    assert time.monotonic() - started < 5
    (error,) = of(ev.Error, rest)
    assert error.code == "worker-died" and "worker server is gone" in error.message
    # PR_SET_PDEATHSIG took the worker with the server.
    deadline = time.monotonic() + 5
    while _running(first.pid):
        assert time.monotonic() < deadline, f"worker {first.pid} outlived its server"
        time.sleep(0.01)
    assert not server.alive()


def test_a_dead_server_falls_back_to_spawn(server: WorkerServer) -> None:
    os.kill(server.pid, signal.SIGKILL)
    while server.alive():
        time.sleep(0.01)
    stream = served(build_plan(process([timer(3)])), server)
    events = list(stream)
    assert done(events).ok and not stream.served
    assert_gone(stream.pid)


def test_closing_the_server_ends_its_held_workers(server: WorkerServer) -> None:
    stream = served(build_plan(process([timer(1, values=armed(5, 10))])), server, hold=True)
    for event in stream:
        if isinstance(event, ev.Done):
            break
    worker = stream.pid
    server.close()
    assert_gone(server.pid)
    rest = list(stream)
    assert not _running(worker)
    assert of(ev.Error, rest)[-1].code == "worker-killed"


@pytest.mark.parametrize("mode", ["walk", "exact"])
def test_workers_killed_at_random_points_are_named_and_reaped(
    server: WorkerServer, mode: str, request: pytest.FixtureRequest
) -> None:
    if mode == "exact":
        request.getfixturevalue("needs_exact_ids")
    rng = random.Random(18)
    ids = [0, 400_000] if mode == "walk" else list(range(0, 40_000, 4))
    plan = build_plan(process([timer(i, values=armed(60_000)) for i in ids]))
    outcomes: dict[str, int] = {}
    for _ in range(12):
        stream = served(plan, server, mode=mode)
        first = next(stream)
        assert isinstance(first, ev.Start)
        time.sleep(rng.uniform(0, 0.04))
        os.kill(first.pid, signal.SIGKILL)
        rest = list(stream)
        errors = of(ev.Error, rest)
        if errors:
            assert errors[-1].code == "worker-killed", errors
            assert "SIGKILL" in errors[-1].message
            outcomes["killed"] = outcomes.get("killed", 0) + 1
        else:
            assert done(rest).ok
            outcomes["done first"] = outcomes.get("done first", 0) + 1
        assert_gone(first.pid)
    assert children(server.pid) == []
    assert outcomes.get("killed", 0) >= 3, outcomes


_APP = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from builders import armed, process, timer
    from timertui.restore import run
    from timertui.restore.plan import build_plan
    from timertui.restore.native.server import WorkerServer
    server = WorkerServer.start()
    plan = build_plan(process([timer(1, values=armed(5, 10))]))
    stream = run(plan, hold=True, start="spawn", server=server)
    for event in stream:
        if event.kind == "done":
            print(server.pid, stream.pid, flush=True)
            break
    import time
    time.sleep(60)
    """
)
_REAPER = textwrap.dedent(
    """
    import json, os, subprocess, sys, time
    from timertui._native import lib
    lib.tt_prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the app's orphans come to us
    app = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                           stdout=subprocess.PIPE, text=True)
    server, worker = map(int, app.stdout.readline().split())
    app.kill(); app.wait()
    start = time.monotonic()
    ended = {}
    while True:  # the server at least; its worker too, unless the server reaped it first
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        ended[pid] = os.waitstatus_to_exitcode(status)
    print(json.dumps({"server": server, "worker": worker, "ended": ended,
                      "seconds": time.monotonic() - start}))
    """
)


def test_the_app_killed_leaves_no_server_and_no_worker() -> None:
    """The app is SIGKILLed while a server worker holds: the server dies with it
    (PR_SET_PDEATHSIG), and its worker with the server (or first, at end of file on its control
    pipe); a subreaper adopts and reaps what is orphaned."""
    out = subprocess.run(
        [sys.executable, "-c", _REAPER, _APP, str(Path(__file__).resolve().parent.parent)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result = json.loads(out.stdout)
    assert str(result["server"]) in result["ended"]
    assert result["seconds"] < 2
    assert_gone(result["server"])
    assert_gone(result["worker"])


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_a_dropped_server_handle_ends_and_reaps_its_server() -> None:
    """Tests make many apps and never close their restorers: each server goes with its handle."""
    import gc

    pid = WorkerServer.start().pid
    gc.collect()
    assert_gone(pid)
