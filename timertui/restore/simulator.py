"""The simulator backend: a restore plan replayed against a model of a chosen kernel.

It answers "what would this restore do on kernel X, and how long would it take?" for kernels
this host does not run. It takes the same plan as the native backend and emits the same events,
with the same decision codes and reasons (CRIU's messages where CRIU has one), in the same order:
what the native worker does with syscalls, this does with the allocator model of
timertui.restore.kernels, and it times every step with the cost model of
timertui.restore.costs (this host's calibration, or built-in defaults, named in the output).

Event times (`t_ns`) are predicted nanoseconds since the run's start. The walk is computed, not
stepped, so a wrap past INT_MAX is predicted in milliseconds. Pacing plays the events back:
`instant`, `real` (a predicted 1.8 s walk shows its progress over 1.8 s) or `xN` (N times as
fast: x10, x0.1). Decisions only the simulator makes have codes of their own (SIM_DECISION_CODES).
"""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import threading
import time
from collections.abc import Generator, Iterator

from timertui.clocks import decode_clock
from timertui.errors import InputError, errno_text
from timertui.model import (
    INT_MAX,
    RESTORE_IDS_GET,
    RESTORE_IDS_OFF,
    RESTORE_IDS_ON,
    SIGEV_NONE,
    SIGEV_THREAD_ID,
)
from timertui.restore import decisions
from timertui.restore import events as ev
from timertui.restore.costs import Costs, load_costs
from timertui.restore.kernels import (
    PROFILES,
    Allocator,
    Kernel,
    Walk,
    parse_kernel,
)
from timertui.restore.plan import RestorePlan, RunOptions, TargetFacts, wrap_cost
from timertui.restore.stream import EventStream

__all__ = [
    "INSTANT_PROGRESS",
    "PACES",
    "PROFILES",
    "SIM_DECISION_CODES",
    "PaceError",
    "SimRun",
    "parse_pace",
    "start",
]

PACES = ("instant", "real", "x10", "x0.1")

SIM_DECISION_CODES: dict[str, str] = {
    "sim-model": "the modelled kernel and target, and where the predicted times come from",
    "walk-stuck": "the allocator hands the walk the same ID again: it never advances",
    "fillers": "a lowest-free kernel is restored with filler timers kept alive below each ID",
    "sim-hold": "--hold needs a paced playback (real or xN): nothing is held when instant",
}

# Instant playback: about this many progress events at most for a whole walk, so a predicted
# half-hour wrap past INT_MAX stays a few hundred events.
INSTANT_PROGRESS = 200
_EXACT_STRIDE = 64  # the native exact loop looks at its deadline every this many creates
_HOLD_REPORT_NS = 100_000_000  # expirations are summed per timer over this long, as native
_PENDING, _CREATED, _FAILED = 0, 1, 2


class PaceError(InputError):
    """A playback pace the simulator does not know."""


def parse_pace(text: str) -> float | None:
    """`instant` (or ""): None; `real`: 1.0; `xN`: N, how many times faster than predicted."""
    pace = text.strip().lower()
    if pace in ("", "instant"):
        return None
    if pace == "real":
        return 1.0
    if pace[:1] in ("x", "\N{MULTIPLICATION SIGN}"):
        try:
            speed = float(pace[1:])
        except ValueError:
            speed = 0.0
        if math.isfinite(speed) and speed > 0:
            return speed
    raise PaceError(f"unknown pace {text!r} (instant, real or xN, e.g. x10 or x0.1)")


def start(
    plan: RestorePlan,
    options: RunOptions,
    kernel: str = "",
    pace: str = "",
    costs: Costs | None = None,
    host: TargetFacts | None = None,
) -> SimRun:
    """The backend entry point `timertui.restore.run` calls. `kernel` is a profile as
    `kernels.parse_kernel` reads it ("" for this host's); `costs` defaults to this host's
    calibration, or the built-in defaults. `host` is what the caller knows of the host it would
    start the target on (native.local_facts()), for what the profile leaves open."""
    return SimRun(
        plan, options, parse_kernel(kernel), costs or load_costs(), parse_pace(pace), host
    )


