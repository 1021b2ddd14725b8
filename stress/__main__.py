"""`make stress` (`python -m stress`): the long reliability runs, and a table of what they found.

    python -m stress                      everything at full size (about 10 minutes)
    python -m stress fuzz [--cases N] [--only snapshot,images,json,timers] [--json]
    python -m stress kills [--points N] [--only snapshot,walk,exact,capture] [--json]
    python -m stress churn [--count N] [--seconds S] [--json]

The CI tests run the same code at small sizes (tests/unit/test_fuzz.py,
tests/kernel/test_faults.py). Exit status 1 when anything failed, was orphaned or lost. Failing
fuzz inputs are written to stress-failures/ for reproduction.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stress import churn, fuzz, kills, procs

FUZZ_KEYS = {
    "snapshot": "snapshot decoder",
    "images": "CRIU images",
    "json": "crit JSON",
    "timers": "/proc timers parser",
    "archives": "checkpoint archives",
    "logs": "CRIU logs",
    "fdinfo": "timerfd fdinfo",
}
KILL_KINDS = ("snapshot", "walk", "exact", "capture")
# make stress: 100,000 cases per fuzz target, 10,000 kill points, 30 s of churn.
FULL_FUZZ = 100_000
FULL_KILLS = {"snapshot": 5_000, "walk": 2_000, "exact": 2_000, "capture": 1_000}
FULL_CHURN_S = 30.0
FAILURES_DIR = Path("stress-failures")


@dataclasses.dataclass(frozen=True)
class Row:
    run: str
    cases: int
    failures: int
    orphans: int | None
    lost: int | None
    seconds: float
    note: str = ""


@contextlib.contextmanager
def _workload() -> Iterator[tuple[tuple[Any, ...], tuple[str, ...]]]:
    """The demo workload's zoo, captured deep, and its /proc timers text: more real samples
    (every clock and notify kind); nothing when the kernel cannot run it."""
    from timertui import demo, errors
    from timertui.capture import host, processes
    from timertui.capture.inject import attach_values
    from timertui.model import Snapshot

    try:
        proc = demo.spawn_workload((0, 5, 1000), zoo=True)
        pid = demo.read_ready_pid(proc)
    except errors.InputError as exc:
        print(f"(no demo workload for extra samples: {exc})", file=sys.stderr)
        yield (), ()
        return
    try:
        deep, _ = attach_values(processes.read_process(pid))
        snap = Snapshot(host.host_facts(probe=False), host.capture_times(), (deep,))
        text = Path(f"/proc/{pid}/timers").read_text()
    finally:
        demo.stop_workload(proc)
    yield (snap,), (text,)


def run_fuzz(cases: int, keys: list[str], seed: int) -> list[fuzz.Tally]:
    with procs.scratch_dir(on_disk=False) as work, _workload() as (snaps, texts):
        chosen = {FUZZ_KEYS[k] for k in keys}
        tallies = []
        for target in fuzz.targets(work, snaps, texts):
            if target.name in chosen:
                tallies.append(fuzz.run(target, cases, seed))
                target.close()
        return tallies


def run_kills(points: dict[str, int], seed: int) -> list[kills.KillTally]:
    tallies = []
    with procs.scratch_dir(on_disk=True) as work:
        if points.get("snapshot"):
            tallies.append(kills.snapshot_writes(points["snapshot"], seed, work))
        for mode in ("walk", "exact"):
            if points.get(mode):
                tallies.append(kills.restore_kills(points[mode], seed, mode))
        if points.get("capture"):
            binary = kills.build_inject_target(work)
            tallies.append(kills.capture_kills(points["capture"], seed, binary))
    return tallies


def fuzz_row(t: fuzz.Tally) -> Row:
    return Row(
        f"fuzz: {t.name}", t.cases, len(t.failures), None, None, t.seconds,
        f"{t.accepted:,} accepted, {t.rejected:,} rejected, slowest {t.slowest_ns / 1e6:.1f} ms",
    )  # fmt: skip


def kill_row(t: kills.KillTally) -> Row:
    outcomes = ", ".join(f"{n:,} {what}" for what, n in t.outcomes.most_common())
    litter = f"; {t.litter} temp file(s) left beside it" if t.litter else ""
    return Row(
        f"kill: {t.name}", t.points, len(t.failures), t.orphans, t.lost_files, t.seconds,
        outcomes + litter,
    )  # fmt: skip


def churn_row(t: churn.ChurnTally) -> Row:
    return Row(
        "churn: scanner under process churn", t.processes, len(t.failures), t.orphans,
        None, t.seconds,
        f"{t.with_timers:,} with timers, {t.sweeps:,} sweeps, {t.timer_rows:,} timer rows seen, "
        f"{t.stale_rows} stale rows, {t.reads:,} reads, {t.captures:,} captures",
    )  # fmt: skip


def table(rows: list[Row]) -> str:
    def num(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    head = f"{'run':44} {'cases':>9} {'failures':>8} {'orphans':>7} {'lost files':>10} {'time':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.run:44} {r.cases:>9,} {r.failures:>8,} {num(r.orphans):>7} {num(r.lost):>10} "
            f"{r.seconds:>6.1f}s"
        )
        if r.note:
            lines.append(f"    {r.note}")
    total = Row(
        "total", sum(r.cases for r in rows), sum(r.failures for r in rows),
        sum(r.orphans or 0 for r in rows), sum(r.lost or 0 for r in rows),
        sum(r.seconds for r in rows),
    )  # fmt: skip
    lines += ["-" * len(head), f"{total.run:44} {total.cases:>9,} {total.failures:>8,} "
              f"{total.orphans:>7,} {total.lost:>10,} {total.seconds:>6.1f}s"]  # fmt: skip
    return "\n".join(lines)


def _details(tallies: list[Any]) -> list[str]:
    lines = []
    for t in tallies:
        for f in t.failures[:10]:
            text = f"{f.kind} [{f.label}] {f.detail}" if isinstance(f, fuzz.Failure) else f
            lines.append(f"  {getattr(t, 'name', 'churn')}: {text}")
    return lines


def _as_json(tallies: list[Any]) -> str:
    def plain(obj: Any) -> Any:
        # not dataclasses.asdict: it rebuilds a Counter from (key, count) pairs as keys
        if dataclasses.is_dataclass(obj):
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        if isinstance(obj, bytes):
            return obj[:4096].hex()
        raise TypeError(type(obj).__name__)

    return json.dumps([plain(t) for t in tallies], default=plain)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--json", action="store_true", help="the tallies as JSON, no table")
    sub = parser.add_subparsers(dest="what")
    f = sub.add_parser("fuzz")
    f.add_argument("--cases", type=int, default=FULL_FUZZ)
    f.add_argument("--only", default=",".join(FUZZ_KEYS))
    k = sub.add_parser("kills")
    k.add_argument("--points", type=int, help="per kind (default: the full run's split)")
    k.add_argument("--only", default=",".join(KILL_KINDS))
    c = sub.add_parser("churn")
    c.add_argument("--count", type=int, default=1_000_000)
    c.add_argument("--seconds", type=float, default=FULL_CHURN_S)
    args = parser.parse_args(argv)

    tallies: list[Any] = []
    rows: list[Row] = []
    if args.what in (None, "fuzz"):
        cases = args.cases if args.what else FULL_FUZZ
        keys = args.only.split(",") if args.what else list(FUZZ_KEYS)
        found = run_fuzz(cases, keys, args.seed)
        tallies += found
        rows += map(fuzz_row, found)
        failures = [fl for t in found for fl in t.failures]
        if failures:
            fuzz.save_failures(failures, FAILURES_DIR)
    if args.what in (None, "kills"):
        kinds = args.only.split(",") if args.what else list(KILL_KINDS)
        points = {
            kind: (args.points if args.what and args.points else FULL_KILLS[kind]) for kind in kinds
        }
        found_kills = run_kills(points, args.seed)
        tallies += found_kills
        rows += map(kill_row, found_kills)
    if args.what in (None, "churn"):
        count = args.count if args.what else 1_000_000
        seconds = args.seconds if args.what else FULL_CHURN_S
        found_churn = churn.churn(count, seconds, args.seed)
        tallies.append(found_churn)
        rows.append(churn_row(found_churn))
    if args.json:
        print(_as_json(tallies))
    else:
        print(table(rows))
        details = _details(tallies)
        if details:
            print("\nfailures (first 10 of each run):")
            print("\n".join(details))
    bad = sum(r.failures + (r.orphans or 0) + (r.lost or 0) for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
