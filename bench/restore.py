"""Restore speed, next to plain C measured in the same run (bench/ref_timers.c, built by gcc now).

For the seed case (IDs 1,000,000 and 2,000,000) and 10,000 dense timers (IDs 0..9,999):
- exact create phase: the worker's `create` phase against the C loop over the same IDs with
  PR_TIMER_CREATE_RESTORE_IDS on (goal for 10,000 timers: at most 2x C);
- walk per iteration: the worker's create phase per create, forced walk, against the C walk
  (goal: at most 1.15x C);
- end to end: `timertui restore --json FILE` (the installed command; `python -m timertui`
  where it is not installed) from exec to the Verify event (the goal:
  under CRIU 4.2's 43 ms for a whole restore of such a process on this machine) and to exit,
  against the C program doing the same restore from exec to exit.
The interpreter alone (`python -c pass`, and with -I -S) is printed as the floor under Python.
Timers are created only in children: the worker and the C program.

Then the goals of issues 10 and 18, each as figure, reference, ratio, goal, met, from the same
run: a worker server's worker ready (request to first event received) against the command
line's fork start; a 10,000-timer plan handed over (handover.py, through a pipe) against a
pickle of it (dumps + loads); the seed command start to exit against `python -I -S -c pass`
run in turns with it (the same load); the dense 10,000 command start to verified against the C
program.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from timertui import snapshot_file
from timertui.capture.host import capture_times, host_facts, probe_exact_ids
from timertui.model import SIGEV_NONE, ProcessTimers, Snapshot, Timer, TimerValues
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.native.arrays import timer_arrays
from timertui.restore.native.handover import encode_plan, receive_plan, send_plan
from timertui.restore.native.runner import RestoreRun
from timertui.restore.native.server import WorkerServer
from timertui.restore.plan import RunOptions, build_plan

SEED_IDS = (1_000_000, 2_000_000)
DENSE_IDS = tuple(range(10_000))
CRIU_RESTORE_NS = 43_000_000  # CRIU 4.2, whole restore of the seed process (DESIGN.md)
WALK_GOAL = 1.15
EXACT_GOAL = 2.0
HERE = Path(__file__).parent
# The command as users run it: the console script installed beside this interpreter.
_SCRIPT = Path(sys.executable).with_name("timertui")
COMMAND = (str(_SCRIPT),) if _SCRIPT.exists() else (sys.executable, "-m", "timertui")
_MINUTE = 60_000_000_000
# The bare interpreter, the seed command's reference: measured in turns with the command.
FLOOR = "python -I -S -c pass"
FLOOR_ARGV = (sys.executable, "-I", "-S", "-c", "pass")


@dataclass(frozen=True)
class Case:
    name: str
    ids: tuple[int, ...]
    repeats: int  # turns per side for the create phases (the best counts)
    e2e_repeats: int  # runs of the command (the median counts)


# The seed walk takes ~1.3 s a run, so 3 turns; dense runs take milliseconds. The commands run
# a few dozen times: their medians decide goals within a few percent on a noisy machine.
CASES = (Case("seed", SEED_IDS, 3, 31), Case("dense 10,000", DENSE_IDS, 9, 15))


@dataclass(frozen=True)
class Row:
    case: str
    measure: str
    ours_ns: float
    ref_ns: float
    goal: str = ""
    met: bool | None = None


def build_ref(directory: Path, name: str = "ref_timers") -> Path:
    """Compile the C reference bench/NAME.c with the same flags as the worker's loops."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise RuntimeError("no C compiler (gcc/cc) for the reference loops")
    exe = directory / name
    subprocess.run([gcc, "-O2", "-o", str(exe), str(HERE / f"{name}.c")], check=True)
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


def _env() -> dict[str, str]:
    # As users run it: byte-code caches written and used (the harness may turn them off).
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def spawn_wall(argv: Sequence[str]) -> int:
    """Wall ns of one run of argv, from posix_spawn to reaped, output to /dev/null."""
    start = time.monotonic_ns()
    pid = os.posix_spawn(
        argv[0],
        list(argv),
        _env(),
        file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
    )
    _, status = os.waitpid(pid, 0)
    wall = time.monotonic_ns() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed with status {status}")
    return wall


