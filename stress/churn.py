"""Process churn under the scanner: short-lived processes (one in four holding timers) start and
end while `processes.scan()` runs in a loop, `read_process` reads one of them and a deep capture
is tried on another, as the TUI and `show --deep` would.

Every sweep must finish without an exception, and no sweep may list a process that was gone
(reaped) before the previous sweep started. pid_max may be small (32,768 here), so pids come
round again within a run: each child names itself (its comm) and rows are matched by name.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import select
import time
from dataclasses import dataclass, field
from pathlib import Path

from stress import procs
from timertui import _native
from timertui.capture import inject, processes
from timertui.errors import InputError
from timertui.model import SIGEV_NONE

_MAX_ALIVE = 48
_LIFE_S = 0.02
_PREFIX = "ttchurn-"


@dataclass
class ChurnTally:
    processes: int = 0  # short-lived processes started and reaped
    with_timers: int = 0  # of which created timers
    sweeps: int = 0
    timer_rows: int = 0  # rows of churned processes with their timers, over all sweeps
    stale_rows: int = 0  # rows of a process reaped before the previous sweep started
    reads: int = 0  # read_process calls on churned pids
    captures: int = 0  # deep captures tried on churned pids
    orphans: int = 0  # churned processes still there at the end
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _child(index: int, timers: int, life_s: float) -> None:  # pragma: no cover - child
    Path("/proc/self/comm").write_text(f"{_PREFIX}{index}")
    for _ in range(timers):
        _native.timer_create(1, SIGEV_NONE, 0, 0)  # CLOCK_MONOTONIC, never armed
    time.sleep(life_s)


def _spawner(count: int, seconds: float, seed: int, out_fd: int) -> None:  # pragma: no cover
    """Start `count` children (or as many as fit in `seconds`), at most _MAX_ALIVE at once,
    and report each start ("S index pid timers") and reap ("R index time_ns")."""
    rng = random.Random(seed)
    alive: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    started = 0

    def report(line: str) -> None:
        os.write(out_fd, line.encode() + b"\n")

    while alive or (started < count and time.monotonic() < deadline):
        if len(alive) < _MAX_ALIVE and started < count and time.monotonic() < deadline:
            timers = rng.choice((1, 2, 3)) if rng.random() < 0.25 else 0
            life = rng.uniform(0, _LIFE_S)
            pid = procs.fork(functools.partial(_child, started, timers, life))
            alive[pid] = started
            report(f"S {started} {pid} {timers}")
            started += 1
        while alive:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if not pid:
                break
            report(f"R {alive.pop(pid)} {time.monotonic_ns()} {os.waitstatus_to_exitcode(status)}")
        time.sleep(0.0005 if len(alive) >= _MAX_ALIVE else 0)


def churn(count: int, seconds: float, seed: int) -> ChurnTally:
    """Up to `count` short-lived processes within `seconds` while we sweep. Call from a
    single-threaded process: the spawner is forked from it."""
    tally = ChurnTally()
    read_fd, write_fd = os.pipe()

    def spawn() -> None:  # pragma: no cover - the spawner
        os.close(read_fd)
        _spawner(count, seconds, seed, write_fd)

    spawner = procs.fork(spawn)
    os.close(write_fd)
    started_at = time.perf_counter()
    rng = random.Random(seed + 1)
    pending = b""
    starts: dict[int, tuple[int, int]] = {}  # index -> (pid, timers)
    reaped: dict[int, int] = {}  # index -> reap time
    sweeps: list[tuple[int, set[int]]] = []  # (start ns, indexes of churned rows)
    ended = False
    try:
        while not ended:
            sweeps.append(_sweep(tally, len(sweeps) % 2 == 1))
            ready = select.select([read_fd], [], [], 0)[0]
            if ready:
                data = os.read(read_fd, 1 << 16)
                ended = not data
                lines, _, pending = (pending + data).rpartition(b"\n")
                for line in lines.split(b"\n") if lines else ():
                    _record(line.decode().split(), starts, reaped, tally)
            recent = [i for i in list(starts)[-16:] if i not in reaped]
            if recent:
                index = rng.choice(recent)
                _poke(index, starts[index][0], tally)
    finally:
        os.close(read_fd)
        _, status = os.waitpid(spawner, 0)
    if status:
        tally.failures.append(f"the spawner ended with status {os.waitstatus_to_exitcode(status)}")
    _judge(tally, starts, reaped, sweeps)
    tally.sweeps = len(sweeps)
    tally.seconds = time.perf_counter() - started_at
    return tally


def _judge(
    tally: ChurnTally,
    starts: dict[int, tuple[int, int]],
    reaped: dict[int, int],
    sweeps: list[tuple[int, set[int]]],
) -> None:
    """Counts, stale rows (a process reaped before the sweep before listed), and leftovers."""
    tally.processes = len(reaped)
    tally.with_timers = sum(1 for _, timers in starts.values() if timers)
    if len(reaped) != len(starts):
        tally.failures.append(f"{len(starts)} processes started, {len(reaped)} reaped")
    for (_, rows), (previous, _) in zip(sweeps[1:], sweeps, strict=False):
        stale = [i for i in rows if i in reaped and reaped[i] < previous]
        tally.stale_rows += len(stale)
        if stale:
            tally.failures.append(f"sweep lists processes reaped before the sweep before: {stale}")
    names = {f"{_PREFIX}{i}" for i in starts}
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() in names:
                tally.orphans += 1


def _sweep(tally: ChurnTally, include_all: bool) -> tuple[int, set[int]]:
    start = time.monotonic_ns()
    try:
        found = processes.scan(include_all=include_all)
    except Exception as exc:
        tally.failures.append(f"scan raised {type(exc).__name__}: {exc}")
        return start, set()
    rows = set()
    for proc in found:
        if proc.comm.startswith(_PREFIX) and proc.comm[len(_PREFIX) :].isdigit():
            rows.add(int(proc.comm[len(_PREFIX) :]))
            tally.timer_rows += bool(proc.timers)
    return start, rows


def _record(
    fields: list[str],
    starts: dict[int, tuple[int, int]],
    reaped: dict[int, int],
    tally: ChurnTally,
) -> None:
    if fields[0] == "S":
        starts[int(fields[1])] = (int(fields[2]), int(fields[3]))
    else:
        reaped[int(fields[1])] = int(fields[2])
        if fields[3] != "0":
            tally.failures.append(f"churned process {fields[1]} ended with status {fields[3]}")


def _poke(index: int, pid: int, tally: ChurnTally) -> None:
    """What `show` and a deep capture do to a process that may be on its way out. Only while
    the pid is still that child's (pids come round again: never capture a stranger)."""
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != f"{_PREFIX}{index}":
            return
    except OSError:
        return
    tally.reads += 1
    try:
        processes.read_process(pid)
    except InputError:
        pass  # NoSuchProcess: gone already
    except Exception as exc:
        tally.failures.append(f"read_process({pid}) raised {type(exc).__name__}: {exc}")
    tally.captures += 1
    try:
        inject.capture_values(pid)
    except Exception as exc:
        tally.failures.append(f"capture_values({pid}) raised {type(exc).__name__}: {exc}")
