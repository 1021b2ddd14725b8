"""The simulator backend: a restore plan replayed against a model of a chosen kernel.

It answers "what would this restore do on kernel X, and how long would it take?" for kernels
this host does not run. It takes the same plan as the native backend and emits the same events,
with the same decision codes and reasons (CRIU's messages where CRIU has one), in the same order:
what the native worker does with syscalls, this does with the allocator model of
timertui.restore.sim.allocator, and it times every step with the cost model of
timertui.restore.sim.costs (this host's calibration, or built-in defaults, named in the output).

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
from collections.abc import Generator, Iterable, Iterator, Sequence

from timertui.clocks import decode_clock
from timertui.errors import InputError
from timertui.model import (
    INT_MAX,
    RESTORE_IDS_GET,
    RESTORE_IDS_OFF,
    RESTORE_IDS_ON,
    SIGEV_NONE,
    SIGEV_THREAD_ID,
)
from timertui.restore import decisions, driver
from timertui.restore import events as ev
from timertui.restore.plan import RestorePlan, RunOptions, TargetFacts, wrap_cost
from timertui.restore.sim.allocator import Allocator, Walk
from timertui.restore.sim.costs import Costs, load_costs
from timertui.restore.sim.profiles import PROFILES, Kernel, parse_kernel
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
_STDIO_FDS = frozenset({0, 1, 2})


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
    profile, speed = parse_kernel(kernel), parse_pace(pace)
    return SimRun(ModelTarget(plan, options, profile, costs or load_costs(), speed, host))


class SimRun(EventStream):
    """The events of one simulated restore, played back at the chosen pace. `cancel()` may be
    called from any thread: the stream ends with an Error event `cancelled`. `allocator` holds
    the modelled target once the run is over (its `ids` are the timers it ends with)."""

    def __init__(self, model: ModelTarget) -> None:
        self.plan = model.plan
        self.speed = model.speed
        self.pid = model.plan.source_pid  # CRIU restores a process under its own pid
        self._model = model
        self._driver = driver.Driver(model.plan, model.options, model)
        self._events = self._driver.events()
        self._cancel = threading.Event()
        self._wall0 = 0
        self._finished = False
        self._holding = False

    @property
    def allocator(self) -> Allocator:
        return self._model.alloc

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
        event = next(self._events, None)
        while isinstance(event, driver.Flush):
            event = next(self._events, None)
        if event is None:
            if not self._holding:
                self._finished = True
                raise StopIteration
            self._cancel.wait()  # holding with nothing left to expire: until cancelled
            return self._cancelled()
        if isinstance(event, ev.Verify):
            event = ev.with_equal_ids(event, self.plan.ids)
        elif isinstance(event, ev.Done):
            self._holding = event.holding
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
        phase = "hold" if self._holding else self._driver.current
        return ev.Error(
            self._model.now(), "cancelled", f"restore cancelled in the {phase} phase (simulated)"
        )


class ModelTarget(driver.Target):
    """The restore target as a model: the allocator of a kernel profile answers, and the cost
    model says how long each step takes (`now` is predicted time)."""

    def __init__(
        self,
        plan: RestorePlan,
        opts: RunOptions,
        kernel: Kernel,
        costs: Costs,
        speed: float | None,
        host: TargetFacts | None,
    ) -> None:
        super().__init__(plan, opts)
        self.kernel = kernel
        self.costs = costs
        self.speed = speed
        limit, in_use, alarm = _target_facts(plan, kernel, host)
        self.alloc = Allocator(kernel, alarm=alarm, limit=limit, in_use=in_use)
        self.t = 0.0  # predicted ns since the run's start
        self.armed_at = 0.0
        self.report_every = opts.chunk_ns * (speed or 1.0)  # progress every chunk of wall time
        self.walker: Generator[driver.WalkStep, bool, None] | None = None
        self.itimers_set = False
        self.next_report = 0.0

    def now(self) -> int:
        return round(self.t)

    def start(self, options: RunOptions) -> driver.Started:
        costs = self.costs
        begin = costs.spawn_start_ns if options.start == "spawn" else costs.process_start_ns
        self.t = begin + len(self.plan.timers) * costs.start_timer_ns
        return driver.Started("sim", self.plan.source_pid, self.kernel.label)

    def notes(self) -> Iterable[ev.Decision]:
        a, c = self.alloc, self.costs
        limit = "unlimited" if a.limit < 0 else f"{a.limit} ({a.in_use} in use by this user)"
        text = (
            f"simulated kernel {self.kernel.label} ({PROFILES[self.kernel.name]}); "
            f"RLIMIT_SIGPENDING {limit}; alarm clocks {'work' if a.alarm else 'unsupported'}. "
            f"Times predicted from costs {c.describe()}: walk step {c.pair_ns:.0f} ns "
            f"(create {c.create_ns:.0f} + delete {c.delete_ns:.0f}), exact create "
            f"{c.exact_create_ns:.0f} ns, settime {c.settime_ns:.0f} ns, prctl "
            f"{c.prctl_ns:.0f} ns, process start {c.process_start_ns / 1e6:.1f} ms"
        )
        return (ev.Decision(0, "sim-model", text, "info"),)

    def setup(self) -> Iterator[ev.Decision]:
        self.t += self.costs.setup_ns + len(self.plan.timers) * self.costs.setup_timer_ns
        taken, counter = self.target()
        if taken or counter:
            yield self.prepare(taken, counter)

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
                return decisions.target_failed(str(OSError(err, os.strerror(err))))
            a.take(want)
        for want in marker:
            a.delete(want)
        a.counter = counter & INT_MAX
        prepared = decisions.target_prepared(taken, counter)
        if self.kernel.lowest_free:  # no counter to set
            prepared = dataclasses.replace(
                prepared, reason=f"target prepared: IDs {list(taken)} taken"
            )
        return prepared

    def sigpending(self) -> tuple[int, int] | None:
        a = self.alloc
        return None if a.limit < 0 else (a.limit, a.in_use + a.held)

    def probe(self, get_only: bool) -> int:
        self.t += self.costs.probe_ns
        return self.alloc.prctl(RESTORE_IDS_GET if get_only else RESTORE_IDS_ON)

    # -- exact mode --------------------------------------------------------------------------

    def create_exact(self, start: int) -> driver.ExactChunk:
        timers, a = self.plan.timers, self.alloc
        per = self.costs.exact_create_ns
        if start == 0:
            self.t += self.costs.create_phase_ns
        chunk = (
            max(math.ceil(self.options.chunk_ns / max(per, 1) / _EXACT_STRIDE), 1) * _EXACT_STRIDE
        )
        count = min(chunk, len(timers) - start)
        errs, got = [], []
        for t in timers[start : start + count]:
            self.t += per
            given = a.create(t.clock, t.notify, t.signo, t.id)
            errs.append(min(given, 0))
            got.append(given if given >= 0 else -1)
        return driver.ExactChunk(count) if not any(errs) else driver.ExactChunk(count, errs, got)

    # -- the walk ----------------------------------------------------------------------------

    def walk_notes(self) -> Iterable[ev.Decision]:
        if self.fillers:
            return (ev.Decision(0, "fillers", self.fillers_text(0), "info"),)
        return ()

    @property
    def fillers(self) -> bool:
        return self.kernel.lowest_free and self.kernel.params.fillers

    def walk(self, wrap: bool) -> driver.WalkStep:
        if self.walker is None:
            self.walker = self.walk_steps()
            return next(self.walker)
        return self.walker.send(wrap)

    def walk_steps(self) -> Generator[driver.WalkStep, bool, None]:
        """The walk, computed a timer at a time (O(timers), not O(creates)), stopping at each
        report due and whenever the driver must decide."""
        timers, a, costs = self.plan.timers, self.alloc, self.costs
        n = len(timers)
        self.t += costs.create_phase_ns
        if self.speed is None:
            self.report_every = max(self.report_every, self.walk_estimate() / INSTANT_PROGRESS)
        self.next_report = self.t + self.report_every
        creates = deletes = done = 0
        last_id, wrapping = -1, False
        while done < n:
            t = timers[done]
            if self.fillers:
                w = a.fill(t.clock, t.notify, t.signo, t.id)
            else:
                w = a.walk(t.clock, t.notify, t.signo, t.id, wrapping)
            for at_creates, at_deletes, current in self.walk_time(w, not self.fillers):
                yield driver.WalkStep(
                    "budget", done, current, creates + at_creates, deletes + at_deletes, wrapping
                )
            creates, deletes = creates + w.creates, deletes + w.deletes
            last_id = last_id if w.last_id is None else w.last_id
            wrapping = False
            if w.result == "done":
                self.t += costs.walk_timer_ns
                done += 1
                continue
            reason = self.stuck_text(done, last_id) if w.result == "stuck" else ""
            # A filled walk ends here whatever happened (the lowest-free allocator never hands
            # out an ID above the wanted one, so there is no wrap to walk on into).
            deletes += self.drop_fillers()
            wrapping = yield driver.WalkStep(
                w.result, done, last_id, creates, deletes, False, w.errno, reason
            )
            if not wrapping:
                return
        yield driver.WalkStep("done", done, last_id, creates, deletes + self.drop_fillers())

    def drop_fillers(self) -> int:
        """Delete the filler timers, if the walk made any; how many."""
        if not self.fillers:
            return 0
        dropped = self.alloc.drop_fillers()
        self.t += dropped * self.costs.delete_ns
        return dropped

    def walk_time(self, w: Walk, with_deletes: bool) -> Iterator[tuple[int, int, int]]:
        """Advance the clock over a walk's legs; at each report due, (creates, deletes, current
        ID) of this walk so far."""
        costs = self.costs
        per = costs.create_ns + (costs.delete_ns if with_deletes else 0.0)
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
                current = leg.first + (leg.last - leg.first) * k // max(leg.creates - 1, 1)
                yield so_far + k, (so_far + k if with_deletes else 0), current
                self.next_report += self.report_every
            self.t = end
            so_far += leg.creates
        self.t = finish
        if w.result == "failed":
            self.t += costs.create_ns

    def walk_estimate(self) -> float:
        """The walk's predicted time, roughly: every ID from the counter (round INT_MAX if it
        is past the first wanted one) to the last wanted one."""
        counter, plan = self.alloc.counter, self.plan
        if plan.ids[0] >= counter:
            steps = plan.max_id - counter + 1
        else:
            steps = wrap_cost(counter, plan.max_id)
        return steps * self.costs.pair_ns

    def holder(self, timer_id: int) -> driver.Holder | None:
        if timer_id in self.alloc.mine:
            return "target"
        return "other" if timer_id in self.alloc.busy else None

    def wrap_figures(self, step: driver.WalkStep, wanted: int) -> tuple[int, float | None]:
        return self.alloc.wrap_cost(step.last_id, wanted), 1e9 / self.costs.pair_ns

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

    def arm(self, state: bytearray) -> driver.Armed:
        armed = [i for i, t in enumerate(self.plan.timers) if t.arm and state[i] == driver.CREATED]
        if armed:
            self.t += self.costs.arm_ns + len(armed) * self.costs.settime_ns
            self.armed_at = self.t
        return driver.Armed(armed)

    def exact_off(self) -> int:
        self.t += self.costs.prctl_ns
        return self.alloc.prctl(RESTORE_IDS_OFF)

    def verify(self, state: bytearray) -> list[ev.TimerCheck]:
        n = len(self.plan.timers)
        self.t += self.costs.verify_ns + n * self.costs.verify_timer_ns
        absent = (ev.FieldDiff("present", 1, 0),)
        return [
            ev.TimerCheck(t.id, absent)
            for i, t in enumerate(self.plan.timers)
            if state[i] != driver.CREATED
        ]

    # -- timerfds and interval timers: fd placement and syscall costs ------------------------

    def restore_timerfds(self) -> list[tuple[int, driver.TimerFdStage]]:
        """A fresh target holds fds 0, 1 and 2 (its stdio). Alarm clocks work without an RTC
        here (timerfd_create asks only for CAP_WAKE_ALARM, unlike timer_create)."""
        results: list[tuple[int, driver.TimerFdStage]] = []
        for t in self.plan.timerfds:
            if t.fd in _STDIO_FDS:
                self.t += self.costs.prctl_ns  # the fcntl that finds it open
                results.append((-errno.EBUSY, "busy"))
                continue
            self.t += self.costs.timerfd_ns + (self.costs.ticks_ns if t.ticks else 0)
            results.append((0, ""))
        return results

    def set_itimers(self) -> list[int]:
        self.t += sum(t.arm for t in self.plan.itimers) * self.costs.itimer_ns
        self.itimers_set = True
        return [0] * len(self.plan.itimers)

    def verify_timerfds(self, restored: Sequence[bool]) -> list[ev.TimerCheck]:
        self.t += len(restored) * self.costs.verify_fd_ns
        absent = (ev.FieldDiff("present", 1, 0),)
        return [
            ev.TimerCheck(t.fd, () if ok else absent, "timerfd")
            for t, ok in zip(self.plan.timerfds, restored, strict=True)
        ]

    def verify_itimers(self) -> list[ev.TimerCheck]:
        self.t += len(self.plan.itimers) * self.costs.itimer_ns
        unset = (ev.FieldDiff("value_us", 1, 0),)  # the restore stopped before setting them
        return [
            ev.TimerCheck(t.which, () if self.itimers_set or not t.arm else unset, "itimer")
            for t in self.plan.itimers
        ]

    def hold_refused(self) -> ev.Decision | None:
        if self.speed is not None:
            return None
        return ev.Decision(
            0,
            "sim-hold",
            "--hold plays the restored process's expirations back in time: it needs "
            "--pace real or xN; with instant pacing nothing is held",
            "info",
        )

    def hold(self, state: bytearray) -> Iterator[ev.Event | driver.Flush]:
        """Expirations of the restored timers, summed per report window as the native worker
        does. Only signalling timers on clocks that run while the target sleeps count."""
        firing = [
            (t.id, self.armed_at + t.value_ns, t.interval_ns)
            for i, t in enumerate(self.plan.timers)
            if t.arm
            and state[i] == driver.CREATED
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
