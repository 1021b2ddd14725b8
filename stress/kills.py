"""SIGKILL at random points of the three things that must survive it.

- snapshot writes: a child saves snapshots A and B in turn over a file that holds OLD; killed at
  a random moment, the file must decode to OLD, A or B exactly, never to a part of one.
- restores: the native worker is killed at a random moment of a walk or an exact restore; the
  stream must end with an error event naming SIGKILL and the phase (or with `done`, when the
  kill came after it), the worker must be reaped and no child of ours left.
- deep captures: the capturing process is killed at a random moment while it captures a target
  (tests/inject_target.c) that checks its own registers and stack; the target must go on
  running, untraced and unstopped, with its registers and stack as they were.

Each run forks its children from the calling process, which must be single-threaded (run them
through `python -m stress`, not inside a threaded program).
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from stress import procs
from timertui import model, snapshot_file
from timertui.choices import Mode
from timertui.restore import events as ev
from timertui.restore import run as run_restore
from timertui.restore.native.runner import RestoreRun
from timertui.restore.plan import RestorePlan, build_plan
from timertui.signals import SIGRTMIN

INJECT_TARGET_C = Path(__file__).resolve().parent.parent / "tests" / "kernel" / "inject_target.c"
_MS = 1_000_000
WALK_MAX_ID = 50_000


@dataclass
class KillTally:
    name: str
    points: int = 0
    orphans: int = 0  # children of ours still there (running or unreaped) after a point
    lost_files: int = 0  # a destination file missing or not exactly one whole snapshot
    litter: int = 0  # temporary files a killed write left beside the destination
    failures: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def _reap_strays(tally: KillTally, keep: tuple[int, ...] = ()) -> None:
    """Count and end any child still there but those in `keep`: each is one the run left."""
    for pid in set(procs.children()) - set(keep):
        tally.orphans += 1
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _wait_exact(seconds: float) -> None:
    """Sleep most of it, spin the rest: sleeps alone land in scheduler-tick steps."""
    end = time.perf_counter() + seconds
    if seconds > 0.002:
        time.sleep(seconds - 0.002)
    while time.perf_counter() < end:
        pass


# ---------------------------------------------------------------------------------------------
# Snapshot writes


def sample_process(pid: int, ids: list[int], period_ms: int = 10) -> model.ProcessTimers:
    """A process holding armed MONOTONIC timers at `ids`, each signalling SIGRTMIN."""
    values = model.TimerValues(period_ms * _MS // 2, period_ms * _MS, 0)
    timers = tuple(model.Timer(i, 1, model.SIGEV_SIGNAL, pid, SIGRTMIN, i, values) for i in ids)
    return model.ProcessTimers(pid, 1, f"p{pid}", ("p",), 0, "root", "sleeping", (pid,), timers)


def sample_snapshot(*processes: model.ProcessTimers) -> model.Snapshot:
    host = model.HostFacts("6.18", "boot", "host", "x86_64", True, 1000, 1000)
    return model.Snapshot(host, model.CaptureTimes(1, 2, 3), processes)


def snapshot_writes(points: int, seed: int, directory: Path) -> KillTally:
    """`points` writes killed at random moments; the destination is reset to OLD before each."""
    tally = KillTally("snapshot write killed")
    rng = random.Random(seed)
    old, a, b = (
        sample_snapshot(sample_process(pid, list(range(0, 3 * n, 3))))
        for pid, n in ((1, 10), (2, 4000), (3, 2500))
    )
    whole = {snapshot_file.encode(s): name for s, name in ((old, "old"), (a, "A"), (b, "B"))}
    dest = directory / "target.ttsnap"
    started = time.perf_counter()
    snapshot_file.save(a, dest)
    save_s = time.perf_counter() - started  # one save, to spread the kills over a few of them

    def writer() -> None:
        for turn in range(1 << 30):
            snapshot_file.save(a if turn % 2 == 0 else b, dest)

    for _ in range(points):
        snapshot_file.save(old, dest)
        pid = procs.fork(writer, ready=True)
        _wait_exact(rng.uniform(0, 2.5 * save_s))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        tally.points += 1
        try:
            found = whole.get(dest.read_bytes())
        except OSError as exc:
            found = None
            tally.failures.append(f"destination unreadable after a kill: {exc}")
        if found is None:
            tally.lost_files += 1
        else:
            tally.outcomes["old intact" if found == "old" else "replaced whole"] += 1
        stray = list(directory.glob(f".{dest.name}.*.tmp"))
        tally.litter += len(stray)
        for path in stray:
            path.unlink()
        _reap_strays(tally)
    tally.seconds = time.perf_counter() - started
    return tally


# ---------------------------------------------------------------------------------------------
# Restores


def restore_plan(mode: Mode) -> RestorePlan:
    """The walk: IDs 0 and WALK_MAX_ID (some 50 ms of create/delete); exact: 2,000 armed timers
    spread over a million IDs (a few ms)."""
    ids = (
        [0, WALK_MAX_ID] if mode == "walk" else sorted(random.Random(7).sample(range(10**6), 2000))
    )
    return build_plan(sample_process(4242, ids, period_ms=1000))


def _killer(parent: int, delay: float) -> None:  # pragma: no cover - a child
    """Wait for `parent`'s next child (the worker), then SIGKILL it `delay` seconds later. Exits
    0 when the signal went to a live worker, 3 when it had ended already."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    me = str(os.getpid())
    while not (found := [p for p in children.read_text().split() if p != me]):
        time.sleep(0.0002)
    pidfd = os.pidfd_open(int(found[0]))  # a pid may be reused once reaped; a pidfd never is
    time.sleep(delay)
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        os._exit(3)
    os._exit(0)