class SimRun(EventStream):
    """The events of one simulated restore, played back at the chosen pace. `cancel()` may be
    called from any thread: the stream ends with an Error event `cancelled`. `allocator` holds
    the modelled target once the run is over (its `ids` are the timers it ends with)."""

    def __init__(
        self,
        plan: RestorePlan,
        options: RunOptions,
        kernel: Kernel,
        costs: Costs,
        speed: float | None,
        host: TargetFacts | None,
    ) -> None:
        self.plan = plan
        self.options = options
        self.kernel = kernel
        self.costs = costs
        self.speed = speed
        self.pid = plan.source_pid  # CRIU restores a process under its own pid
        self._sim = _Sim(plan, options, kernel, costs, speed, host)
        self._events: Generator[ev.Event, None, None] = self._sim.events()
        self._cancel = threading.Event()
        self._wall0 = 0
        self._finished = False

    @property
    def allocator(self) -> Allocator:
        return self._sim.alloc

    def cancel(self) -> None:
        """Stop the playback (thread-safe); the iterating thread then gets Error `cancelled`."""
        self._cancel.set()

    def _next(self) -> ev.Event:
        if self._finished:
            raise StopIteration
        if not self._wall0:
            self._wall0 = time.monotonic_ns()
        if self._cancel.is_set():
            return self._cancelled()
        try:
            event = next(self._events)
        except StopIteration:
            if not self._sim.holding:
                self._finished = True
                raise
            self._cancel.wait()  # holding with nothing left to expire: until cancelled
            return self._cancelled()
        if self.speed is not None:
            due = self._wall0 + event.t_ns / self.speed
            delay = (due - time.monotonic_ns()) / 1e9
            if delay > 0 and self._cancel.wait(delay):
                return self._cancelled()
        return event

    def _halt(self) -> None:
        self._finished = True
        self._events.close()

    def _cancelled(self) -> ev.Event:
        self._halt()
        sim = self._sim
        return ev.Error(
            round(sim.t), "cancelled", f"restore cancelled in the {sim.phase_now} phase (simulated)"
        )


