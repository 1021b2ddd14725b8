"""A restore plan: one process's timers sorted by ID, and every decision that needs no kernel.

Pure (no I/O, no syscalls), so the native worker and the simulator start from the same plan and
report the same pre-kernel decisions. What only the restore target knows — its pid and the tids
of the threads it creates — enters through `expected_timer`, which the worker calls once it
knows them, and which verification compares against.
"""

from __future__ import annotations

from _signal import SIGKILL, SIGSTOP  # not signal: its enums cost ~0.7 ms of `restore`'s start
from itertools import islice, repeat
from operator import attrgetter, is_not, lt

from timertui.choices import DeadThreads, Mode, StartMethod
from timertui.clocks import ALARM_CLOCKS, CpuClockType, decode_clock, make_cpu_clock
from timertui.errors import InputError
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_THREAD_ID,
    ProcessTimers,
    Timer,
    TimerValues,
)
from timertui.records import (
    build_records,
    cached,
    column,
    columns,
    record,
    record_tuple,
    records_from_rows,
)
from timertui.restore import decisions
from timertui.restore.events import Decision, Severity
from timertui.restore.kinds import (
    PlannedITimer,
    PlannedTimerFd,
    itimer_signals,
    plan_itimers,
    plan_timerfds,
)
from timertui.signals import signal_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

UNBLOCKABLE: frozenset[int] = frozenset({SIGKILL, SIGSTOP})
DEFAULT_CHUNK_NS = 20_000_000  # progress at least this often, and the cancel latency


class PlanError(InputError):
    """A process whose timers cannot make a restore plan."""


@record
class TargetSpec:
    """The restore target's state when the restore starts. Defaults: a fresh process.

    `taken_ids` are held by timers that are not the snapshot's (an EBUSY / skipped-ID case);
    `start_counter` is the target's ID counter (a counter past a wanted ID means a wrap);
    `sigpending_limit` lowers the target's RLIMIT_SIGPENDING soft limit. The native worker
    realises all three before restoring; the simulator models them.
    """

    taken_ids: tuple[int, ...] = ()
    start_counter: int = 0
    sigpending_limit: int | None = None

    @property
    def prepared(self) -> bool:
        return bool(self.taken_ids) or self.start_counter != 0


@record
class TargetFacts:
    """What is known of the host the target runs on, for the pre-kernel decisions."""

    sigpending_soft: int  # RLIMIT_SIGPENDING soft limit; negative: unlimited
    sigpending_in_use: int | None = None  # slots the user holds now (SigQ)
    alarm_supported: bool | None = None  # None: not probed


@record
class ClockRemap:
    """A CPU clock that named the snapshot's pid/tid, rebuilt on the target's `thread`
    (index into RestorePlan.threads; 0 is the target's main thread, i.e. the process)."""

    type: CpuClockType
    per_thread: bool
    thread: int


@record
class PlannedTimer:
    """One timer as the target will create it. `thread` is the index of the SIGEV_THREAD_ID
    target in RestorePlan.threads; `value_ns`/`interval_ns` arm it relative to now when `arm`."""

    id: int
    clock: int
    notify: int
    signo: int
    sigval: int
    thread: int | None
    clock_remap: ClockRemap | None
    value_ns: int
    interval_ns: int
    arm: bool
    source: Timer


@record
class RestorePlan:
    """What a backend needs to restore one process's timers; `facts` are what the pre-kernel
    decisions were made with (None: no RLIMIT check was possible before the kernel)."""

    source_pid: int
    comm: str
    timers: tuple[PlannedTimer, ...]  # sorted by ID
    # Snapshot tids the target recreates as threads; [0] is the source pid (the main thread).
    threads: tuple[int, ...]
    decisions: tuple[Decision, ...]
    target: TargetSpec = TargetSpec()
    facts: TargetFacts | None = None
    # The process's timerfds by fd, and its interval timers by `which` (kinds.py).
    timerfds: tuple[PlannedTimerFd, ...] = ()
    itimers: tuple[PlannedITimer, ...] = ()

    @cached
    def ids(self) -> tuple[int, ...]:
        """The wanted IDs in order (computed once: a restore slices it per chunk)."""
        return tuple(column(PlannedTimer, self.timers, "id"))

    @cached
    def valued(self) -> int:
        """How many timers have captured values, which a verify reads back (computed once,
        where the plan is made: a forked worker's pass over the timers would copy their pages)."""
        sources = column(PlannedTimer, self.timers, "source")
        return sum(map(is_not, column(Timer, sources, "values"), repeat(None)))

    @property
    def max_id(self) -> int:
        return self.timers[-1].id if self.timers else -1

    @property
    def signal_mask(self) -> int:
        """Signals the timers send, as a 64-bit set (bit n-1 = signal n), without the two no
        process can block: the target blocks these so no expiry can kill it."""
        mask = 0
        # Over the distinct (notify, signo) pairs: a few, for 10,000 timers.
        hows, sigs = (column(PlannedTimer, self.timers, name) for name in ("notify", "signo"))
        for how, sig in set(zip(hows, sigs, strict=True)):
            if how & ~SIGEV_THREAD_ID != SIGEV_NONE and 1 <= sig <= 64:
                mask |= 1 << (sig - 1)
        for signo in itimer_signals(self.itimers):
            mask |= 1 << (signo - 1)
        for sig in UNBLOCKABLE:
            mask &= ~(1 << (sig - 1))
        return mask

    def decision_codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.decisions)


