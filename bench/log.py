"""Reading a 100 MB CRIU -v4 restore log (`timertui log`'s reader): its time against a bare Python
loop over the same file's lines (goal <= 2x), and its extra peak RSS (goal < 50 MiB).

The log is made here from the real restore.log of ../shared/fixtures/podman-checkpoint (CRIU 4.2,
-v4): its start (kernel features, images, namespaces) once, then its one task's part ("Forking
task with 1 pid" to the restorer's "Restored") again and again as tasks 2, 3, ... with their
pids in every prefix, then its end ("Restore finished successfully", stats). Times go up as the
real ones did between those lines. A big tree's log looks like this: per-task lines, few errors.

Each read runs in a fresh process that reports its time and its peak RSS over what it held
before (VmHWM, reset through /proc/self/clear_refs); the bare loop runs the same way, in the same
run, alternating with it; medians of five.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.peak_rss import PREAMBLE, PRINT, START

FIXTURE = (
    Path(__file__).resolve().parents[2] / "shared/fixtures/podman-checkpoint/criu-logs/restore.log"
)
SIZE = 100 * 10**6
RUNS = 5
RATIO_GOAL = 2.0
RSS_GOAL_MIB = 50

_CHILD = (
    PREAMBLE
    + "from timertui.criulog.reader import read_log\n"
    + START
    + """
if sys.argv[2] == "bare":
    n = 0
    with open(sys.argv[1], "rb") as f:
        for line in f:
            n += 1
else:
    with open(sys.argv[1], "rb") as f:
        report = read_log(f, sys.argv[1])
    assert report.outcome == "succeeded" and len(report.tasks) > 1000, report.outcome
"""
    + PRINT
)
_TIME = re.compile(rb"^\((\d+)\.(\d+)\) ")


def _times(lines: list[bytes]) -> list[float]:
    out, last = [], 0.0
    for line in lines:
        m = _TIME.match(line)
        last = int(m[1]) + int(m[2]) / 1e6 if m else last
        out.append(last)
    return out


def write_log(path: Path, size: int = SIZE) -> int:
    """A restore log of about `size` bytes; how many tasks it restores."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    fork = next(i for i, line in enumerate(lines) if b"Forking task with 1 pid" in line)
    done = next(i for i, line in enumerate(lines) if b"pie: 1: 1: Restored" in line) + 1
    head, task, tail = lines[:fork], lines[fork:done], lines[done:]
    times = _times(lines)
    gaps = [
        max(0.0, b - a) for a, b in zip(times[fork - 1 : done - 1], times[fork:done], strict=True)
    ]
    pid_prefix = re.compile(rb"^(\(\d+\.\d+\) )(?:     1: |pie: 1: (?:1: )?)")
    clock = times[fork - 1]
    written = 0
    tasks = 0

    with path.open("wb") as out:
        out.writelines(head)
        written = sum(map(len, head))
        while written < size - 100_000:
            tasks += 1
            pid = tasks
            for line, gap in zip(task, gaps, strict=True):
                clock += gap / 50  # a big tree's tasks are restored faster than one alone
                piece = _as_task(line, pid, clock, pid_prefix) if _TIME.match(line) else line
                out.write(piece)
                written += len(piece)
        for line in tail:
            clock += 0.00001
            out.write(_stamp(line, clock) if _TIME.match(line) else line)
    return tasks


def _as_task(line: bytes, pid: int, clock: float, pid_prefix: re.Pattern[bytes]) -> bytes:
    """The fixture's line of task 1 as task `pid`'s, at `clock`."""
    line = _stamp(line, clock)
    m = pid_prefix.match(line)
    if m:
        rest = line[m.end() :]
        if b"pie: 1: 1: Restored" in line:
            return m[1] + b"pie: %d: %d: Restored\n" % (pid, pid)
        if b"pie:" in m[0]:
            return m[1] + b"pie: %d: " % pid + rest
        return m[1] + b"%6d: " % pid + rest
    if line[12:].startswith(b"Forking task with 1 pid"):
        return line.replace(b"with 1 pid", b"with %d pid" % pid)
    return line


def _stamp(line: bytes, at: float) -> bytes:
    return b"(%02d.%06d) " % (int(at), round((at % 1) * 1e6)) + line[12:]


def _run(path: Path, what: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), what],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    seconds, mib = done.stdout.split()
    return float(seconds), float(mib)


def main() -> None:
    if not FIXTURE.is_file():
        print(f"skipped: {FIXTURE} missing")
        return
    with tempfile.TemporaryDirectory(prefix="bench-log-") as tmp:
        path = Path(tmp) / "restore.log"
        tasks = write_log(path)
        lines = sum(1 for _ in path.open("rb"))
        print(
            f"made: {path.stat().st_size / 1e6:.0f} MB, {lines:,} lines, a restore of "
            f"{tasks:,} tasks at -v4"
        )
        bare, read, rss = [], [], []
        for _ in range(RUNS):
            bare.append(_run(path, "bare")[0])
            seconds, mib = _run(path, "read")
            read.append(seconds)
            rss.append(mib)
        b, r, m = statistics.median(bare), statistics.median(read), statistics.median(rss)
        ratio = r / b
        print(f"{'what':34} {'s':>7} {'reference s':>12} {'ratio':>6} {'extra RSS MiB':>14}")
        print(
            f"{'read_log (timertui log)':34} {r:7.3f} {b:12.3f} {ratio:6.2f} {m:14.1f}  "
            f"(goal <= {RATIO_GOAL}x: {'met' if ratio <= RATIO_GOAL else 'missed'}; "
            f"< {RSS_GOAL_MIB} MiB: {'met' if m < RSS_GOAL_MIB else 'missed'})"
        )
        print("reference: `for line in open(path, 'rb')` counting lines, in a fresh process")


if __name__ == "__main__":
    main()