@dataclass(frozen=True)
class CommandTimes:
    """One `timertui restore --json` run, ns from exec: the run's start in the parent (imports,
    arguments, snapshot, plan done; Start.monotonic_ns), the worker's Start event, the Verify
    event and the exit. Event times come to our clock through Start.monotonic_ns."""

    run: int
    worker: int
    verified: int
    exited: int


def command_times(path: Path) -> CommandTimes:
    """The times of one run of `timertui restore --json PATH`."""
    argv = [*COMMAND, "restore", "--json", str(path)]
    start = time.monotonic_ns()
    out = subprocess.run(argv, capture_output=True, text=True, env=_env(), check=False)
    wall = time.monotonic_ns() - start
    if out.returncode != 0:
        raise RuntimeError(f"timertui restore {path} failed ({out.returncode}): {out.stderr}")
    events = [ev.decode(json.loads(line)) for line in out.stdout.splitlines()]
    first = events[0]
    verify = next(e for e in events if isinstance(e, ev.Verify))
    if not isinstance(first, ev.Start) or not first.monotonic_ns:
        raise RuntimeError("the event stream does not start with a timed Start event")
    run = first.monotonic_ns - start
    return CommandTimes(run, run + first.t_ns, run + verify.t_ns, wall)


def paired(
    ours: Callable[[], float], ref: Callable[[], float], repeats: int
) -> tuple[float, float]:
    """Best of `repeats` for both sides, run in turns so both meet the same machine load."""
    ours_runs, ref_runs = [], []
    for _ in range(repeats):
        ours_runs.append(ours())
        ref_runs.append(ref())
    return min(ours_runs), min(ref_runs)


def median(samples: Callable[[], float], repeats: int) -> float:
    return statistics.median(samples() for _ in range(repeats))


def create_rows(ref: Path, case: str, ids: Sequence[int], repeats: int, exact: bool) -> list[Row]:
    """The create phases (exact when the kernel has it, walk) next to the C loops."""
    rows: list[Row] = []
    dense = len(ids) >= 1000
    if exact:
        ours, theirs = paired(
            lambda: native_create(ids, "exact")[0],
            lambda: ref_run(ref, "exact", ids)["ns"],
            repeats,
        )
        goal, met = ("<= 2x C", ours <= EXACT_GOAL * theirs) if dense else ("", None)
        rows.append(Row(case, "exact create phase", ours, theirs, goal, met))
    ours, theirs = paired(
        lambda: _per_create(native_create(ids, "walk")),
        lambda: _per_create_ref(ref_run(ref, "walk", ids)),
        repeats,
    )
    met = ours <= WALK_GOAL * theirs
    rows.append(Row(case, "walk per iteration", ours, theirs, "<= 1.15x C", met))
    return rows


def command_rows(ref: Path, case: str, ids: Sequence[int], repeats: int, exact: bool) -> list[Row]:
    """The command end to end next to the C program's whole restore, in turns."""
    rows: list[Row] = []
    dense = len(ids) >= 1000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.ttsnap"
        snap = Snapshot(host_facts(probe=False), capture_times(), (seed_process(ids),))
        snapshot_file.save(snap, path)
        command_times(path)  # warm: byte-code caches, page cache
        c_argv = [str(ref), "restore" if exact else "walk", *map(str, ids)]
        times, c_walls, floors = [], [], []
        for _ in range(repeats):
            times.append(command_times(path))
            c_walls.append(spawn_wall(c_argv))
            floors.append(spawn_wall(FLOOR_ARGV))  # the interpreter under the same load
    theirs = statistics.median(c_walls)
    to_verified = _median(times, "verified")
    goal, met = ("", None) if dense else ("< 43 ms (CRIU 4.2)", to_verified < CRIU_RESTORE_NS)
    rows.append(Row(case, "command start to verified, median", to_verified, theirs, goal, met))
    rows.append(Row(case, "command start to exit, median", _median(times, "exited"), theirs))
    PAIRED_FLOORS[case] = statistics.median(floors)
    BREAKDOWNS[case] = {
        "run started (imports, arguments, snapshot, plan)": _median(times, "run"),
        "worker's first event": _median(times, "worker"),
        "verified": to_verified,
    }
    return rows


