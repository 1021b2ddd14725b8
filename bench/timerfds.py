"""Timerfds, next to plain loops measured in the same run: the live read of a process holding
1,000 timerfds against a bare loop reading its fdinfo files (goal <= 1.5x), and a native restore
of 1,000 timerfds (the timerfds phase) against C doing the same syscalls (bench/ref_timerfds.c,
built by gcc now; goal <= 1.5x)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.restore import build_ref
from timertui.capture.timerfds import read_timerfds
from timertui.commands.output import format_table
from timertui.model import O_CLOEXEC, ProcessTimers, TimerFd
from timertui.restore import events as ev
from timertui.restore import run
from timertui.restore.plan import build_plan

COUNT = 1000
FIRST_FD = 10  # fds 10..1009: below the usual RLIMIT_NOFILE of 1024
RUNS = 15
GOAL = 1.5


def bare_read(pid: int) -> int:
    """What any reader pays: list the fds, read every fdinfo file."""
    root = f"/proc/{pid}"
    total = 0
    for name in os.listdir(f"{root}/fd"):  # noqa: PTH208
        fd = os.open(f"{root}/fdinfo/{name}", os.O_RDONLY)
        try:
            total += len(os.read(fd, 4096))
        finally:
            os.close(fd)
    return total


def timed(fn: object, *args: object) -> float:
    t0 = time.perf_counter_ns()
    fn(*args)  # type: ignore[operator]
    return float(time.perf_counter_ns() - t0)


def paired(pid: int) -> tuple[float, float]:
    """Medians of the two reads, taken in turn so a changing load weighs on each alike."""
    ours, bare = [], []
    for _ in range(RUNS):
        bare.append(timed(bare_read, pid))
        ours.append(timed(read_timerfds, pid))
    return statistics.median(ours), statistics.median(bare)


def sweep(ref: Path) -> tuple[float, float]:
    holder = subprocess.Popen(
        [str(ref), "hold", str(COUNT), str(FIRST_FD)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        got = read_timerfds(holder.pid)
        if len(got.timerfds) != COUNT or got.problems:
            raise RuntimeError(f"read {len(got.timerfds)} timerfds of {COUNT}: {got.problems}")
        return paired(holder.pid)
    finally:
        holder.kill()
        holder.wait()


def seed_process() -> ProcessTimers:
    fds = tuple(
        TimerFd(FIRST_FD + i, 1, 0, 0, (100 + i) * 10**9, 100 * 10**9, O_CLOEXEC)
        for i in range(COUNT)
    )
    return ProcessTimers(1, 0, "seed", ("seed",), 0, "root", "S", (1,), (), timerfds=fds)


def native_phase() -> float:
    events = list(run(build_plan(seed_process())))
    done = next(e for e in events if isinstance(e, ev.Done))
    if not done.ok:
        raise RuntimeError(f"native restore of {COUNT} timerfds did not verify")
    return float(done.phases["timerfds"])


def ref_restore(ref: Path) -> float:
    out = subprocess.run(
        [str(ref), "restore", str(COUNT), str(FIRST_FD)], capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout)["ns"])


def restore(ref: Path) -> tuple[float, float]:
    ours, c = [], []
    for _ in range(7):
        c.append(ref_restore(ref))
        ours.append(native_phase())
    return statistics.median(ours), statistics.median(c)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ref = build_ref(Path(tmp), "ref_timerfds")
        rows = []
        for figure, (ours, reference) in (
            (f"read {COUNT:,} timerfds (read_timerfds vs bare fdinfo loop)", sweep(ref)),
            (f"native restore of {COUNT:,} timerfds (timerfds phase vs C)", restore(ref)),
        ):
            ratio = ours / reference
            rows.append(
                (
                    figure,
                    f"{ours / 1e6:.2f} ms",
                    f"{reference / 1e6:.2f} ms",
                    f"{ratio:.2f}x",
                    f"<= {GOAL}x",
                    "met" if ratio <= GOAL else "MISSED",
                )
            )
    headers = ("GOAL FIGURE", "MEASURED", "REFERENCE", "RATIO", "GOAL", "")
    print(format_table(headers, rows, right="MEASURED,REFERENCE,RATIO"))


if __name__ == "__main__":
    main()
