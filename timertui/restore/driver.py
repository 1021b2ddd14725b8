"""The one restore sequence, for every backend: what CRIU's restorer does with a process's POSIX
timers, timerfds and interval timers, as events.

spawn -> setup -> probe -> create (exact IDs, or the create/delete walk) -> arm -> prctl-off ->
timerfds -> itimers -> verify -> done -> hold. The driver decides — the mode, every decision
with its reason, each timer's state, when the restore stops — and a `Target` acts: the native
one (restore/worker.py), the restore target itself running the compiled loops, or the model
(restore/simulator.py), the allocator of a chosen kernel with a cost model for the time. So
both backends say the same things in the same order, built here once, and differ only in what
the target answers.

`Driver.events()` is a generator of events; FLUSH between them marks where a backend that
batches its output (the worker's pipe) should write what it has: at each phase's start, so a
phase pays for its own events only, and before the target blocks (hold).
"""

from __future__ import annotations

import errno
from abc import ABC, abstractmethod

from timertui.errors import errno_text
from timertui.records import record
from timertui.restore import decisions
from timertui.restore import events as ev
from timertui.restore.plan import RestorePlan, RunOptions, wrap_cost

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator, Sequence
    from typing import Literal

    WalkResult = Literal["done", "budget", "above", "failed", "stuck"]
    Holder = Literal["target", "other"]
    # Where a timerfd's restore stopped, as Target.restore_timerfds says it ("" when it did not).
    TimerFdStage = Literal["", "busy", "timerfd_create", "dup3", "timerfd_settime", "ticks"]
else:
    WalkResult = Holder = TimerFdStage = str  # plain strings at run time (no typing)

PENDING, CREATED, FAILED = 0, 1, 2  # a timer's state, by plan index, in Driver.state


class Flush:
    """The type of FLUSH."""


FLUSH = Flush()


@record
class WalkStep:
    """Where a walk got to when the kernel handed control back: `done` timers of the plan are
    created; the last ID the kernel gave; creates and deletes so far. `result`: all done; a
    report is due (budget); the kernel gave an ID above the next wanted one (above); a create
    or delete failed (failed, `err`); the allocator can never give the wanted ID (stuck, with
    the model's `reason`). `wrapping`: walking on round INT_MAX."""

    result: WalkResult
    done: int
    last_id: int
    creates: int
    deletes: int
    wrapping: bool = False
    err: int = 0
    reason: str = ""


@record
class ExactChunk:
    """One chunk of exact creates from a plan index: how many were attempted, and, when any
    failed or got another ID, -errno (or 0) and the ID the kernel gave (or -1) for each."""

    count: int
    errs: Sequence[int] | None = None
    got: Sequence[int] | None = None


@record
class Armed:
    """The timers (plan indices) the kernel armed, and -errno (or 0) for each when any failed."""

    indices: Sequence[int]
    errs: Sequence[int] | None = None


@record
class Started:
    """What a target says of itself at the start: its backend, pid (the simulator's is the
    snapshot's), kernel, and CLOCK_MONOTONIC at the run's start (0: none)."""

    backend: str
    pid: int
    kernel: str
    monotonic_ns: int = 0