def _one_restore(
    plan: RestorePlan, mode: Mode, delay: float | None
) -> tuple[list[ev.Event], int, bool]:
    """One restore, its worker killed `delay` s after it appeared (never with None), by another
    process that knows nothing of its events: the events, the worker's pid, and whether the
    kill was sent to it while it lived."""
    killer = 0 if delay is None else procs.fork(functools.partial(_killer, os.getpid(), delay))
    events: list[ev.Event] = []
    stream = run_restore(plan, mode=mode, start="fork")
    try:
        events.extend(stream)
    finally:
        stream.close()
    pid = stream.pid if isinstance(stream, RestoreRun) else 0
    if delay is None:
        return events, pid, False
    # The killer ends on its own within `delay`; one still polling never saw the worker.
    deadline = time.monotonic() + delay + 1.0
    while not (ended := os.waitpid(killer, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(killer, signal.SIGKILL)
            ended = os.waitpid(killer, 0)
            break
        time.sleep(0.001)
    return events, pid, os.WIFEXITED(ended[1]) and os.WEXITSTATUS(ended[1]) == 0


def restore_kills(points: int, seed: int, mode: Mode) -> KillTally:
    """`points` restores in `mode`, each worker killed at a random moment of its run."""
    tally = KillTally(f"restore worker killed ({mode})")
    rng = random.Random(seed)
    plan = restore_plan(mode)
    started = time.perf_counter()
    # Undisturbed runs give the span the kills are spread over, from the worker's start to
    # `done` (the first run also warms caches up, so the median of three); each must verify.
    spans = []
    for _ in range(3):
        events, _, _ = _one_restore(plan, mode, None)
        start, end = events[0], events[-1]
        if not (isinstance(end, ev.Done) and end.ok):
            tally.failures.append(f"the undisturbed {mode} restore did not verify: {end}")
        spans.append((end.t_ns - start.t_ns) / 1e9)
    span = sorted(spans)[1]
    for _ in range(points):
        events, pid, fired = _one_restore(plan, mode, rng.uniform(0, span))
        tally.points += 1
        _judge_restore(events, pid, fired, tally)
        _reap_strays(tally)
    tally.seconds = time.perf_counter() - started
    return tally


def _judge_restore(events: list[ev.Event], pid: int, fired: bool, tally: KillTally) -> None:
    """The stream ends with `done` (the kill came after it) or with an error naming SIGKILL
    and the phase it last heard of; the worker is reaped either way."""
    last = events[-1] if events else None
    if Path(f"/proc/{pid}").exists():
        tally.orphans += 1
        tally.failures.append(f"worker {pid} still there after its stream ended")
    if isinstance(last, ev.Error):
        named = last.code == "worker-killed" and "SIGKILL" in last.message
        phase = last.message.partition(" in the ")[2].partition(" phase")[0]
        if not (fired and named and phase):
            tally.failures.append(f"error event does not name the kill: {last}")
        tally.outcomes[f"killed in {phase}"] += 1
    elif isinstance(last, ev.Done):
        tally.outcomes["finished before the kill"] += 1
        if not last.ok:
            tally.failures.append(f"restore failed without being killed: {last}")
    else:
        tally.failures.append(f"stream ended with {last}, not an error or done")


# ---------------------------------------------------------------------------------------------
# Deep captures


def build_inject_target(directory: Path) -> Path:
    """tests/kernel/inject_target.c compiled into `directory` (RuntimeError without gcc)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc not found: the capture target is a C program")
    out = directory / "inject_target"
    subprocess.run([gcc, "-O2", "-pthread", "-o", str(out), str(INJECT_TARGET_C)], check=True)
    return out


class _Target:
    """The capture target, waiting in one of its checked waits (`spin` or `sleep`)."""

    def __init__(self, binary: Path, wait: str) -> None:
        self.wait = wait
        self.proc = subprocess.Popen(
            [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        self.pid = int(self._line().split()[1])
        self.ask(wait)

    def _line(self) -> str:
        from timertui.demo import read_line

        line = read_line(self.proc, 10.0)
        if line is None:
            raise RuntimeError(f"capture target ended with status {self.proc.wait()}")
        return line

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        return self._line()

    def state(self) -> tuple[str, int]:
        """(stat state letter, TracerPid)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        tracer = next(
            int(line.split()[1])
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines()
            if line.startswith("TracerPid:")
        )
        return stat[stat.rindex(")") + 2], tracer

    def report(self) -> str:
        """End the wait; its own verdict ("ok" or the first register/stack fault), then wait
        again."""
        verdict = self.ask("stop").split()[-1]
        self.ask(self.wait)
        return verdict

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _capturing(pid: int, ready_fd: int) -> None:  # pragma: no cover - a child
    """Capture `pid` over and over; say so once the first capture is done (the kill is timed
    from there: a child of a large process takes a while to get going)."""
    from timertui.capture.inject import capture_values

    capture_values(pid, tid=pid)
    os.write(ready_fd, b"!")
    while True:
        capture_values(pid, tid=pid)


def _start_capturing(pid: int) -> int:
    read_fd, write_fd = os.pipe()
    capturer = procs.fork(functools.partial(_capturing, pid, write_fd))
    os.close(write_fd)
    os.read(read_fd, 1)
    os.close(read_fd)
    return capturer


def capture_kills(points: int, seed: int, binary: Path, check_every: int = 10) -> KillTally:
    """`points` capturers killed at random moments, over a target spinning and one sleeping;
    the target's own register and stack check is read every `check_every` kills and at the
    end."""
    tally = KillTally("deep capture killed")
    rng = random.Random(seed)
    started = time.perf_counter()
    for wait in ("spin", "sleep"):
        target = _Target(binary, wait)
        try:
            for index in range(points // 2):
                pid = _start_capturing(target.pid)
                _wait_exact(rng.uniform(0, 0.004))
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                tally.points += 1
                problem = _judge_target(target)
                if problem is None and ((index + 1) % check_every == 0 or index + 1 == points // 2):
                    try:
                        verdict = target.report()
                    except (RuntimeError, OSError) as exc:  # it died meanwhile
                        verdict = str(exc)
                    problem = None if verdict == "ok" else f"its {wait} check found {verdict}"
                if problem is not None:
                    tally.failures.append(f"after kill {index + 1} ({wait}): {problem}")
                    tally.outcomes["target harmed"] += 1
                    target.close()
                    target = _Target(binary, wait)
                else:
                    tally.outcomes["target unharmed"] += 1
                _reap_strays(tally, keep=(target.proc.pid,))
        finally:
            target.close()
    tally.seconds = time.perf_counter() - started
    return tally


def _judge_target(target: _Target) -> str | None:
    """None while the target runs on untraced and unstopped (the kernel detaches a dead
    tracer's tracees at once, but give it a moment)."""
    for _ in range(200):
        if target.proc.poll() is not None:
            return f"target died (status {target.proc.returncode})"
        state, tracer = target.state()
        if state not in "tT" and tracer == 0:
            return None
        time.sleep(0.001)
    return f"target left in state {state}, TracerPid {tracer}"