# Per case, medians of where the end-to-end time goes, and of FLOOR run in turns with the
# command (filled by command_rows).
BREAKDOWNS: dict[str, dict[str, float]] = {}
PAIRED_FLOORS: dict[str, float] = {}


def _median(times: Sequence[CommandTimes], field: str) -> float:
    return float(statistics.median(getattr(t, field) for t in times))


def measure(cases: Sequence[Case]) -> tuple[list[Row], dict[str, float]]:
    exact = probe_exact_ids().ok
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        ref = build_ref(Path(tmp))
        # The commands first: after a walk the kernel goes on freeing its millions of timers
        # (RCU) for a while, which short command runs would meet.
        commands = {c.name: command_rows(ref, c.name, c.ids, c.e2e_repeats, exact) for c in cases}
        for c in cases:
            rows += create_rows(ref, c.name, c.ids, c.repeats, exact) + commands[c.name]
    floors = {
        "python -c pass": median(lambda: spawn_wall([sys.executable, "-c", "pass"]), 9),
        FLOOR: median(lambda: spawn_wall(FLOOR_ARGV), 9),
    }
    return rows, floors


def _per_create(result: tuple[int, int]) -> float:
    return result[0] / result[1]


def _per_create_ref(result: dict[str, int]) -> float:
    return result["ns"] / result["creates"]