@record
class RunOptions:
    """How to run a plan, for every backend."""

    mode: Mode = "auto"
    hold: bool = False
    allow_wrap: bool = False
    chunk_ns: int = DEFAULT_CHUNK_NS
    start: StartMethod = "auto"  # native: fork the caller (single-threaded only) or spawn


def build_plan(
    process: ProcessTimers,
    *,
    target: TargetSpec | None = None,
    facts: TargetFacts | None = None,
    dead_threads: DeadThreads = "remap",
) -> RestorePlan:
    """The plan for restoring `process`'s timers into a fresh target."""
    target = target or TargetSpec()
    _check_ids(process, target)
    builder = _Builder(process, dead_threads, facts)
    timers = _planned_in_bulk(process.timers)
    if timers is None:
        ordered = sorted(process.timers, key=attrgetter("id"))
        timers = tuple(records_from_rows(PlannedTimer, map(builder.plan_timer, ordered)))
    if timers and not any(t.values for t in process.timers):
        builder.note(
            "no-values",
            "info",
            "the snapshot has no timer values (no deep capture): the timers are created "
            "disarmed and their values are not verified",
        )
    if facts is not None:
        builder.check_headroom(len(timers), target)
    timerfds, fd_notes = plan_timerfds(process.timerfds)
    itimers, itimer_notes = plan_itimers(process.itimers or ())
    return RestorePlan(
        source_pid=process.pid,
        comm=process.comm,
        timers=timers,
        threads=tuple(builder.threads),
        decisions=(*builder.decisions, *fd_notes, *itimer_notes),
        target=target,
        facts=facts,
        timerfds=timerfds,
        itimers=itimers,
    )


def _planned_in_bulk(timers: tuple[Timer, ...]) -> tuple[PlannedTimer, ...] | None:
    """The plan of timers in ID order none of which needs a decision (most of a big plan: no
    thread target, a named clock without an alarm, a signal it can block, values all captured
    with time left or none captured), as plan_timer would make it, from their columns in a few
    C-level passes rather than a call per timer; a RecordTuple, so the native arrays come from
    its columns too. None for any other: plan_timer decides each then."""
    if not timers:
        return None
    ids, clocks, notify, _, signo, sigval, values = columns(Timer, timers)
    if not all(map(lt, ids, islice(ids, 1, None))):
        return None
    kinds = set(clocks)
    if (
        any(n & SIGEV_THREAD_ID for n in set(notify))
        or min(kinds) < 0
        or kinds & ALARM_CLOCKS
        or set(signo) & UNBLOCKABLE
    ):
        return None
    n, captured = len(ids), set(map(type, values))
    if captured == {type(None)}:
        value = interval = (0,) * n
        arm = False
    elif type(None) in captured:
        return None
    else:
        value, interval, _ = columns(TimerValues, values)
        if min(value) <= 0:
            return None  # an expired one: plan_timer arms it from its interval, or not at all
        arm = True
    nothing = (None,) * n
    return record_tuple(
        PlannedTimer, ids, clocks, notify, signo, sigval, nothing, nothing, value, interval,
        (arm,) * n, timers,
    )  # fmt: skip


def expected_timer(planned: PlannedTimer, pid: int, tids: Sequence[int]) -> Timer:
    """The timer as the target must hold it, once its `pid` and thread `tids` (indexed like
    RestorePlan.threads, tids[0] == pid) are known: what to create and what to verify."""
    return expected_timers((planned,), pid, tids)[0]


