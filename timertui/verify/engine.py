"""The verification engine: reads each live process (a deep capture only when the checkpoint
has values to compare), compares it with its checkpoint process, then watches its periodic
timers, yielding a Report after the comparison and after each look of the watch, the last one
`done`. Raises an InputError subclass (one line) for a live process that is no process or that
may not be read."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence

from timertui.capture import processes, timerfds
from timertui.capture.inject import CaptureRefused, attach_values, capture_values
from timertui.capture.proc_timers import PROC_ROOT
from timertui.model import Access, IntervalTimer, ProcessTimers, Timer, TimerFd, TimerValues
from timertui.verify import liveness
from timertui.verify.age import UNKNOWN_AGE, Age
from timertui.verify.compare import compare_process
from timertui.verify.findings import Finding, Liveness, ProcessVerdict, Report
from timertui.verify.pairing import Pairing, PairingError, id_map

# A second deep capture this long after the first tells most running timers apart (their
# time left moves by the nanosecond); only the undecided are read again at the end.
RESAMPLE_NS = 100_000_000
# Refusals that mean the process may not be read: bad input, as for a pid not there.
_NOT_READABLE = tuple(
    r.value
    for r in (CaptureRefused.OTHER_USER, CaptureRefused.PERMISSION, CaptureRefused.NON_DUMPABLE)
)


def verify(
    pairings: Sequence[Pairing],
    age: Age = UNKNOWN_AGE,
    watch_ns: int | None = None,
    *,
    sleep: Callable[[float], object] = time.sleep,
) -> Iterator[Report]:
    """Reports on `pairings` (verify.pairing.pair_processes), the checkpoint `age`
    (verify.age.checkpoint_age), watching periodic timers `watch_ns` (None: two periods of
    the slowest, at most 3 s; 0: no watch). The first Report comes before any watch; stop
    iterating (or close the generator) to stop watching. `sleep(seconds)` waits between looks:
    a thread worker may pass its cancel event's `wait`, so a cancel ends the wait at once."""
    watches = [_Process(p, age) for p in pairings]
    ids = id_map(pairings, {w.pid: w.live for w in watches})
    for w in watches:
        w.compare(ids)
    intervals = [i for w in watches for i in w.intervals()]
    length = liveness.watch_length(intervals, watch_ns)
    step = liveness.step_length(intervals)
    start = time.monotonic_ns()
    if length == 0:
        for w in watches:
            w.unwatched()
        yield Report(tuple(w.verdict() for w in watches), 0, 0, True, age.source)
        return
    yield Report(tuple(w.verdict() for w in watches), 0, length, False, age.source)
    resampled = False
    while True:
        watched = time.monotonic_ns() - start
        for w in watches:
            w.look(watched, finished=False)
        if not resampled and watched >= min(RESAMPLE_NS, length):
            for w in watches:
                w.resample(watched, finished=False)
            resampled = True
        finished = watched >= length or (resampled and all(w.decided() for w in watches))
        if finished:
            for w in watches:
                w.look(watched, finished=True)
                w.resample(watched, finished=True)
            yield Report(tuple(w.verdict() for w in watches), watched, length, True, age.source)
            return
        yield Report(tuple(w.verdict() for w in watches), watched, length, False, age.source)
        sleep(min(step, length - watched) / 1e9)