class Target(ABC):
    """What a backend does to the restore target, asked by the driver."""

    def __init__(self, plan: RestorePlan, options: RunOptions) -> None:
        self.plan = plan
        self.options = options

    @abstractmethod
    def now(self) -> int:
        """ns since the run's start (measured, or predicted by a model)."""

    @abstractmethod
    def start(self, options: RunOptions) -> Started:
        """The target exists: say what it is."""

    def notes(self) -> Iterable[ev.Decision]:
        """Decisions said right after Start (the simulator's model)."""
        return ()

    @abstractmethod
    def setup(self) -> Iterable[ev.Decision]:
        """Prepare the target (threads, rlimit, taken IDs, start counter) and warm up."""

    @abstractmethod
    def sigpending(self) -> tuple[int, int] | None:
        """The target's RLIMIT_SIGPENDING soft limit and slots in use; None: unlimited or
        unknown."""

    @abstractmethod
    def probe(self, get_only: bool) -> int:
        """prctl(PR_TIMER_CREATE_RESTORE_IDS): ON, or GET when `get_only`; 0/-errno."""

    @abstractmethod
    def create_exact(self, start: int) -> ExactChunk:
        """Create timers from plan index `start` at their IDs, one chunk's worth."""

    def walk_notes(self) -> Iterable[ev.Decision]:
        """Decisions said as the walk starts (the simulator's fillers)."""
        return ()

    @abstractmethod
    def walk(self, wrap: bool) -> WalkStep:
        """Walk on (from where it stopped), until a report is due or something happens;
        `wrap`: the walk may now go round INT_MAX to the wanted ID."""

    @abstractmethod
    def holder(self, timer_id: int) -> Holder | None:
        """Who holds `timer_id` that the walk could not get: the target, another process, or
        nobody known."""

    @abstractmethod
    def wrap_figures(self, step: WalkStep, wanted: int) -> tuple[int, float | None]:
        """The creates a wrap round INT_MAX to `wanted` costs, and the walk's rate (creates a
        second) if known."""

    @abstractmethod
    def arm(self, state: bytearray) -> Armed:
        """Arm the planned timers that are created (state CREATED)."""

    @abstractmethod
    def exact_off(self) -> int:
        """prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF): 0/-errno."""

    @abstractmethod
    def verify(self, state: bytearray) -> list[ev.TimerCheck]:
        """The timers that differ from the plan, from what the target holds."""

    @abstractmethod
    def restore_timerfds(self) -> Sequence[tuple[int, TimerFdStage]]:
        """Recreate the plan's timerfds at their fds, armed, ticks put back: for each, 0 or
        -errno and the step that failed."""

    @abstractmethod
    def set_itimers(self) -> Sequence[int]:
        """setitimer of the plan's interval timers to arm: for each, 0 or -errno."""

    @abstractmethod
    def verify_timerfds(self, restored: Sequence[bool]) -> list[ev.TimerCheck]:
        """Every planned timerfd (`restored`: which were) against the target's own fdinfo."""

    @abstractmethod
    def verify_itimers(self) -> list[ev.TimerCheck]:
        """Every planned interval timer against the target's getitimer."""

    def hold_refused(self) -> ev.Decision | None:
        """Why --hold holds nothing here, if it does not."""
        return None

    @abstractmethod
    def hold(self, state: bytearray) -> Iterator[ev.Event | Flush]:
        """--hold: the restored process's expirations, until the run is ended."""


