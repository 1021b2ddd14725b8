"""--host speed, against a throwaway sshd on 127.0.0.1 (bench/loopback_sshd.py) whose python3 is
Debian's: `timertui ps --host` next to the local `timertui ps` plus the ssh connection set-up
measured in the same run (`ssh HOST true`), goal <= 1.5x local + set-up; and a poll of ~2,000
processes over one kept connection (RemoteHost.scan) next to the local poll (processes.scan),
goal <= 2x.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from bench import loopback_sshd, sweep
from timertui.capture import processes
from timertui.remote.reading import RemoteHost

CLI_RUNS = 7
POLL_RUNS = 9
PS_GOAL = 1.5
POLL_GOAL = 2.0
REMOTE_PYTHON = "/usr/bin/python3"


def _interleaved_s(runs: int, *fns: Callable[[], object]) -> list[float]:
    """The median time of each of `fns`, run in turn `runs` times: the machine's load changes
    during a run, and each figure then sees the same share of it."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def main() -> None:
    why = loopback_sshd.available()
    if why is not None:
        print(f"skipped: {why}")
        return
    python = REMOTE_PYTHON if Path(REMOTE_PYTHON).exists() else loopback_sshd.PYTHON39
    with (
        tempfile.TemporaryDirectory() as tmp,
        loopback_sshd.running(Path(tmp), python=python) as server,
        server.ssh_here(),
    ):
        _bench_cli(server, server.env())
        _bench_poll(server)


def _bench_cli(server: loopback_sshd.LoopbackSshd, env: dict[str, str]) -> None:
    ps = [sys.executable, "-m", "timertui", "ps"]
    ssh = ["ssh", "-p", str(server.port), "-o", "BatchMode=yes", "root@127.0.0.1", "true"]
    _run([*ps, "--host", server.host], env)  # the agent sent and cached once
    setup, local, remote = _interleaved_s(
        CLI_RUNS,
        lambda: _run(ssh, env),
        lambda: _run(ps, env),
        lambda: _run([*ps, "--host", server.host], env),
    )
    budget = PS_GOAL * local + setup
    print(f"remote python3: {server.python}; median of {CLI_RUNS} runs, taken in turn")
    print(f"ssh connection set-up (ssh HOST true): {setup * 1e3:.1f} ms")
    print(f"timertui ps: {local * 1e3:.1f} ms")
    print(
        f"timertui ps --host (loopback): {remote * 1e3:.1f} ms = "
        f"{(remote - setup) / local:.2f}x local + set-up "
        f"(goal <= {PS_GOAL}x local + set-up = {budget * 1e3:.1f} ms: {_verdict(remote <= budget)})"
    )


def _bench_poll(server: loopback_sshd.LoopbackSshd) -> None:
    spawn_count = max(0, sweep.TARGET_PROCESSES - len(psutil.pids()))
    pids, hold_w = sweep.spawn(spawn_count)
    try:
        total = len(psutil.pids())
        print(f"{total} processes ({spawn_count} spawned); median of {POLL_RUNS} polls, in turn")
        with RemoteHost(server.host) as there:
            for include_all in (False, True):
                listed = len(there.scan(include_all, include_unreadable=True))
                local, remote = _interleaved_s(
                    POLL_RUNS,
                    lambda a=include_all: processes.scan(a, include_unreadable=True),
                    lambda a=include_all: there.scan(a, include_unreadable=True),
                )
                what = "every process" if include_all else "processes with timers"
                ratio = remote / local
                print(
                    f"poll, {what} ({listed} listed): local {local * 1e3:.1f} ms, "
                    f"over one kept connection {remote * 1e3:.1f} ms = {ratio:.2f}x "
                    f"(goal <= {POLL_GOAL}x: {_verdict(ratio <= POLL_GOAL)})"
                )
    finally:
        sweep.stop(pids, hold_w)


if __name__ == "__main__":
    main()
