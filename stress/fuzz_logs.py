"""Mutation fuzzing of the CRIU log reader (`criulog.open_logs` on a file, and the text
`timertui log` prints of what it accepted), from the real -v4 logs of ../shared/fixtures plus
lines every known error rule matches: bytes flipped, cut, spliced; lines dropped, doubled,
swapped, made huge, stripped of their time; times and pids given edge values."""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

from stress.fuzz import Case, Mutator, Target
from timertui import criulog
from timertui.commands import log as log_command

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures"
LOGS = (
    FIXTURES / "criu-timerfd-itimer/images/restore.log",
    FIXTURES / "criu-timerfd-itimer/images/dump.log",
    FIXTURES / "podman-checkpoint/criu-logs/restore.log",
)
KNOWN = (
    b"(00.004000) pie: 77: Error (criu/pie/restorer.c:1293): Can't create posix timer - 0: -11\n"
    b"(00.004001) pie: 77: Error (criu/pie/restorer.c:2201): Can't restore posix timers -1\n"
    b"(00.004002)     77: Error (criu/timer.c:45): Invalid timer value\n"
    b"(00.004003) Error (criu/cr-restore.c:1230): Can't fork for 77: File exists\n"
    b"(00.004004) pie: 77: Error (criu/pie/restorer.c:1312): Can't create timers, kernel don't "
    b"give them consequently\n"
    b"(00.004005) pie: 77: Error (criu/pie/restorer.c:1297): Unexpected timer id 3 (expected 4)\n"
    b"(00.004006) pie: 77: Error (criu/pie/restorer.c:1270): Can't enabled "
    b"PR_TIMER_CREATE_RESTORE_IDS: -1\n"
    b"(00.009000) Error (criu/cr-restore.c:2324): Restoring FAILED.\n"
)


class LogTarget(Target):
    name = "CRIU logs"
    error = criulog.LogError
    tokens = (
        b"Error (", b"Warn  (", b"pie: ", b"     1: ", b"(00.000000) ", b"(123.45678) ",
        b"Forking task with 1 pid", b"Restore via sigreturn", b": Restored\n",
        b"Restore finished successfully", b"Dumping task (pid: 1 comm: x)",
        b"Reading image tree", b"\n", b"\xff\xfe", b"\x00", b"(4294967295.-99999999) ",
    )  # fmt: skip

    def __init__(self, work: Path, logs: tuple[Path, ...] = LOGS) -> None:
        self.samples = [p.read_bytes() for p in logs if p.is_file()]
        self.samples.append(self.samples[0][:2000] + KNOWN if self.samples else KNOWN)
        work.mkdir(parents=True, exist_ok=True)
        self.path = work / "restore.log"

    def donors(self) -> list[bytes]:
        return self.samples

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        sample = rng.choice(self.samples)
        if rng.random() < 0.5:
            data, label = mutator.mutate(sample), "bytes"
        else:
            data, label = _lines(rng, sample), "lines"
        self.path.write_bytes(data)
        path = str(self.path)

        def use(reports: list[criulog.LogReport]) -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                for report in reports:
                    log_command.report_lines(report)
                    log_command.as_json(report)

        return Case(lambda: criulog.open_logs(path), path, label, data, use)


def _lines(rng: random.Random, sample: bytes) -> bytes:
    lines = sample.splitlines(keepends=True)
    for _ in range(rng.choice((1, 2, 4, 16))):
        if not lines:
            break
        at = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[at]
        elif op == 1:
            lines.insert(rng.randrange(len(lines) + 1), lines[at])
        elif op == 2:
            lines[at] = lines[at][12:]  # no time
        elif op == 3:
            lines[at] = lines[at].rstrip(b"\n") + b"x" * rng.choice((100, 5000, 70000)) + b"\n"
        elif op == 4:
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        else:
            edge = rng.choice((b"0", b"4294967295", b"-1", b"99999999999", b""))
            lines[at] = lines[at].replace(b"1", edge, 1)
    return b"".join(lines)