class Driver:
    """One restore of `plan` into `target`."""

    def __init__(self, plan: RestorePlan, options: RunOptions, target: Target) -> None:
        self.plan = plan
        self.options = options
        self.target = target
        self.state = bytearray([PENDING]) * len(plan.timers)
        self.phases: dict[str, int] = {}
        self.codes = set(plan.decision_codes())
        self.mode = ""
        self.fatal = False
        self.exact_on = False
        self.creates = self.deletes = self.syscalls = 0
        self.current = "spawn"  # the phase under way
        # Timerfds and interval timers: which were restored, and how many failed.
        self.fds_restored = [False] * len(plan.timerfds)
        self.kinds_failed = sum(t.invalid for t in plan.itimers)

    # -- what every step reports -------------------------------------------------------------

    def decide(self, decision: ev.Decision) -> ev.Decision:
        """`decision` (from decisions.py, made with t_ns 0) stamped with the time now."""
        self.codes.add(decision.code)
        self.fatal = self.fatal or decision.severity == "fatal"
        d = decision
        return ev.Decision(
            self.target.now(), d.code, d.reason, d.severity, d.timer_id, d.timer_kind
        )

    def reached(
        self, state: int, lo: int, hi: int, err: int = 0, detail: str = ""
    ) -> ev.TimerState:
        """Timers lo..hi-1 of the plan are created or failed."""
        self.state[lo:hi] = bytes([state]) * (hi - lo)
        name: ev.TimerStateName = "created" if state == CREATED else "failed"
        return ev.TimerState(self.target.now(), name, self.plan.ids[lo:hi], err, detail)

    def progress(self, done: int, current_id: int, started: int, left: int) -> ev.Progress:
        """Create-phase progress; `left`: creates still to go, about."""
        elapsed = self.target.now() - started
        rate = self.creates * 1e9 / elapsed if elapsed > 0 else 0.0
        eta = int(left / rate * 1e9) if rate > 0 else -1
        plan = self.plan
        return ev.Progress(
            t_ns=self.target.now(),
            phase="create",
            timers_done=done,
            timers_total=len(plan.timers),
            current_id=current_id,
            max_id=plan.max_id,
            creates=self.creates,
            deletes=self.deletes,
            rate=rate,
            eta_ns=eta,
        )

    def phase(self, name: str, steps: Iterator[ev.Event | Flush]) -> Iterator[ev.Event | Flush]:
        self.current = name
        yield FLUSH
        begin = self.target.now()
        yield from steps
        ns = self.target.now() - begin
        self.phases[name] = ns
        yield ev.Phase(self.target.now(), name, ns)

    # -- the sequence ------------------------------------------------------------------------

    def events(self) -> Generator[ev.Event | Flush, None, None]:
        plan, k = self.plan, self.target
        started = k.start(self.options)
        yield ev.Start(
            t_ns=k.now(),
            backend=started.backend,
            pid=started.pid,
            source_pid=plan.source_pid,
            comm=plan.comm,
            mode=self.options.mode,
            timers=len(plan.timers),
            max_id=plan.max_id,
            hold=self.options.hold,
            kernel=started.kernel,
            monotonic_ns=started.monotonic_ns,
        )
        for note in k.notes():
            yield self.decide(note)
        self.phases["spawn"] = k.now()
        yield ev.Phase(k.now(), "spawn", self.phases["spawn"])
        for d in plan.decisions:
            yield self.decide(d)
        yield from self.phase("setup", self.setup())
        if not self.fatal:
            yield from self.phase("probe", self.probe())
        if not self.fatal and plan.timers:
            create = self.create_exact() if self.mode == "exact" else self.create_walk()
            yield from self.phase("create", create)
        if CREATED in self.state:
            yield from self.phase("arm", self.arm())
        if self.exact_on:
            yield from self.phase("prctl-off", self.exact_off())
        if plan.timerfds and not self.fatal:
            yield from self.phase("timerfds", self.restore_timerfds())
        if any(t.arm for t in plan.itimers) and not self.fatal:
            yield from self.phase("itimers", self.set_itimers())
        checks: list[ev.TimerCheck] = []
        yield from self.phase("verify", self.verify(checks))
        failed = sum(not c.equal for c in checks)
        ok = not self.fatal and FAILED not in self.state and not failed
        ok = ok and "prctl-off-failed" not in self.codes and not self.kinds_failed
        refused = k.hold_refused() if self.options.hold else None
        if refused is not None:
            yield self.decide(refused)
        holding = self.options.hold and refused is None
        yield FLUSH
        yield ev.Done(
            t_ns=k.now(),
            ok=ok,
            mode=self.mode,
            creates=self.creates,
            deletes=self.deletes,
            syscalls=self.syscalls,
            phases=dict(self.phases),
            wall_ns=k.now(),
            verified=len(plan.timers) + len(plan.timerfds) + len(plan.itimers) - failed,
            failed=failed,
            holding=holding,
        )
        yield FLUSH
        if holding:
            yield from k.hold(self.state)

    def setup(self) -> Iterator[ev.Event | Flush]:
        k = self.target
        for d in k.setup():
            yield self.decide(d)
        figures = k.sigpending()
        if self.plan.facts is not None or figures is None:
            return  # the plan checked the headroom, or there is no limit to check
        limit, in_use = figures
        need = len(self.plan.timers)
        if limit - in_use < need:
            yield self.decide(decisions.rlimit_headroom(limit, in_use, need))

    def probe(self) -> Iterator[ev.Event | Flush]:
        forced, k = self.options.mode, self.target
        self.syscalls += 1
        if forced == "walk":
            # GET changes nothing: it only tells whether exact mode would have been there.
            ret = k.probe(get_only=True)
            yield ev.Probe(k.now(), ret >= 0, max(-ret, 0), _probe_text(ret))
            self.mode = "walk"
            yield self.decide(decisions.walk_mode(forced=True, kernel_has_exact=ret >= 0))
            return
        ret = k.probe(get_only=False)
        yield ev.Probe(k.now(), ret == 0, max(-ret, 0), _probe_text(ret))
        if ret == 0:
            self.exact_on = True
            self.mode = "exact"
            yield self.decide(decisions.exact_mode(forced=forced == "exact"))
        elif ret == -errno.EINVAL and forced == "exact":
            yield self.decide(decisions.exact_unsupported())
        elif ret == -errno.EINVAL:
            self.mode = "walk"
            yield self.decide(decisions.walk_mode(forced=False, kernel_has_exact=False))
        else:
            yield self.decide(decisions.prctl_failed(ret))

    # -- exact IDs ---------------------------------------------------------------------------

    def create_exact(self) -> Iterator[ev.Event | Flush]:
        k, ids = self.target, self.plan.ids
        n = len(ids)
        started = k.now()
        i = 0
        while i < n:
            chunk = k.create_exact(i)
            self.creates += chunk.count
            self.syscalls += chunk.count
            if chunk.errs is None or chunk.got is None:
                yield self.reached(CREATED, i, i + chunk.count)
            else:
                yield from self.sort_out(i, chunk.errs, chunk.got)
            i += chunk.count
            yield self.progress(i, ids[i - 1], started, n - i)
            if self.fatal:
                if i < n:
                    yield self.reached(FAILED, i, n, errno.EAGAIN, "not attempted")
                return

    def sort_out(
        self, start: int, errs: Sequence[int], got: Sequence[int]
    ) -> Iterator[ev.Event | Flush]:
        """A chunk with failures: report each, and CRIU's check that the kernel used the
        wanted ID; the timers created as asked are reported created."""
        timers = self.plan.timers
        ok: list[int] = []
        for j, (err, got_id) in enumerate(zip(errs, got, strict=True)):
            i, t = start + j, timers[start + j]
            if err:
                yield self.decide(decisions.exact_create_failed(i, t.id, t.clock, -err))
                yield self.reached(FAILED, i, i + 1, -err, errno_text(-err))
            elif got_id != t.id:
                yield self.decide(decisions.unexpected_id(got_id, t.id))
                yield self.reached(FAILED, i, i + 1, 0, f"created as ID {got_id}")
            else:
                self.state[i] = CREATED
                ok.append(got_id)
        if ok:
            yield ev.TimerState(self.target.now(), "created", tuple(ok))

    # -- the walk ----------------------------------------------------------------------------

    def create_walk(self) -> Iterator[ev.Event | Flush]:
        k, plan = self.target, self.plan
        n = len(plan.timers)
        started = k.now()
        for d in k.walk_notes():
            yield self.decide(d)
        done, wrap = 0, False
        while True:
            step = k.walk(wrap)
            wrap = False
            self.creates, self.deletes = step.creates, step.deletes
            if step.done > done:
                yield self.reached(CREATED, done, step.done)
                done = step.done
            if step.result == "budget":
                yield self.progress(done, step.last_id, started, self.walk_left(step))
                continue
            if step.result == "above":
                wrap = yield from self.walk_above(done, step)
                if wrap:
                    continue
            elif step.result == "failed":
                yield self.decide(self.walk_failure(done, step))
            elif step.result == "stuck":
                stuck = ev.Decision(0, "walk-stuck", step.reason, "fatal", plan.timers[done].id)
                yield self.decide(stuck)
            if step.result != "done":
                yield self.reached(FAILED, done, n, 0, "not created: the walk stopped")
            break
        self.syscalls += self.creates + self.deletes
        left = self.walk_left(step) if done < n else 0
        yield self.progress(done, step.last_id, started, left)

    def walk_left(self, step: WalkStep) -> int:
        """Creates still to go, about: the ID space up to the last wanted ID (and round)."""
        if step.wrapping:
            return wrap_cost(step.last_id + 1, self.plan.max_id)
        return max(self.plan.max_id - step.last_id, 0)

    def walk_above(self, index: int, step: WalkStep) -> Generator[ev.Event | Flush, None, bool]:
        """The kernel handed out an ID above the wanted one. True: walk on (wrap allowed)."""
        want, got = self.plan.timers[index].id, step.last_id
        self.syscalls += 1  # timer_gettime(want): is it the target's?
        holder = self.target.holder(want)
        if holder == "target":
            yield self.decide(decisions.walk_overshoot(want, got))
            return False
        if holder == "other":
            yield self.decide(decisions.walk_overshoot_system_wide(want, got))
            return False
        cost, rate = self.target.wrap_figures(step, want)
        allowed = self.options.allow_wrap
        yield self.decide(decisions.wrap_needed(want, got, cost, allowed, rate))
        return allowed

    def walk_failure(self, index: int, step: WalkStep) -> ev.Decision:
        t = self.plan.timers[index]
        # A failed delete leaves its temporary timer alive: one more create than delete.
        if step.creates - step.deletes - self.state.count(CREATED) == 1:
            return decisions.delete_failed(step.last_id, t.id, step.err)
        return decisions.walk_create_failed(index, t.id, step.err)

    # -- after the create phase --------------------------------------------------------------

    def arm(self) -> Iterator[ev.Event | Flush]:
        armed = self.target.arm(self.state)
        indices, ids = armed.indices, self.plan.ids
        if not indices:
            return
        self.syscalls += len(indices)
        if armed.errs is None:
            if isinstance(indices, range) and indices.step == 1:
                yield ev.TimerState(self.target.now(), "armed", ids[indices.start : indices.stop])
            else:
                yield ev.TimerState(self.target.now(), "armed", tuple(ids[i] for i in indices))
            return
        ok = []
        for i, err in zip(indices, armed.errs, strict=True):
            if err:
                yield self.decide(decisions.arm_failed(ids[i], -err))
                yield self.reached(FAILED, i, i + 1, -err, errno_text(-err))
            else:
                ok.append(ids[i])
        if ok:
            yield ev.TimerState(self.target.now(), "armed", tuple(ok))

    def exact_off(self) -> Iterator[ev.Event | Flush]:
        self.syscalls += 1
        ret = self.target.exact_off()
        if ret:
            yield self.decide(decisions.prctl_off_failed(ret))

    # -- timerfds and interval timers ------------------------------------------------------

    def restore_timerfds(self) -> Iterator[ev.Event | Flush]:
        planned = self.plan.timerfds
        results = self.target.restore_timerfds()
        self.syscalls += sum(4 + bool(t.ticks) for t in planned)
        done: list[int] = []
        for i, (t, (err, stage)) in enumerate(zip(planned, results, strict=True)):
            if stage == "ticks":
                yield self.decide(decisions.ticks_not_restored(t.fd, t.ticks, -err))
            elif err:
                yield self.decide(decisions.timerfd_failed(t.fd, stage, -err))
                yield ev.TimerState(
                    self.target.now(), "failed", (t.fd,), -err, stage, timer_kind="timerfd"
                )
                self.kinds_failed += 1
                continue
            self.fds_restored[i] = True
            done.append(t.fd)
        if done:
            yield ev.TimerState(self.target.now(), "armed", tuple(done), timer_kind="timerfd")

    def set_itimers(self) -> Iterator[ev.Event | Flush]:
        planned = self.plan.itimers
        errs = self.target.set_itimers()
        done: list[int] = []
        for t, err in zip(planned, errs, strict=True):
            if not t.arm:
                continue
            self.syscalls += 1
            if err:
                yield self.decide(decisions.itimer_failed(t.which, t.name, -err))
                yield ev.TimerState(
                    self.target.now(), "failed", (t.which,), -err, "setitimer", timer_kind="itimer"
                )
                self.kinds_failed += 1
            else:
                done.append(t.which)
        if done:
            yield ev.TimerState(self.target.now(), "armed", tuple(done), timer_kind="itimer")

    def verify(self, checks: list[ev.TimerCheck]) -> Iterator[ev.Event | Flush]:
        """Verify lists the POSIX timers that differ only (events.with_equal_ids adds the
        equal ones' IDs), and every timerfd and interval timer."""
        plan = self.plan
        self.syscalls += plan.valued
        checks += self.target.verify(self.state)
        if plan.timerfds:
            self.syscalls += len(plan.timerfds)
            checks += self.target.verify_timerfds(self.fds_restored)
        if plan.itimers:
            self.syscalls += len(plan.itimers)
            checks += self.target.verify_itimers()
        yield ev.Verify(self.target.now(), tuple(checks))


def _probe_text(ret: int) -> str:
    if ret >= 0:
        return "PR_TIMER_CREATE_RESTORE_IDS available"
    return f"PR_TIMER_CREATE_RESTORE_IDS: {errno_text(-ret)}"
