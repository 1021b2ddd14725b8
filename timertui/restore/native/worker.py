"""The restore worker: runs inside the restore target, a fresh child process, never the app.

It receives a plan, prepares itself as a target (signals blocked, threads for SIGEV_THREAD_ID
targets, the test hooks of TargetSpec), probes exact-ID mode, creates the timers in compiled
loops (exact: each at its ID; walk: create/delete), arms them, turns exact mode off and verifies
from its own /proc/self/timers and timer_gettime. Every step is an event written to `ev_fd`.

The loops run in chunks of `chunk_ns`: between chunks the worker reports progress and looks at
`ctrl_fd`, the read end of a pipe the parent holds open — end of file there means the parent is
gone, and the worker leaves at once. `--hold` keeps it alive after `done`, reporting expirations.

The restore itself is the one sequence of restore/driver.py; this module is its native
Kernel: the syscalls, in compiled loops, against this very process.

Started by `native.py`: forked from a single-threaded caller with the plan in hand (`serve`),
forked ahead of its plan (`serve_message`, while the caller still loads and plans), forked by the
worker server (server.py) or as a fresh interpreter (`main`); all but the first read the plan
from ctrl_fd (handover.py).

Events are written in batches (before each phase, at most FLUSH_NS apart within one, and at the
end), so a short restore costs a few pipe writes and wake-ups of the reader, not one an event.
Verify lists the differing timers only (the reader, who holds the plan, puts the equal ones
back: handover.DIFFERING_ONLY_KEY), so 10,000 equal timers cost nothing to report.
"""

from __future__ import annotations

import gc
import os
import struct
import sys
import time
from array import array

from timertui import _native
from timertui._native import PR_TIMER_CREATE_RESTORE_IDS as PR_RESTORE_IDS
from timertui._native import RESTORE_IDS_GET, RESTORE_IDS_OFF, RESTORE_IDS_ON, ffi, lib
from timertui.errors import errno_text
from timertui.model import INT_MAX, SIGEV_NONE, Timer
from timertui.restore import decisions
from timertui.restore import events as ev
from timertui.restore.driver import (
    CREATED,
    FLUSH,
    Armed,
    Driver,
    ExactChunk,
    Flush,
    Holder,
    Started,
    Target,
    TimerFdStage,
    WalkResult,
    WalkStep,
)
from timertui.restore.kinds import check_itimer, check_timerfd
from timertui.restore.native import handover
from timertui.restore.native.arrays import TimerArrays, ValueArrays, subset
from timertui.restore.native.frames import event_frame
from timertui.restore.plan import (
    PlannedTimer,
    RestorePlan,
    RunOptions,
    expected_timers,
    remapped_clock,
    wrap_cost,
)
from timertui.restore.wire import prepare_decoder, write_all

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any

PR_SET_NAME = 15
WORKER_COMM = b"timertui-rst"
# Remaining-time tolerance on top of the time between arming and reading back.
VERIFY_SLACK_NS = 2_000_000
HOLD_REPORT_NS = 100_000_000  # expirations are summed per timer over this long
FLUSH_NS = 5_000_000  # events wait at most this long in the worker (progress comes per chunk)
_EXPIRY = struct.Struct("iiii")  # struct tt_expiry
_RATE_SAMPLE = 10_000
EXIT_OK, EXIT_FAILED, EXIT_CRASHED = 0, 1, os.EX_SOFTWARE


class _ParentGone(Exception):
    """The control pipe hit end of file: nobody reads our events any more."""


class _EventPipe:
    """Events to the parent, one frame each (frames.py); times relative to the run's start.
    They collect in a buffer and go out when FLUSH_NS passed since the last write, or at flush()
    (which writes nothing when nothing waits)."""

    def __init__(self, fd: int, t0_ns: int) -> None:
        self.fd = fd
        self.t0 = t0_ns
        self.waiting = bytearray()
        self.flush_at = time.monotonic_ns() + FLUSH_NS

    def now(self) -> int:
        return time.monotonic_ns() - self.t0

    def emit(self, event: ev.Event) -> None:
        data = ev.encode(event)
        if isinstance(event, ev.Verify):
            data[handover.DIFFERING_ONLY_KEY] = True
        self.waiting += event_frame(data)
        if time.monotonic_ns() >= self.flush_at:
            self.flush()

    def flush(self) -> None:
        if self.waiting:
            if self.fd >= 0:  # -1 is warm()'s throwaway output: nothing to write
                write_all(self.fd, self.waiting)
            self.waiting = bytearray()
        self.flush_at = time.monotonic_ns() + FLUSH_NS