class _Process:
    """One pairing: the live process as first read, its findings, and its watch."""

    def __init__(self, pairing: Pairing, age: Age) -> None:
        self.pairing = pairing
        self.pid = pairing.live_pid
        self.age = age
        self.problems: list[str] = []
        self.live = self._read()
        self.findings: list[Finding] = []
        self.fd_samples: dict[int, list[TimerFd | None]] = {}

    def _read(self) -> ProcessTimers:
        pid, checkpoint = self.pid, self.pairing.checkpoint
        proc = processes.read_process(pid)
        if proc.access is Access.GONE:
            raise processes.exited_meanwhile(pid)
        if proc.access is not Access.OK:
            raise PairingError(f"process {pid}: its timers are not readable ({proc.access.value})")
        wants_values = checkpoint.itimers is not None or any(
            t.values is not None for t in checkpoint.timers
        )
        if not wants_values:
            return proc
        deep, refused = attach_values(proc)
        if refused is not None:
            if processes.exited(pid):
                raise processes.exited_meanwhile(pid)
            if refused.startswith(_NOT_READABLE):
                raise PairingError(f"process {pid}: not readable: {refused}")
            self.problems.append(f"deep capture refused: {refused} (values not compared)")
        return deep

    def compare(self, ids: dict[int, int]) -> None:
        self.findings = list(
            compare_process(self.pairing.checkpoint, self.live, ids, self.age.ns, _cpu_ns(self.pid))
        )
        for i, f in enumerate(self.findings):
            if f.liveness is Liveness.WATCHING and self.problems and f.kind != "timerfd":
                self.findings[i] = dataclasses.replace(
                    f, liveness=Liveness.UNKNOWN, watch_note="not watched: no deep capture"
                )
            elif f.liveness is Liveness.WATCHING and f.kind == "timerfd":
                self.fd_samples[f.key] = [f.live] if isinstance(f.live, TimerFd) else []

    def intervals(self) -> list[int]:
        """The periods of the timers this process's watch waits on."""
        found = []
        for f in self.findings:
            if f.liveness is not Liveness.WATCHING:
                continue
            c = f.checkpoint
            if isinstance(c, TimerFd):
                found.append(c.interval_ns)
            elif isinstance(c, IntervalTimer):
                found.append(c.interval_total_us * 1000)
            elif c is not None and c.values is not None:
                found.append(c.values.interval_ns)
        return found

    def look(self, watched: int, finished: bool) -> None:
        """Read the watched timerfds' fdinfo once more, and judge them."""
        if not self.fd_samples:
            return
        reading = timerfds.read_timerfds(self.pid)
        if reading.access is not Access.OK or processes.exited(self.pid):
            self.gone()
            return
        now = {t.fd: t for t in reading.timerfds}
        for i, f in enumerate(self.findings):
            samples = self.fd_samples.get(f.key)
            if f.kind != "timerfd" or samples is None or f.liveness is Liveness.ALIVE:
                continue
            samples.append(now.get(f.key))
            state, why = liveness.timerfd_liveness(samples, watched, finished)
            issue = f.criu_issue
            was_stalled = isinstance(f.checkpoint, TimerFd) and f.checkpoint.stalled_periodic
            if state is Liveness.DEAD:
                blocked = liveness.blocked_reading(self.pid, f.key)
                why = f"{why}; {blocked}" if blocked else why
                if was_stalled:
                    issue = "#3162"
                    why += (
                        "; it had a pending tick at the checkpoint: restored disarmed with its "
                        "ticks, it stopped once they were read"
                    )
            elif state is Liveness.STALLED and was_stalled:
                # Alike until the read: the kernel re-arms a timerfd that fired, not one that
                # was set disarmed with ticks, as CRIU restores it.
                why += (
                    "; as at the checkpoint: restored by CRIU, it stops after that read "
                    "(criu #3162): verify again once the process has read it"
                )
            self.findings[i] = dataclasses.replace(
                f, liveness=state, watch_note=why, criu_issue=issue
            )

    def resample(self, watched: int, finished: bool) -> None:
        """A deep capture of the watched POSIX timers and ITIMER_REAL, judged against the
        first; undecided ones stay WATCHING until `finished`."""
        pending = [
            f
            for f in self.findings
            if f.liveness is Liveness.WATCHING and f.kind in ("posix", "itimer")
        ]
        if not pending:
            return
        ids = [f.key for f in pending if f.kind == "posix"]
        capture = capture_values(self.pid, ids, itimers=any(f.kind == "itimer" for f in pending))
        if capture.refused is CaptureRefused.GONE or processes.exited(self.pid):
            self.gone()
            return
        itimers = {t.which: t for t in capture.itimers or ()}
        for i, f in enumerate(self.findings):
            if f not in pending:
                continue
            first: TimerValues | IntervalTimer | None
            last: TimerValues | IntervalTimer | None
            if f.kind == "posix":
                first = f.live.values if isinstance(f.live, Timer) else None
                last = capture.values.get(f.key)
            else:
                first = f.live if isinstance(f.live, IntervalTimer) else None
                last = itimers.get(f.key)
            if first is None:
                continue
            state, why = liveness.values_liveness(first, last, watched)
            if capture.refused is not None:
                state, why = Liveness.UNKNOWN, f"not read again: {capture.reason}"
            if state is Liveness.DEAD and not finished:
                continue
            self.findings[i] = dataclasses.replace(f, liveness=state, watch_note=why)

    def unwatched(self, why: str = "not watched (--watch 0)") -> None:
        """Every timer still waiting for the watch left undecided, saying `why`."""
        self.fd_samples.clear()
        self.findings = [
            dataclasses.replace(f, liveness=Liveness.UNKNOWN, watch_note=why)
            if f.liveness is Liveness.WATCHING
            else f
            for f in self.findings
        ]

    def gone(self) -> None:
        if not any("exited" in p for p in self.problems):
            self.problems.append(f"process {self.pid} exited during the watch")
        self.unwatched("not watched to the end: the process exited")

    def decided(self) -> bool:
        return all(f.liveness is not Liveness.WATCHING for f in self.findings)

    def verdict(self) -> ProcessVerdict:
        c = self.pairing.checkpoint
        return ProcessVerdict(
            c.pid,
            self.pid,
            c.comm,
            tuple(self.findings),
            self.age.ns,
            tuple(self.problems),
            self.live.comm,
        )


def _cpu_ns(pid: int) -> int | None:
    """The CPU time process `pid` used (utime + stime of /proc/PID/stat), None unread: a bound
    on how far its CPU-time timers ran since it was restored."""
    try:
        with open(f"{PROC_ROOT}/{pid}/stat", "rb") as f:  # noqa: PTH123
            rest = f.read().rsplit(b")", 1)[1].split()
        ticks = int(rest[11]) + int(rest[12])  # proc(5) fields 14 and 15
    except (OSError, IndexError, ValueError):
        return None
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