def expected_timers(planned: Sequence[PlannedTimer], pid: int, tids: Sequence[int]) -> list[Timer]:
    """expected_timer of each of `planned`, made in bulk (a worker's 10,000 timers)."""
    clocks = [t.clock if t.clock_remap is None else remapped_clock(t, pid, tids) for t in planned]
    targets = [pid if t.thread is None else tids[t.thread] for t in planned]
    columns = [list(map(attrgetter(name), planned)) for name in ("id", "notify", "signo", "sigval")]
    ids, notify, signo, sigval = columns
    return build_records(Timer, ids, clocks, notify, targets, signo, sigval, repeat(None, len(ids)))


def remapped_clock(planned: PlannedTimer, pid: int, tids: Sequence[int]) -> int:
    """The CPU clock of a timer whose clock_remap is set, naming the target's `pid` or thread."""
    remap = planned.clock_remap
    assert remap is not None
    owner = tids[remap.thread] if remap.per_thread else pid
    return make_cpu_clock(owner, remap.type, remap.per_thread)


def _first_bad_id(process: ProcessTimers) -> None:
    seen: set[int] = set()
    for t in process.timers:
        if not 0 <= t.id <= INT_MAX:
            raise PlanError(f"pid {process.pid}: timer ID {t.id} outside 0..{INT_MAX}")
        if t.id in seen:
            raise PlanError(f"pid {process.pid}: timer ID {t.id} appears twice")
        seen.add(t.id)


def wrap_cost(counter: int, wanted: int, taken: int = 0) -> int:
    """Creates a walk needs from `counter` past INT_MAX back round to `wanted` (IDs held by
    other timers, `taken` of them, are skipped by the kernel and cost nothing)."""
    return (INT_MAX - counter + 1) + (wanted + 1) - taken


def _check_ids(process: ProcessTimers, target: TargetSpec) -> None:
    ids = column(Timer, process.timers, "id")
    # In C loops while all is well (10,000 timers); the first offender, in order, otherwise.
    if ids and not (min(ids) >= 0 and max(ids) <= INT_MAX and len(set(ids)) == len(ids)):
        _first_bad_id(process)
    for tid in target.taken_ids:
        if not 0 <= tid <= INT_MAX:
            raise PlanError(f"taken ID {tid} outside 0..{INT_MAX}")
    if not 0 <= target.start_counter <= INT_MAX:
        raise PlanError(f"start counter {target.start_counter} outside 0..{INT_MAX}")