class _Sim:
    """The restore as the native worker runs it (worker._Restore), against the model."""

    def __init__(
        self,
        plan: RestorePlan,
        opts: RunOptions,
        kernel: Kernel,
        costs: Costs,
        speed: float | None,
        host: TargetFacts | None,
    ) -> None:
        self.plan = plan
        self.opts = opts
        self.kernel = kernel
        self.costs = costs
        self.speed = speed
        limit, in_use, alarm = _target_facts(plan, kernel, host)
        self.alloc = Allocator(kernel, alarm=alarm, limit=limit, in_use=in_use)
        self.t = 0.0  # predicted ns since the run's start
        self.phase_now = "spawn"
        self.phases: dict[str, int] = {}
        self.syscalls = self.creates = self.deletes = 0
        self.mode = ""
        self.fatal = False
        self.restore_ids_on = False
        self.holding = False
        self.state = bytearray([_PENDING]) * len(plan.timers)
        self.armed_at = 0.0
        self.report_every = opts.chunk_ns * (speed or 1.0)  # progress every chunk of wall time
        self.next_report = 0.0
        self.unreported: list[int] = []  # created since the last TimerState event

    # -- reporting ---------------------------------------------------------------------------

    def now(self) -> int:
        return round(self.t)

    def decide(self, decision: ev.Decision) -> ev.Decision:
        """A decision (from timertui.restore.decisions, or one only the simulator makes)
        stamped with the time now."""
        self.fatal = self.fatal or decision.severity == "fatal"
        return dataclasses.replace(decision, t_ns=self.now())

    def fail(self, lo: int, hi: int, err: int, detail: str) -> ev.TimerState:
        self.state[lo:hi] = bytes([_FAILED]) * (hi - lo)
        return ev.TimerState(self.now(), "failed", self.plan.ids[lo:hi], err, detail)

    def phase(self, name: str, steps: Iterator[ev.Event]) -> Iterator[ev.Event]:
        self.phase_now = name
        begin = self.t
        yield from steps
        ns = round(self.t - begin)
        self.phases[name] = ns
        yield ev.Phase(self.now(), name, ns)

    # -- the restore -------------------------------------------------------------------------

    def events(self) -> Generator[ev.Event, None, None]:
        plan, opts, costs = self.plan, self.opts, self.costs
        start = costs.spawn_start_ns if opts.start == "spawn" else costs.process_start_ns
        self.t = start + len(plan.timers) * costs.start_timer_ns
        yield ev.Start(
            self.now(),
            "sim",
            plan.source_pid,
            plan.source_pid,
            plan.comm,
            opts.mode,
            len(plan.timers),
            plan.max_id,
            opts.hold,
            self.kernel.label,
        )
        yield self.decide(ev.Decision(0, "sim-model", self.model_text(), "info"))
        self.phases["spawn"] = self.now()
        yield ev.Phase(self.now(), "spawn", self.now())
        for d in plan.decisions:
            yield ev.Decision(self.now(), d.code, d.reason, d.severity, d.timer_id)
        yield from self.phase("setup", self.setup())
        if not self.fatal:
            yield from self.phase("probe", self.probe())
        if not self.fatal and plan.timers:
            walk = self.create_walk() if self.mode == "walk" else self.create_exact()
            yield from self.phase("create", walk)
        if _CREATED in self.state:
            yield from self.phase("arm", self.arm())
        if self.restore_ids_on:
            yield from self.phase("prctl-off", self.prctl_off())
        checks: list[ev.TimerCheck] = []
        yield from self.phase("verify", self.verify(checks))
        equal = sum(c.equal for c in checks)
        ok = not self.fatal and _FAILED not in self.state and equal == len(plan.timers)
        self.holding = opts.hold and self.speed is not None
        if opts.hold and not self.holding:
            yield self.decide(
                ev.Decision(
                    0,
                    "sim-hold",
                    "--hold plays the restored process's expirations back in time: it needs "
                    "--pace real or xN; with instant pacing nothing is held",
                    "info",
                )
            )
        yield ev.Done(
            self.now(),
            ok,
            self.mode,
            self.creates,
            self.deletes,
            self.syscalls,
            dict(self.phases),
            self.now(),
            equal,
            len(plan.timers) - equal,
            self.holding,
        )
        if self.holding:
            self.phase_now = "hold"
            yield from self.hold()

    def model_text(self) -> str:
        a, c = self.alloc, self.costs
        limit = "unlimited" if a.limit < 0 else f"{a.limit} ({a.in_use} in use by this user)"
        return (
            f"simulated kernel {self.kernel.label} ({PROFILES[self.kernel.name]}); "
            f"RLIMIT_SIGPENDING {limit}; alarm clocks {'work' if a.alarm else 'unsupported'}. "
            f"Times predicted from costs {c.describe()}: walk step {c.pair_ns:.0f} ns "
            f"(create {c.create_ns:.0f} + delete {c.delete_ns:.0f}), exact create "
            f"{c.exact_create_ns:.0f} ns, settime {c.settime_ns:.0f} ns, prctl "
            f"{c.prctl_ns:.0f} ns, process start {c.process_start_ns / 1e6:.1f} ms"
        )

    def setup(self) -> Iterator[ev.Event]:
        self.t += self.costs.setup_ns + len(self.plan.timers) * self.costs.setup_timer_ns
        taken, counter = self.target()
        if taken or counter:
            yield self.prepare(taken, counter)
        yield from self.check_headroom()

    def target(self) -> tuple[tuple[int, ...], int]:
        """The target's taken IDs and ID counter: the plan's (as native realises them), then
        the profile's."""
        spec, params = self.plan.target, self.kernel.params
        taken = spec.taken_ids + tuple(i for i in params.taken if i not in spec.taken_ids)
        counter = 0 if self.kernel.lowest_free else spec.start_counter or params.counter
        return taken, counter

    def prepare(self, taken: tuple[int, ...], counter: int) -> ev.Decision:
        """Take the IDs and set the counter, the way the native worker does it with exact IDs:
        create each taken ID, then one at counter - 1, deleted again."""
        a = self.alloc
        marker = () if self.kernel.lowest_free else ((counter - 1) & INT_MAX,)
        for want in (*taken, *marker):
            self.t += self.costs.exact_create_ns
            err = 0 if a.room() else errno.EAGAIN
            err = err or (errno.EBUSY if want in a.busy else 0)
            if err:
                return self.decide(decisions.target_failed(str(OSError(err, os.strerror(err)))))
            a.take(want)
        for want in marker:
            a.delete(want)
        a.counter = counter & INT_MAX
        prepared = decisions.target_prepared(taken, counter)
        if self.kernel.lowest_free:  # no counter to set
            prepared = dataclasses.replace(
                prepared, reason=f"target prepared: IDs {list(taken)} taken"
            )
        return self.decide(prepared)

    def check_headroom(self) -> Iterator[ev.Event]:
        """The worker's own RLIMIT_SIGPENDING check, for a plan without facts."""
        a = self.alloc
        if self.plan.facts is not None or a.limit < 0:
            return
        in_use = a.in_use + a.held
        need = len(self.plan.timers)
        if a.limit - in_use >= need:
            return
        yield self.decide(decisions.rlimit_headroom(a.limit, in_use, need))

    def probe(self) -> Iterator[ev.Event]:
        forced = self.opts.mode
        self.syscalls += 1
        self.t += self.costs.probe_ns
        if forced == "walk":
            ret = self.alloc.prctl(RESTORE_IDS_GET)
            exact = ret >= 0
            yield ev.Probe(self.now(), exact, max(-ret, 0), _probe_text(ret))
            self.mode = "walk"
            yield self.decide(decisions.walk_mode(forced=True, kernel_has_exact=exact))
            return
        ret = self.alloc.prctl(RESTORE_IDS_ON)
        yield ev.Probe(self.now(), ret == 0, max(-ret, 0), _probe_text(ret))
        if ret == 0:
            self.restore_ids_on = True
            self.mode = "exact"
            yield self.decide(decisions.exact_mode(forced=forced == "exact"))
        elif forced == "exact":
            yield self.decide(decisions.exact_unsupported())
        else:  # the models' prctl fails only with EINVAL
            self.mode = "walk"
            yield self.decide(decisions.walk_mode(forced=False, kernel_has_exact=False))

    def progress(self, done: int, current_id: int, started: float, left: int) -> ev.Progress:
        elapsed = self.t - started
        rate = self.creates * 1e9 / elapsed if elapsed > 0 else 0.0
        eta = int(left / rate * 1e9) if rate > 0 else -1
        plan = self.plan
        return ev.Progress(
            self.now(),
            "create",
            done,
            len(plan.timers),
            current_id,
            plan.max_id,
            self.creates,
            self.deletes,
            rate,
            eta,
        )

    # -- exact mode --------------------------------------------------------------------------

    def create_exact(self) -> Iterator[ev.Event]:
        timers, ids, a = self.plan.timers, self.plan.ids, self.alloc
        n = len(timers)
        per = self.costs.exact_create_ns
        chunk = max(math.ceil(self.opts.chunk_ns / max(per, 1) / _EXACT_STRIDE), 1) * _EXACT_STRIDE
        self.t += self.costs.create_phase_ns
        started = self.t
        i = 0
        while i < n:
            k = min(chunk, n - i)
            ok_ids = []
            for j in range(i, i + k):
                t = timers[j]
                self.t += per
                got = a.create(t.clock, t.notify, t.signo, t.id)
                if got < 0:
                    yield from self.exact_failed(j, -got)
                else:
                    self.state[j] = _CREATED
                    ok_ids.append(got)
            self.creates += k
            self.syscalls += k
            if ok_ids:
                yield ev.TimerState(self.now(), "created", tuple(ok_ids))
            i += k
            yield self.progress(i, ids[i - 1], started, n - i)
            if self.fatal:
                if i < n:
                    yield self.fail(i, n, errno.EAGAIN, "not attempted")
                return

    def exact_failed(self, index: int, err: int) -> Iterator[ev.Event]:
        t = self.plan.timers[index]
        yield self.decide(decisions.exact_create_failed(index, t.id, t.clock, err))
        yield self.fail(index, index + 1, err, errno_text(err))

    # -- the walk ----------------------------------------------------------------------------

    def create_walk(self) -> Iterator[ev.Event]:
        timers, a = self.plan.timers, self.alloc
        n = len(timers)
        self.t += self.costs.create_phase_ns
        started = self.t
        if self.speed is None:
            self.report_every = max(self.report_every, self.walk_estimate() / INSTANT_PROGRESS)
        self.next_report = started + self.report_every
        fillers = self.kernel.lowest_free and self.kernel.params.fillers
        if fillers:
            yield self.decide(ev.Decision(0, "fillers", self.fillers_text(0), "info"))
        done, last_id, wrapping = 0, -1, False
        while done < n:
            t = timers[done]
            if fillers:
                w = a.fill(t.clock, t.notify, t.signo, t.id)
            else:
                w = a.walk(t.clock, t.notify, t.signo, t.id, wrapping)
            yield from self.walk_time(w, done, started, with_deletes=not fillers)
            last_id = last_id if w.last_id is None else w.last_id
            wrapping = False
            if w.result == "done":
                self.state[done] = _CREATED
                self.unreported.append(t.id)
                self.t += self.costs.walk_timer_ns
                done += 1
                continue
            yield from self.report_created()
            if w.result == "above":
                wrapping = yield from self.walk_above(done, last_id)
                if wrapping:
                    continue
            elif w.result == "stuck":
                reason = self.stuck_text(done, last_id)
                yield self.decide(ev.Decision(0, "walk-stuck", reason, "fatal", t.id))
            else:
                yield self.decide(decisions.walk_create_failed(done, t.id, w.errno))
            yield self.fail(done, n, 0, "not created: the walk stopped")
            break
        if fillers:
            dropped = a.drop_fillers()
            self.deletes += dropped
            self.t += dropped * self.costs.delete_ns
        yield from self.report_created()
        self.syscalls += self.creates + self.deletes
        yield self.progress(done, last_id, started, self.walk_left(last_id) if done < n else 0)

    def walk_time(
        self, w: Walk, done: int, started: float, with_deletes: bool
    ) -> Iterator[ev.Event]:
        """Advance the clock over a walk's legs, with progress wherever a report falls due."""
        costs = self.costs
        per = costs.create_ns + (costs.delete_ns if with_deletes else 0.0)
        creates, deletes = self.creates, self.deletes
        finish = self.t + w.creates * costs.create_ns + w.deletes * costs.delete_ns
        so_far = 0
        for index, leg in enumerate(w.legs):
            begin = self.t
            # Every step a create and a delete, but the kept last one: the walk's total.
            end = finish if index == len(w.legs) - 1 else min(begin + leg.creates * per, finish)
            self.next_report = max(self.next_report, begin)
            while self.next_report < end:
                k = min(int((self.next_report - begin) / per), leg.creates - 1)
                self.t = self.next_report
                self.creates = creates + so_far + k
                self.deletes = deletes + (so_far + k if with_deletes else 0)
                current = leg.first + (leg.last - leg.first) * k // max(leg.creates - 1, 1)
                yield from self.report_created()
                yield self.progress(done, current, started, self.walk_left(current))
                self.next_report += self.report_every
            self.t = end
            so_far += leg.creates
        self.t = finish
        if w.result == "failed":
            self.t += costs.create_ns
        self.creates = creates + w.creates
        self.deletes = deletes + w.deletes

    def walk_estimate(self) -> float:
        """The walk's predicted time, roughly: every ID from the counter (round INT_MAX if it
        is past the first wanted one) to the last wanted one."""
        counter, plan = self.alloc.counter, self.plan
        if plan.ids[0] >= counter:
            steps = plan.max_id - counter + 1
        else:
            steps = wrap_cost(counter, plan.max_id)
        return steps * self.costs.pair_ns

    def report_created(self) -> Iterator[ev.Event]:
        if self.unreported:
            yield ev.TimerState(self.now(), "created", tuple(self.unreported))
            self.unreported = []

    def walk_left(self, last: int) -> int:
        """Creates still to go, about, as the native progress counts them."""
        max_id = self.plan.max_id
        if last > max_id:
            return wrap_cost(last + 1, max_id)
        return max(max_id - last, 0)

    def walk_above(self, index: int, got: int) -> Generator[ev.Event, None, bool]:
        """The kernel handed out an ID above the wanted one. True: walk on (wrap allowed)."""
        want = self.plan.timers[index].id
        a = self.alloc
        self.syscalls += 1  # timer_gettime(want): is it the target's?
        if want in a.mine:
            yield self.decide(decisions.walk_overshoot(want, got))
            return False
        if want in a.busy:
            overshoot = decisions.walk_overshoot(want, got)
            reason = (
                f"{decisions.CRIU_NOT_CONSECUTIVE} (wanted ID {want} is held by another "
                f"process: before 3.10 timer IDs are system-wide; the kernel gave {got})"
            )
            yield self.decide(dataclasses.replace(overshoot, reason=reason))
            return False
        rate = 1e9 / self.costs.pair_ns  # the predicted rate
        allowed = self.opts.allow_wrap
        yield self.decide(decisions.wrap_needed(want, got, a.wrap_cost(got, want), allowed, rate))
        return allowed

    def filler_figures(self, index: int) -> tuple[int, int, str]:
        """(fillers, timers alive at once, RLIMIT_SIGPENDING room) for restoring the plan's
        timers from `index` on with fillers."""
        a = self.alloc
        left = len(self.plan.timers) - index
        free = a.busy.free(0, self.plan.max_id)
        peak = a.held + free
        room = "unlimited" if a.limit < 0 else f"{max(a.limit - a.in_use - a.held, 0):,}"
        return free - left, peak, room

    def fillers_text(self, index: int) -> str:
        fillers, peak, room = self.filler_figures(index)
        return (
            f"{self.kernel.name}: the kernel hands out the lowest free ID, so the create/delete "
            "walk cannot advance (a deleted ID is the lowest free one again): every free ID "
            f"below a wanted one gets a filler timer, kept alive until all timers are created: "
            f"{fillers:,} fillers, {peak:,} timers at once, RLIMIT_SIGPENDING room {room}"
        )

    def stuck_text(self, index: int, low: int) -> str:
        want = self.plan.timers[index].id
        if not self.kernel.lowest_free:
            return (
                f"the walk never ends: ID {want} and every ID above it are in use, so the "
                "counter runs round below it forever"
            )
        fillers, peak, room = self.filler_figures(index)
        return (
            f"the walk never advances: the kernel hands out the lowest free ID, {low} for "
            f"wanted ID {want}, and once {low} is deleted the next create gets {low} again "
            "(CRIU's restorer loops here forever). Restoring needs filler timers kept alive in "
            f"the free IDs below ID {self.plan.max_id}: {fillers:,} fillers, {peak:,} timers at "
            f"once, RLIMIT_SIGPENDING room {room}; simulate it with "
            f"--kernel {self.kernel.name}:fillers=yes"
        )

    # -- after the create phase --------------------------------------------------------------

    def arm(self) -> Iterator[ev.Event]:
        timers, state = self.plan.timers, self.state
        armed = tuple(t.id for i, t in enumerate(timers) if t.arm and state[i] == _CREATED)
        if not armed:
            return
        self.t += self.costs.arm_ns + len(armed) * self.costs.settime_ns
        self.armed_at = self.t
        self.syscalls += len(armed)
        yield ev.TimerState(self.now(), "armed", armed)

    def prctl_off(self) -> Iterator[ev.Event]:
        self.syscalls += 1
        self.t += self.costs.prctl_ns
        self.alloc.prctl(RESTORE_IDS_OFF)
        yield from ()

    def verify(self, checks: list[ev.TimerCheck]) -> Iterator[ev.Event]:
        n = len(self.plan.timers)
        self.t += self.costs.verify_ns + n * self.costs.verify_timer_ns
        # timer_gettime of each timer with captured values, as the worker reads them back.
        self.syscalls += sum(t.source.values is not None for t in self.plan.timers)
        absent = (ev.FieldDiff("present", 1, 0),)
        checks.extend(
            ev.TimerCheck(t.id, () if self.state[i] == _CREATED else absent)
            for i, t in enumerate(self.plan.timers)
        )
        yield ev.Verify(self.now(), tuple(checks))

    def hold(self) -> Iterator[ev.Event]:
        """Expirations of the restored timers, summed per report window as the native worker
        does. Only signalling timers on clocks that run while the target sleeps count."""
        firing = [
            (t.id, self.armed_at + t.value_ns, t.interval_ns)
            for i, t in enumerate(self.plan.timers)
            if t.arm
            and self.state[i] == _CREATED
            and t.notify & ~SIGEV_THREAD_ID != SIGEV_NONE
            and decode_clock(t.clock).cpu is None
        ]
        totals = dict.fromkeys((f[0] for f in firing), 0)
        window = self.t
        while True:
            upcoming = [_next_fire(first, every, window) for _, first, every in firing]
            due = [x for x in upcoming if x is not None]
            if not due:
                return  # nothing will expire again
            # Skip empty windows: report at the end of the one holding the next expiry.
            window += max(math.ceil((min(due) - window) / _HOLD_REPORT_NS) - 1, 0) * _HOLD_REPORT_NS
            end = window + _HOLD_REPORT_NS
            self.t = end
            for timer_id, first, every in firing:
                count = _fires(first, every, window, end)
                if count:
                    totals[timer_id] += count
                    yield ev.Expiration(self.now(), timer_id, count, totals[timer_id], 0)
            window = end