class NativeTarget(Target):
    """The restore target is this process: every answer is the real kernel's."""

    def __init__(
        self,
        plan: RestorePlan,
        arrays: TimerArrays,
        opts: RunOptions,
        out: _EventPipe,
        ctrl_fd: int,
    ) -> None:
        super().__init__(plan, opts)
        self.arrays = arrays
        self.out = out
        self.ctrl_fd = ctrl_fd
        # Read without waiting (check_parent): no select module to load, a start costs it.
        os.set_blocking(ctrl_fd, False)
        self.pid = os.getpid()
        self.tids = [self.pid]
        self.record_fd = -1
        self.specs: Any = None  # struct tt_spec[], one a timer of the plan
        # The IDs as an int[], to check exact creates with one memcmp.
        self.wanted = ffi.from_buffer("int[]", arrays.ids)
        self.errs: Any = None  # exact creates' -errno and IDs given, for the whole plan
        self.got: Any = None
        self.walk_state: Any = None
        self.walk_started = 0
        self.armed_at = 0
        self.tfds: Any = None  # struct tt_tfd[], one a planned timerfd
        self.fds_at = self.itimers_at = 0
        self.ticks_set: list[bool] = []

    def now(self) -> int:
        return self.out.now()

    def check_parent(self) -> None:
        try:  # non-blocking (__init__): nothing to read is the parent still there
            if not os.read(self.ctrl_fd, 4096):
                raise _ParentGone
        except BlockingIOError:
            pass

    def start(self, options: RunOptions) -> Started:
        return Started("native", self.pid, os.uname().release, self.out.t0)

    def setup(self) -> Iterator[ev.Decision]:
        plan = self.plan
        self.clear_fds()
        name = ffi.new("char[]", WORKER_COMM)
        lib.tt_prctl(PR_SET_NAME, int(ffi.cast("unsigned long", name)))
        # Before any timer or thread exists: threads inherit the mask, expiries stay pending.
        _native.check(lib.tt_block_signals(self.arrays.signal_mask))
        limit = plan.target.sigpending_limit
        if limit is not None:
            _native.check(lib.tt_set_sigpending_soft(limit))
        if plan.target.prepared:
            yield self.prepare_target()
        helpers = len(plan.threads) - 1
        if helpers or self.options.hold:
            read_fd, write_fd = map(self.out_of_the_way, os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC))
            self.record_fd = read_fd
            if helpers:
                tids = ffi.new("int[]", helpers)
                mask = self.arrays.signal_mask
                _native.check(lib.tt_threads_start(helpers, mask, write_fd, tids))
                self.tids.extend(ffi.unpack(tids, helpers))
        self.specs = _specs(plan, self.arrays, self.pid, self.tids)
        self.tfds = _tfds(plan)
        self.warm()

    def clear_fds(self) -> None:
        """Our own pipes away from the fd numbers the plan's timerfds take, and any other fd
        above stdio a forked worker inherited there (a fresh target has none: CRIU's restorer
        moves its own service fds out of the way the same way)."""
        if not self.plan.timerfds:
            return
        self.ctrl_fd = self.out_of_the_way(self.ctrl_fd)
        self.out.fd = self.out_of_the_way(self.out.fd)
        for t in self.plan.timerfds:
            if t.fd > 2:
                try:  # noqa: SIM105 - contextlib costs start-up time (the worker's too)
                    self.out_of_the_way(t.fd)
                except OSError:
                    pass

    def out_of_the_way(self, fd: int) -> int:
        """`fd`, or a copy above every planned timerfd's number (then `fd` is closed)."""
        wanted = {t.fd for t in self.plan.timerfds}
        if fd < 0 or fd not in wanted:
            return fd
        import fcntl  # only a plan with timerfds moves fds

        moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, max(wanted) + 1)
        os.close(fd)
        return moved

    def warm(self) -> None:
        """Encode events into a throwaway output once, before the timed phases. After a fork
        the first run of Python code copies every page it writes (refcounts, and the bytecode
        3.11 rewrites as it warms up): a C loop never pays that, and the create phase should
        not."""
        scratch = _EventPipe(-1, self.out.t0)
        scratch.emit(ev.TimerState(self.now(), "created", self.plan.ids[:1]))
        scratch.emit(ev.Progress(self.now(), "create", 0, 0, -1, -1, 0, 0, 0.0, -1))
        scratch.flush()
        ffi.typeof("struct tt_walk_state *")

    def prepare_target(self) -> ev.Decision:
        """Take the TargetSpec's IDs and set the ID counter, with exact-ID mode (6.15+)."""
        target = self.plan.target
        ret = int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_ON))
        if ret:
            return decisions.target_failed(
                f"it needs PR_TIMER_CREATE_RESTORE_IDS: {errno_text(-ret)}"
            )
        spec = _native.make_spec(1, SIGEV_NONE, 0, 0)
        slot = ffi.new("int *")
        # The counter ends at the last exact ID + 1: create at start_counter - 1 last, and
        # delete it (INT_MAX + 1 masks to 0).
        marker = (target.start_counter - 1) & INT_MAX
        try:
            for want in (*target.taken_ids, marker):
                slot[0] = want
                _native.check(lib.tt_timer_create(spec, slot))
            _native.check(lib.tt_timer_delete(marker))
        except OSError as exc:
            return decisions.target_failed(str(exc))
        finally:
            lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_OFF)
        return decisions.target_prepared(target.taken_ids, target.start_counter)

    def sigpending(self) -> tuple[int, int] | None:
        if self.plan.facts is not None:
            return None  # the plan checked it
        from timertui.capture.host import sigpending_in_use

        limits = ffi.new("long long[2]")
        _native.check(lib.tt_sigpending_limits(limits, limits + 1))
        in_use = sigpending_in_use("self")
        if limits[0] < 0 or in_use is None:  # unlimited, or unknown
            return None
        return int(limits[0]), in_use

    def probe(self, get_only: bool) -> int:
        return int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_GET if get_only else RESTORE_IDS_ON))

    def create_exact(self, start: int) -> ExactChunk:
        n = len(self.plan.timers)
        if self.errs is None:
            self.errs, self.got = ffi.new("int[]", n), ffi.new("int[]", n)
        errs, got = self.errs + start, self.got + start
        deadline = time.monotonic_ns() + self.options.chunk_ns
        k = int(lib.tt_create_exact_until(self.specs + start, n - start, errs, got, deadline))
        self.check_parent()
        # A failed create leaves -1 in `got`, so one memcmp finds every fault in the chunk.
        if ffi.buffer(got, 4 * k)[:] == ffi.buffer(self.wanted + start, 4 * k)[:]:
            return ExactChunk(k)
        return ExactChunk(k, ffi.unpack(errs, k), ffi.unpack(got, k))

    def walk(self, wrap: bool) -> WalkStep:
        state = self.walk_state
        if state is None:
            state = self.walk_state = ffi.new("struct tt_walk_state *")
            state.last_id = -1
            self.walk_started = time.monotonic_ns()
        if wrap:
            state.wrapping = 1
        deadline = time.monotonic_ns() + self.options.chunk_ns
        ret = int(lib.tt_walk_many(self.specs, len(self.plan.timers), deadline, state))
        step = WalkStep(
            result=_WALK_RESULTS.get(ret, "failed"),
            done=int(state.index),
            last_id=int(state.last_id),
            creates=int(state.creates),
            deletes=int(state.deletes),
            wrapping=bool(state.wrapping),
            err=max(-ret, 0),
        )
        if step.result == "budget":
            self.check_parent()
        return step

    def holder(self, timer_id: int) -> Holder | None:
        scratch = ffi.new("long long[2]")
        return "target" if lib.tt_timer_gettime(timer_id, scratch, scratch + 1) == 0 else None

    def wrap_figures(self, step: WalkStep, wanted: int) -> tuple[int, float | None]:
        # Skipped on the way round: the timers restored so far (all below `wanted`) and the
        # target's other timers past the counter or up to `wanted`.
        got = step.last_id
        others = sum(1 for x in self.plan.target.taken_ids if x <= wanted or x > got)
        cost = wrap_cost(got + 1, wanted, step.done + others)
        elapsed = time.monotonic_ns() - self.walk_started
        # Fewer creates than _RATE_SAMPLE say nothing about the rate.
        rate = step.creates * 1e9 / elapsed if step.creates >= _RATE_SAMPLE else None
        return cost, rate

    def arm(self, state: bytearray) -> Armed:
        armed = self.arrays.armed
        if armed.count and state.count(CREATED) != len(state):
            armed = subset(armed, lambda i: state[i] == CREATED)  # some failed: not those
        n = armed.count
        if not n:
            return Armed(())
        indices = array("i", armed.indices)
        errs = ffi.new("int[]", n)
        self.armed_at = time.monotonic_ns()
        lib.tt_arm_many(*_c_arrays(armed), n, errs)
        first, last = indices[0], indices[-1]
        if ffi.buffer(errs, 4 * n)[:] == bytes(4 * n):
            return Armed(range(first, last + 1) if last - first + 1 == n else indices)
        return Armed(indices, ffi.unpack(errs, n))

    def exact_off(self) -> int:
        return int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_OFF))

    def verify(self, state: bytearray) -> list[ev.TimerCheck]:
        """Every timer against the plan, from /proc/self/timers (what CRIU would dump) and
        timer_gettime. The common case costs no Python per timer: the kernel's listing is
        compared with the one the plan expects in one pass, and the values read back with the
        armed ones in C; only the timers found different there are looked at field by field."""
        timers, valued = self.plan.timers, self.arrays.valued
        n, k = len(timers), valued.count
        # The kernel's listing is read on a thread of its own meanwhile (the longest part of a
        # verify: ~13 ms for 10,000 timers), and compared last. Not for a few timers: their
        # listing takes microseconds, and a new thread can wait a scheduler tick to run.
        threaded = n >= _THREADED_READ_MIN
        reading = lib.tt_read_start(_OWN_TIMERS_PATH, _LISTING_LINE_MAX * n + 1, threaded)
        text, length = ffi.NULL, -1
        try:
            text, length = _format_listing(self.specs, n, self.pid)
            got_values = ffi.new("long long[]", k)
            got_intervals = ffi.new("long long[]", k)
            errs = ffi.new("int[]", k)
            ids, want_values, want_intervals = _c_arrays(valued)
            lib.tt_gettime_many(ids, k, got_values, got_intervals, errs)
            elapsed = time.monotonic_ns() - self.armed_at if self.armed_at else 0
            slack = elapsed + VERIFY_SLACK_NS
            bad = ffi.new("int[]", k)
            found = lib.tt_check_armed(
                k, want_values, want_intervals, errs, got_values, got_intervals, slack, bad
            )
        finally:
            # Whatever happened meanwhile: this waits for the read and frees it. Without memory
            # for it (NULL), the listing is parsed and compared below instead.
            listed = reading != ffi.NULL and int(lib.tt_read_equals(reading, text, length)) == 1
        indices = array("i", valued.indices)
        suspects = [indices[j] for j in ffi.unpack(bad, found)]
        at = {i: j for j, i in enumerate(indices)} if suspects or not listed else {}
        actual: dict[int, Timer] | None = None
        expected: list[Timer] = []
        if not listed:
            # Loaded only here, on the rare path: the parser's module is not light.
            from timertui.capture.proc_timers import parse_timers

            own = _own_timers_text()
            actual = {t.id: t for t in parse_timers(own, _OWN_TIMERS, skip_repeats=True)}
            expected = expected_timers(timers, self.pid, self.tids)
            suspects = list(range(n))
        differing = []
        for i in suspects:
            t, j = timers[i], at.get(i)
            err = errs[j] if j is not None else 0
            diffs: list[ev.FieldDiff] = []
            if actual is not None or err:
                seen = actual.get(t.id) if actual is not None else None
                if seen is None or err:
                    differing.append(ev.TimerCheck(t.id, (ev.FieldDiff("present", 1, 0),)))
                    continue
                if seen != expected[i]:
                    diffs = _field_diffs(expected[i], seen)
            if j is not None:
                diffs += _value_diffs(t, got_values[j], got_intervals[j], elapsed)
            if diffs:
                differing.append(ev.TimerCheck(t.id, tuple(diffs)))
        return differing

    def restore_timerfds(self) -> list[tuple[int, TimerFdStage]]:
        n = len(self.plan.timerfds)
        errs, stages = ffi.new("int[]", n), ffi.new("int[]", n)
        self.fds_at = time.monotonic_ns()
        lib.tt_restore_timerfds(self.tfds, n, errs, stages)
        results = [(int(errs[i]), _TFD_STAGES[stages[i]]) for i in range(n)]
        self.ticks_set = [stage != "ticks" for _, stage in results]
        return results

    def set_itimers(self) -> list[int]:
        self.itimers_at = time.monotonic_ns()
        return [
            int(lib.tt_setitimer(t.which, t.value_s, t.value_us, t.interval_s, t.interval_us))
            if t.arm
            else 0
            for t in self.plan.itimers
        ]

    def verify_timerfds(self, restored: Sequence[bool]) -> list[ev.TimerCheck]:
        """From our own /proc/self/fdinfo, as CRIU would dump them (fdinfo does not re-arm a
        timer the way timerfd_gettime does); each timed when it is read."""
        from timertui.capture.timerfds import parse_timerfd

        checks = []
        for i, t in enumerate(self.plan.timerfds):
            got = None
            if restored[i]:
                try:
                    with open(f"/proc/self/fdinfo/{t.fd}") as f:  # noqa: PTH123
                        parsed = parse_timerfd(f.read(), t.fd)
                    got = parsed if not isinstance(parsed, str) else None
                except OSError:
                    got = None
            elapsed = time.monotonic_ns() - self.fds_at
            now = time.clock_gettime_ns(t.clock) if t.deadline_ns else 0
            ticks_set = self.ticks_set[i] if self.ticks_set else False
            checks.append(check_timerfd(t, got, elapsed, now, ticks_set))
        return checks

    def verify_itimers(self) -> list[ev.TimerCheck]:
        elapsed = time.monotonic_ns() - self.itimers_at if self.itimers_at else 0
        out = ffi.new("long long[4]")
        checks = []
        for t in self.plan.itimers:
            ret = lib.tt_getitimer(t.which, out, out + 1, out + 2, out + 3)
            got = None if ret else (int(out[0]), int(out[1]), int(out[2]), int(out[3]))
            checks.append(check_itimer(t, got, elapsed))
        return checks

    def hold(self, state: bytearray) -> Iterator[ev.Event | Flush]:
        """Stay alive as the restored process, reporting expirations, until the parent leaves."""
        import select  # only a held target waits on its fds

        sfd = _native.check(lib.tt_signalfd(self.arrays.signal_mask))
        poller = select.poll()
        poller.register(self.ctrl_fd, select.POLLIN)
        poller.register(sfd, select.POLLIN)
        if self.record_fd >= 0:
            poller.register(self.record_fd, select.POLLIN)
        buf = ffi.new("struct tt_expiry[]", 64)
        pending: dict[int, tuple[int, int]] = {}  # timer -> (count, overrun) since last report
        totals: dict[int, int] = {}
        next_report = time.monotonic_ns() + HOLD_REPORT_NS
        while True:
            timeout_ms = max(0, (next_report - time.monotonic_ns()) // 1_000_000)
            for fd, _ in poller.poll(timeout_ms if pending else None):
                if fd == self.ctrl_fd:
                    self.check_parent()
                    continue
                records: list[tuple[int, int, int, int]]
                if fd == sfd:
                    got = int(lib.tt_read_expiries(sfd, buf, 64))
                    records = [(buf[k].timer_id, buf[k].overrun, 0, 0) for k in range(max(got, 0))]
                else:
                    records = list(_EXPIRY.iter_unpack(_whole_records(self.record_fd)))
                for timer_id, overrun, _, _ in records:
                    count, over = pending.get(timer_id, (0, 0))
                    pending[timer_id] = (count + 1 + overrun, over + overrun)
            if pending and time.monotonic_ns() >= next_report:
                for timer_id, (count, over) in sorted(pending.items()):
                    totals[timer_id] = totals.get(timer_id, 0) + count
                    yield ev.Expiration(self.now(), timer_id, count, totals[timer_id], over)
                yield FLUSH
                pending.clear()
                next_report = time.monotonic_ns() + HOLD_REPORT_NS
            elif not pending:
                next_report = time.monotonic_ns() + HOLD_REPORT_NS


_WALK_RESULTS: dict[int, WalkResult] = {0: "done", 1: "budget", 2: "above"}  # tt_walk_many's


_OWN_TIMERS = "/proc/self/timers"
_OWN_TIMERS_PATH = _OWN_TIMERS.encode()
_THREADED_READ_MIN = 1000  # timers from which a verify reads the listing on a thread


def _own_timers_text() -> str:
    """/proc/self/timers in one pass (the kernel lists a page per read(), each restarting at a
    position: consistent here, where only this process changes its timers, and it does not)."""
    fd = os.open(_OWN_TIMERS, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("latin-1")


def _specs(plan: RestorePlan, arrays: TimerArrays, pid: int, tids: list[int]) -> Any:
    """The plan's struct tt_spec[], with the CPU clocks and thread targets that name the
    target's own pid or threads filled in."""
    specs = ffi.new("struct tt_spec[]", len(plan.timers))
    ffi.memmove(specs, arrays.specs, len(arrays.specs))
    for i in array("i", arrays.own):
        t = plan.timers[i]
        if t.clock_remap is not None:
            specs[i].clock = remapped_clock(t, pid, tids)
        if t.thread is not None:
            specs[i].tid = tids[t.thread]
    return specs


_TFD_STAGES: tuple[TimerFdStage, ...] = (
    "",
    "busy",
    "timerfd_create",
    "dup3",
    "timerfd_settime",
    "ticks",
)  # TT_TFD_*


def _tfds(plan: RestorePlan) -> Any:
    """The plan's timerfds as struct tt_tfd[]."""
    tfds = ffi.new("struct tt_tfd[]", max(len(plan.timerfds), 1))
    for slot, t in zip(tfds, plan.timerfds, strict=False):
        slot.fd, slot.clock = t.fd, t.clock
        slot.create_flags, slot.settime_flags = t.create_flags, t.settime_flags
        slot.value_ns, slot.interval_ns = t.value_ns, t.interval_ns
        slot.deadline_ns, slot.ticks = t.deadline_ns, t.ticks
    return tfds


def _c_arrays(arrays: ValueArrays) -> tuple[Any, Any, Any]:
    """IDs, values and intervals as the C loops take them (views of the bytes, no copies)."""
    return (
        ffi.from_buffer("int[]", arrays.ids),
        ffi.from_buffer("long long[]", arrays.values),
        ffi.from_buffer("long long[]", arrays.intervals),
    )


def _format_listing(specs: Any, n: int, pid: int) -> tuple[Any, int]:
    """/proc/self/timers as the plan expects it (newest first), and its length (-ENOSPC)."""
    cap = _LISTING_LINE_MAX * n + 1
    text = ffi.new("char[]", cap)
    return text, int(lib.tt_format_listing(specs, n, pid, text, cap))


# The longest a timer's four lines can be: numbers at their widest, sigval in 16 hex digits.
_LISTING_LINE_MAX = 128


def _whole_records(fd: int) -> bytes:
    # Helper threads write whole records (smaller than PIPE_BUF, so atomically).
    try:
        data = os.read(fd, _EXPIRY.size * 256)
    except BlockingIOError:
        return b""
    return data[: len(data) - len(data) % _EXPIRY.size]


_COMPARED = ("clock", "notify", "target", "signo", "sigval")


def _field_diffs(want: Timer, got: Timer) -> list[ev.FieldDiff]:
    return [
        ev.FieldDiff(name, getattr(want, name), getattr(got, name))
        for name in _COMPARED
        if getattr(want, name) != getattr(got, name)
    ]


def _value_diffs(
    t: PlannedTimer, got_value: int, got_interval: int, elapsed: int
) -> list[ev.FieldDiff]:
    """Values within tolerance: the remaining time can only have shrunk by what passed since
    arming; a timer that may have fired since is anywhere in its period (or 0 if one-shot)."""
    value, interval = (t.value_ns, t.interval_ns) if t.arm else (0, 0)
    diffs = []
    if got_interval != interval:
        diffs.append(ev.FieldDiff("interval_ns", interval, got_interval))
    slack = elapsed + VERIFY_SLACK_NS
    if value == 0:
        ok = got_value == 0
    elif value - slack <= got_value <= value:
        ok = True
    elif value <= slack:
        ok = 0 < got_value <= interval if interval else got_value == 0
    else:
        ok = False
    if not ok:
        diffs.append(ev.FieldDiff("remaining_ns", value, got_value))
    return diffs


def serve(
    plan: RestorePlan, arrays: TimerArrays, opts: RunOptions, t0_ns: int, ctrl_fd: int, ev_fd: int
) -> int:
    """Run the restore in this process (the restore target) and return its exit status."""
    # The collector leaves what exists now alone: no pass over every object (and no
    # copy-on-write fault for each page of a forked heap) inside a timed phase. (It is off in
    # a worker forked while the CLI starts: on again for the new objects.)
    gc.freeze()
    gc.enable()
    out = _EventPipe(ev_fd, t0_ns)
    try:
        ok = False
        for event in Driver(plan, opts, NativeTarget(plan, arrays, opts, out, ctrl_fd)).events():
            if isinstance(event, Flush):
                out.flush()
                continue
            out.emit(event)
            if isinstance(event, ev.Done):
                ok = event.ok
        return EXIT_OK if ok else EXIT_FAILED
    except _ParentGone:
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as exc:
        try:
            out.emit(ev.Error(out.now(), "worker-crashed", f"{type(exc).__name__}: {exc}"))
            out.flush()
        except OSError:
            pass
        return EXIT_CRASHED


def serve_message(ctrl_fd: int, ev_fd: int, cpus: set[int] | None = None) -> int:
    """A worker started before its plan: get ready, then read the plan from ctrl_fd
    (handover.py) and serve it. Returns the exit status (EXIT_FAILED if the caller left first).
    `cpus`: the affinity to take back then (the caller kept us off its CPU meanwhile)."""
    # What the restore will need, loaded while the caller still loads and plans: modules, and
    # the decoders of what comes (annotations read, ~0.5 ms).
    from timertui.capture import host  # noqa: F401 - check_headroom, errno texts

    for cls in (RestorePlan, TimerArrays, RunOptions):
        prepare_decoder(cls)
    try:
        plan, arrays, opts, t0_ns = handover.receive_plan(ctrl_fd)
    except handover.CallerGone:
        return EXIT_FAILED
    if cpus:
        os.sched_setaffinity(0, cpus)  # the restore target keeps no affinity of ours
    return serve(plan, arrays, opts, t0_ns, ctrl_fd, ev_fd)


def main() -> None:
    """Spawned worker: `... worker CTRL_FD EVENT_FD`; the plan comes first on CTRL_FD."""
    os._exit(serve_message(int(sys.argv[-2]), int(sys.argv[-1])))


if __name__ == "__main__":
    main()