class _Builder:
    def __init__(
        self, process: ProcessTimers, dead_threads: DeadThreads, facts: TargetFacts | None
    ) -> None:
        self.process = process
        self.dead_threads = dead_threads
        self.facts = facts
        self.live = set(process.tids) | {process.pid}
        self.threads: list[int] = [process.pid]
        self.decisions: list[Decision] = []

    def note(self, code: str, severity: Severity, reason: str, timer_id: int | None = None) -> None:
        self.decisions.append(Decision(0, code, reason, severity, timer_id))

    def thread_index(self, tid: int, timer_id: int) -> int:
        if tid not in self.threads:
            self.threads.append(tid)
            self.note(
                "thread-mapped",
                "info",
                f"thread {tid} of pid {self.process.pid} is recreated as thread "
                f"{len(self.threads) - 1} of the target, which has its own tid",
                timer_id,
            )
        return self.threads.index(tid)

    def plan_timer(self, t: Timer) -> tuple[Any, ...]:
        """The PlannedTimer of `t`, as its fields in order (records_from_rows makes them)."""
        if (
            not t.notify & SIGEV_THREAD_ID
            and t.clock >= 0
            and t.clock not in ALARM_CLOCKS
            and t.signo not in UNBLOCKABLE
        ):
            # Nothing to decide (most timers of a big plan): no thread, clock or signal note
            # applies, so the values alone, without the calls below.
            v = t.values
            if v is None:
                return t.id, t.clock, t.notify, t.signo, t.sigval, None, None, 0, 0, False, t
            if v.remaining_ns > 0:
                value, interval = v.remaining_ns, v.interval_ns
                return (
                    t.id,
                    t.clock,
                    t.notify,
                    t.signo,
                    t.sigval,
                    None,
                    None,
                    value,
                    interval,
                    True,
                    t,
                )
        notify, thread = t.notify, None
        if t.thread_targeted:
            if t.target in self.live:
                thread = self.thread_index(t.target, t.id)
            elif self.dead_threads == "none":
                notify = SIGEV_NONE
                self.note(
                    "thread-to-none",
                    "warning",
                    f"timer {t.id}: its notify thread {t.target} is not a thread of pid "
                    f"{self.process.pid}: restored as SIGEV_NONE (it keeps its ID and values "
                    "but signals nobody)",
                    t.id,
                )
            else:
                thread = 0
                self.note(
                    "thread-remapped",
                    "warning",
                    f"timer {t.id}: its notify thread {t.target} is not a thread of pid "
                    f"{self.process.pid}: its signals go to the target's main thread instead",
                    t.id,
                )
        remap = self.clock_remap(t)
        self.check_clock_and_signal(t, notify)
        value, interval, arm = self.values(t, notify)
        return t.id, t.clock, notify, t.signo, t.sigval, thread, remap, value, interval, arm, t

    def clock_remap(self, t: Timer) -> ClockRemap | None:
        if t.clock >= 0:
            return None  # a named clock: nothing names a pid
        info = decode_clock(t.clock)
        cpu = info.cpu
        if cpu is None or cpu.is_self:
            return None
        pid = self.process.pid
        if cpu.per_thread:
            if cpu.pid in self.live:
                index = self.thread_index(cpu.pid, t.id)
                whose = f"thread {index} of the target" if index else "the target's main thread"
            else:
                index = 0
                whose = f"the target's main thread (thread {cpu.pid} is gone)"
            self.note(
                "cpu-clock-remapped",
                "warning" if cpu.pid not in self.live else "info",
                f"timer {t.id}: clock {info.name} names tid {cpu.pid}: created on the "
                f"CPU clock of {whose}",
                t.id,
            )
            return ClockRemap(cpu.type, True, index)
        if cpu.pid != pid:
            self.note(
                "cpu-clock-foreign",
                "warning",
                f"timer {t.id}: clock {info.name} is another process's CPU clock: kept as it "
                f"is (the kernel refuses it with EINVAL if pid {cpu.pid} is gone)",
                t.id,
            )
            return None
        self.note(
            "cpu-clock-remapped",
            "info",
            f"timer {t.id}: clock {info.name} names pid {pid}: created on the target's own "
            "process CPU clock",
            t.id,
        )
        return ClockRemap(cpu.type, False, 0)

    def check_clock_and_signal(self, t: Timer, notify: int) -> None:
        if (
            t.clock in ALARM_CLOCKS
            and self.facts is not None
            and self.facts.alarm_supported is False
        ):
            self.note(
                "alarm-unsupported",
                "error",
                f"timer {t.id}: {decode_clock(t.clock).name} needs an RTC wake-up alarm and "
                "CAP_WAKE_ALARM, which this host does not give: timer_create fails with "
                "EOPNOTSUPP",
                t.id,
            )
        if notify & ~SIGEV_THREAD_ID != SIGEV_NONE and t.signo in UNBLOCKABLE:
            self.note(
                "signal-unblockable",
                "warning",
                f"timer {t.id}: it sends {signal_name(t.signo)}, which the target cannot block: "
                "created, but left disarmed so its expiry cannot stop the target",
                t.id,
            )

    def values(self, t: Timer, notify: int) -> tuple[int, int, bool]:
        v = t.values
        if v is None:
            return 0, 0, False
        blocked = notify & ~SIGEV_THREAD_ID != SIGEV_NONE and t.signo in UNBLOCKABLE
        value = v.remaining_ns
        if value == 0 and v.interval_ns > 0:
            value = v.interval_ns
            self.note(
                "value-from-interval",
                "info",
                f"timer {t.id}: remaining time was 0 at capture: armed with its interval "
                f"({v.interval_ns} ns) so it keeps running, as CRIU does",
                t.id,
            )
        return value, v.interval_ns, not blocked and value > 0

    def check_headroom(self, count: int, target: TargetSpec) -> None:
        facts = self.facts
        assert facts is not None
        limit = (
            facts.sigpending_soft if target.sigpending_limit is None else target.sigpending_limit
        )
        if limit < 0:
            return
        in_use = facts.sigpending_in_use or 0
        if limit - in_use < count + len(target.taken_ids):
            self.decisions.append(
                decisions.rlimit_headroom(limit, in_use, count, len(target.taken_ids))
            )