def _next_fire(first: float, every: int, after: float) -> float | None:
    """The first expiry later than `after` of a timer due at `first`, then every `every` ns."""
    if first > after:
        return first
    if every <= 0:
        return None
    return first + (math.floor((after - first) / every) + 1) * every


def _fires(first: float, every: int, low: float, high: float) -> int:
    """Expiries in (low, high]."""
    if high < first:
        return 0
    if every <= 0:
        return int(low < first)
    last = math.floor((high - first) / every)
    before = math.floor((low - first) / every) if low >= first else -1
    return last - before


def _probe_text(ret: int) -> str:
    if ret >= 0:
        return "PR_TIMER_CREATE_RESTORE_IDS available"
    return f"PR_TIMER_CREATE_RESTORE_IDS: {errno_text(-ret)}"


def _target_facts(
    plan: RestorePlan, kernel: Kernel, host: TargetFacts | None
) -> tuple[int, int, bool]:
    """RLIMIT_SIGPENDING limit (negative: unlimited), slots in use outside the target, alarm
    support: the plan's, then the profile's, then those of the host the caller gave. The model
    reads nothing of this host: one nobody described has no limit, no slot in use, no alarm."""
    params = kernel.params
    limit = plan.target.sigpending_limit
    if limit is None:
        limit = params.sigpending
    if limit is None:
        limit = host.sigpending_soft if host is not None else -1
    in_use = params.in_use
    if in_use is None:
        in_use = (host.sigpending_in_use or 0) if host is not None else 0
    alarm = params.alarm
    if alarm is None:
        alarm = host is not None and host.alarm_supported is True
    return limit, in_use, alarm