def report(rows: Sequence[Row], floors: dict[str, float]) -> str:
    from timertui.commands.output import format_table
    from timertui.words import duration_text

    table = [
        (
            r.case,
            r.measure,
            duration_text(r.ours_ns),
            duration_text(r.ref_ns),
            f"{r.ours_ns / r.ref_ns:.2f}x",
            r.goal,
            "" if r.met is None else ("met" if r.met else "MISSED"),
        )
        for r in rows
    ]
    headers = ("CASE", "MEASURE", "TIMERTUI", "C REF", "RATIO", "GOAL", "")
    lines = [format_table(headers, table, right="TIMERTUI,C REF,RATIO")]
    lines += [f"floor: {name}: {duration_text(ns)}" for name, ns in floors.items()]
    lines += [
        f"floor: {FLOOR}, in turns with the {case} command: {duration_text(ns)}"
        for case, ns in PAIRED_FLOORS.items()
    ]
    lines.append(f"command measured end to end: {' '.join(COMMAND)} restore --json FILE")
    for case, marks in BREAKDOWNS.items():
        steps = ", ".join(f"{name} {duration_text(ns)}" for name, ns in marks.items())
        lines.append(f"{case} end to end, medians from exec: {steps}")
    lines.append(f"CRIU 4.2 whole restore of the seed process: {duration_text(CRIU_RESTORE_NS)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Goal:
    figure: str
    ours_ns: float
    reference: str
    ref_ns: float
    limit: float  # met when ours <= limit x reference

    @property
    def met(self) -> bool:
        return self.ours_ns <= self.limit * self.ref_ns


READY_RUNS = 21
HANDOVER_RUNS = 7


def first_event_ns(stream: Generator[ev.Event, None, None]) -> int:
    """ns from the run's start to its first event in our hands (then the run is closed)."""
    assert isinstance(stream, RestoreRun)
    next(stream)
    ready = time.monotonic_ns() - stream.t0_ns
    stream.close()
    return ready


# The command line's fork start, in a process that loaded what `timertui restore` loads (this
# one has loaded much more, which a fork would copy): first events of forked runs, in ns.
_CLI_FORKS = """
import json, sys, time
from timertui.restore import run
from timertui.restore.plan import build_plan
from timertui.model import SIGEV_NONE, ProcessTimers, Timer, TimerValues
ids, runs = json.loads(sys.argv[1]), int(sys.argv[2])
timers = tuple(Timer(i, 1, SIGEV_NONE, 1, 0, 0, TimerValues(60 * 10**9, 0, 0)) for i in ids)
plan = build_plan(ProcessTimers(1, 0, "seed", ("seed",), 0, "root", "S", (1,), timers))
ready = []
for _ in range(runs):
    stream = run(plan, start="fork")
    next(stream)
    ready.append(time.monotonic_ns() - stream.t0_ns)
    stream.close()
print(json.dumps(ready))
"""


def ready_goal() -> Goal:
    """Median worker ready (first event in the caller's hands): from the server, against forked
    by a process the size of the command line."""
    plan = build_plan(seed_process(SEED_IDS))
    server = WorkerServer.start()
    try:
        first_event_ns(run(plan, start="spawn", server=server))  # warm: the server's imports
        served = [
            first_event_ns(run(plan, start="spawn", server=server)) for _ in range(READY_RUNS)
        ]
    finally:
        server.close()
    argv = [sys.executable, "-c", _CLI_FORKS, json.dumps(SEED_IDS), str(READY_RUNS)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=_env())
    forked = json.loads(out.stdout)
    return Goal(
        "app: worker ready from the server, median",
        statistics.median(served),
        "CLI fork start",
        statistics.median(forked),
        2.0,
    )


def handover_goal() -> Goal:
    """A 10,000-timer plan through a pipe (encoded with its timer arrays, send_plan, receive_plan
    in a thread, as a worker would) against pickle.dumps + pickle.loads of the same plan; best of
    HANDOVER_RUNS."""
    plan = build_plan(seed_process(DENSE_IDS))
    options = RunOptions()

    def handed() -> float:
        r, w = os.pipe()
        got: list[object] = []
        start = time.monotonic_ns()
        reader = threading.Thread(target=lambda: got.append(receive_plan(r)))
        reader.start()
        send_plan(w, encode_plan(plan), options, 0)
        reader.join()
        ns = time.monotonic_ns() - start
        os.close(r)
        os.close(w)
        assert got[0] == (plan, timer_arrays(plan), options, 0)
        return ns

    def pickled() -> float:
        start = time.monotonic_ns()
        pickle.loads(pickle.dumps((plan, options, 0), protocol=5))
        return time.monotonic_ns() - start

    ours, ref = paired(handed, pickled, HANDOVER_RUNS)
    return Goal("app: 10,000-timer plan handed over", ours, "pickle dumps+loads", ref, 2.0)


def command_goals(rows: Sequence[Row]) -> list[Goal]:
    """The command-line goals of issue 10, from measure()'s rows (the seed command against
    FLOOR run in the same turns)."""
    by = {(r.case, r.measure): r for r in rows}
    seed = by[(CASES[0].name, "command start to exit, median")]
    dense = by[(CASES[1].name, "command start to verified, median")]
    floor = PAIRED_FLOORS[CASES[0].name]
    return [
        Goal("CLI seed restore, start to exit", seed.ours_ns, FLOOR, floor, 3.0),
        Goal("CLI dense 10,000 exact, start to verified", dense.ours_ns, "C", dense.ref_ns, 3.0),
    ]


def goals_report(goals: Sequence[Goal]) -> str:
    from timertui.commands.output import format_table
    from timertui.words import duration_text

    table = [
        (
            g.figure,
            duration_text(g.ours_ns),
            f"{duration_text(g.ref_ns)} ({g.reference})",
            f"{g.ours_ns / g.ref_ns:.2f}x",
            f"<= {g.limit:g}x",
            "met" if g.met else "MISSED",
        )
        for g in goals
    ]
    headers = ("GOAL FIGURE", "MEASURED", "REFERENCE", "RATIO", "GOAL", "")
    return format_table(headers, table, right="MEASURED,REFERENCE,RATIO")


def main() -> None:
    rows, floors = measure(CASES)
    print(report(rows, floors))
    print()
    print(goals_report([ready_goal(), handover_goal(), *command_goals(rows)]))
