"""Mutation fuzzing of the timerfd fdinfo decoder (`capture.timerfds.decode_fdinfo`, what
read_timerfds makes of each /proc/PID/fdinfo/FD), from real texts: the CRIU timerfd fixture's
live and restored fdinfo, and the fdinfo of timerfds made here. An accepted text must give
values in range that the restore planner takes; a refused one is one problem naming
fdinfo/FD and the field."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from stress.fuzz import Case, Mutator, Target
from timertui.capture.timerfds import decode_fdinfo
from timertui.errors import InputError
from timertui.model import ProcessTimers, TimerFd
from timertui.restore.plan import build_plan

FIXTURE = Path(__file__).resolve().parents[2] / "shared/fixtures/criu-timerfd-itimer"
_FD = 3
# A timerfd's fdinfo as the kernel prints it, for when the fixture is not there.
_BUILT_IN = (
    b"pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1039\nclockid: 1\nticks: 1\n"
    b"settime flags: 00\nit_value: (0, 0)\nit_interval: (0, 100000000)\n"
)


class FdinfoProblem(InputError):
    """The decoder's problem for a text it could not read, raised for the runner."""


class FdinfoTarget(Target):
    name = "timerfd fdinfo"
    error = FdinfoProblem
    tokens = (
        b"clockid: ", b"ticks: ", b"settime flags: ", b"it_value: ", b"it_interval: ",
        b"flags:\t", b"(", b")", b", ", b"-", b"99999999999999999999", b"9223372036854775807",
        b"\n", b"\t", b"0777777777777", b"1000000000",
    )  # fmt: skip

    def __init__(self, fixture: Path = FIXTURE) -> None:
        texts = [
            path.read_bytes()
            for folder in ("live-fdinfo", "restored-fdinfo")
            for path in sorted((fixture / folder).glob("*.txt"))
        ]
        self.texts = [t for t in texts if b"clockid:" in t] or [_BUILT_IN]

    def donors(self) -> list[bytes]:
        return self.texts

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        data = mutator.mutate(rng.choice(self.texts))
        return Case(lambda: _decoded(data), f"fdinfo/{_FD}.", "bytes", data, _plan)


def _decoded(data: bytes) -> TimerFd | None:
    got = decode_fdinfo(data, _FD)
    if isinstance(got, str):
        raise FdinfoProblem(got)
    return got


def _plan(got: TimerFd | None) -> None:
    """An accepted timerfd is in range and the planner takes it."""
    if got is None:
        return
    assert got.fd == _FD and got.ticks >= 0 and got.remaining_ns >= 0 and got.interval_ns >= 0
    proc = ProcessTimers(1, 0, "fuzz", (), 0, "", "S", (1,), ())
    build_plan(dataclasses.replace(proc, timerfds=(got,)))
