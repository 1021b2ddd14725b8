"""Restore speed, next to plain C measured in the same run (bench/ref_timers.c, built by gcc now).

For the seed case (IDs 1,000,000 and 2,000,000) and 10,000 dense timers (IDs 0..9,999):
- exact create phase: the worker's `create` phase against the C loop over the same IDs with
  PR_TIMER_CREATE_RESTORE_IDS on (goal for 10,000 timers: at most 2x C);
- walk per iteration: the worker's create phase per create, forced walk, against the C walk
  (goal: at most 1.15x C);
- end to end: `python -m timertui restore FILE` from exec to exit (so command start to verified
  plus printing the report), against the C program doing the same restore from exec to exit, and
  against CRIU 4.2's 43 ms for a whole restore of such a process on this machine (the goal).
The interpreter alone (`python -c pass`, and with -I -S) is printed as the floor under Python.
Timers are created only in children: the worker and the C program.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from timertui import snapshot
from timertui.capture.host import capture_times, host_facts, probe_exact_ids
from timertui.model import SIGEV_NONE, ProcessTimers, Snapshot, Timer, TimerValues
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.plan import build_plan

SEED_IDS = (1_000_000, 2_000_000)
DENSE_IDS = tuple(range(10_000))
CRIU_RESTORE_NS = 43_000_000  # CRIU 4.2, whole restore of the seed process (DESIGN.md)
WALK_GOAL = 1.15
EXACT_GOAL = 2.0
HERE = Path(__file__).parent
_MINUTE = 60_000_000_000


@dataclass(frozen=True)
class Row:
    case: str
    measure: str
    ours_ns: float
    ref_ns: float
    goal: str = ""
    met: bool | None = None


def build_ref(directory: Path) -> Path:
    """Compile the C reference with the same flags as the worker's loops."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise RuntimeError("no C compiler (gcc/cc) for the reference loops")
    exe = directory / "ref_timers"
    subprocess.run([gcc, "-O2", "-o", str(exe), str(HERE / "ref_timers.c")], check=True)
    return exe


def ref_run(exe: Path, mode: str, ids: Sequence[int]) -> dict[str, int]:
    out = subprocess.run(
        [str(exe), mode, *map(str, ids)], capture_output=True, text=True, check=True
    )
    result: dict[str, int] = json.loads(out.stdout)
    return result


def seed_process(ids: Sequence[int]) -> ProcessTimers:
    """A process with SIGEV_NONE MONOTONIC timers at `ids`, armed a minute out."""
    values = TimerValues(_MINUTE, 0, 0)
    timers = tuple(Timer(i, 1, SIGEV_NONE, 1, 0, 0, values) for i in ids)
    return ProcessTimers(1, 0, "seed", ("seed",), 0, "root", "S", (1,), timers)


def native_create(ids: Sequence[int], mode: str) -> tuple[int, int]:
    """(create phase ns, creates) of one native restore, checked to have verified."""
    events = list(run(build_plan(seed_process(ids)), mode=mode))  # type: ignore[arg-type]
    done = next(e for e in events if isinstance(e, ev.Done))
    if not done.ok:
        raise RuntimeError(f"native {mode} restore of {len(ids)} timers did not verify")
    return done.phases["create"], done.creates


def spawn_wall(argv: Sequence[str]) -> int:
    """Wall ns of one run of argv, from posix_spawn to reaped, output to /dev/null."""
    start = time.perf_counter_ns()
    pid = os.posix_spawn(
        argv[0],
        list(argv),
        os.environ,
        file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
    )
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter_ns() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed with status {status}")
    return wall


def best(samples: Callable[[], float], repeats: int) -> float:
    return min(samples() for _ in range(repeats))


def median(samples: Callable[[], float], repeats: int) -> float:
    return statistics.median(samples() for _ in range(repeats))


def measure(
    cases: Sequence[tuple[str, Sequence[int]]], repeats: int, e2e_repeats: int
) -> tuple[list[Row], dict[str, float]]:
    exact = probe_exact_ids().ok
    rows: list[Row] = []
    floors: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ref = build_ref(Path(tmp))
        for case, ids in cases:
            dense = len(ids) >= 1000
            if exact:
                ours = best(lambda: native_create(ids, "exact")[0], repeats)
                theirs = best(lambda: ref_run(ref, "exact", ids)["ns"], repeats)
                goal, met = ("<= 2x C", ours <= EXACT_GOAL * theirs) if dense else ("", None)
                rows.append(Row(case, "exact create phase", ours, theirs, goal, met))
            ours = best(lambda: _per_create(native_create(ids, "walk")), repeats)
            theirs = best(lambda: _per_create_ref(ref_run(ref, "walk", ids)), repeats)
            rows.append(
                Row(case, "walk per iteration", ours, theirs, "<= 1.15x C", ours <= WALK_GOAL * theirs)
            )
            path = Path(tmp) / f"{len(ids)}.ttsnap"
            snap = Snapshot(host_facts(probe=False), capture_times(), (seed_process(ids),))
            snapshot.save(snap, path)
            command = [sys.executable, "-m", "timertui", "restore", str(path)]
            ours = median(lambda: spawn_wall(command), e2e_repeats)
            mode = "restore" if exact else "walk"
            theirs = median(lambda: spawn_wall([str(ref), mode, *map(str, ids)]), e2e_repeats)
            goal, met = ("< 43 ms (CRIU 4.2)", ours < CRIU_RESTORE_NS) if not dense else ("", None)
            rows.append(Row(case, "end to end, median", ours, theirs, goal, met))
        floors["python -c pass"] = median(lambda: spawn_wall([sys.executable, "-c", "pass"]), 9)
        floors["python -I -S -c pass"] = median(
            lambda: spawn_wall([sys.executable, "-I", "-S", "-c", "pass"]), 9
        )
    return rows, floors


def _per_create(result: tuple[int, int]) -> float:
    return result[0] / result[1]


def _per_create_ref(result: dict[str, int]) -> float:
    return result["ns"] / result["creates"]


def _fmt(ns: float) -> str:
    if ns < 10_000:
        return f"{ns:,.0f} ns"
    if ns < 10_000_000:
        return f"{ns / 1e3:,.1f} us"
    return f"{ns / 1e6:,.1f} ms"


def report(rows: Sequence[Row], floors: dict[str, float]) -> str:
    from timertui.commands.output import format_table

    table = [
        (
            r.case,
            r.measure,
            _fmt(r.ours_ns),
            _fmt(r.ref_ns),
            f"{r.ours_ns / r.ref_ns:.2f}x",
            r.goal,
            "" if r.met is None else ("met" if r.met else "MISSED"),
        )
        for r in rows
    ]
    headers = ("CASE", "MEASURE", "TIMERTUI", "C REF", "RATIO", "GOAL", "")
    lines = [format_table(headers, table, right="TIMERTUI,C REF,RATIO")]
    lines += [f"floor: {name}: {_fmt(ns)}" for name, ns in floors.items()]
    lines.append(f"CRIU 4.2 whole restore of the seed process: {_fmt(CRIU_RESTORE_NS)}")
    return "\n".join(lines)


def main() -> None:
    rows, floors = measure((("seed", SEED_IDS), ("dense 10,000", DENSE_IDS)), 3, 15)
    print(report(rows, floors))
