"""The restore worker: runs inside the restore target, a fresh child process, never the app.

It receives a plan, prepares itself as a target (signals blocked, threads for SIGEV_THREAD_ID
targets, the test hooks of TargetSpec), probes exact-ID mode, creates the timers in compiled
loops (exact: each at its ID; walk: create/delete), arms them, turns exact mode off and verifies
from its own /proc/self/timers and timer_gettime. Every step is an event written to `ev_fd`.

The loops run in chunks of `chunk_ns`: between chunks the worker reports progress and looks at
`ctrl_fd`, the read end of a pipe the parent holds open — end of file there means the parent is
gone, and the worker leaves at once. `--hold` keeps it alive after `done`, reporting expirations.

Started by `native.py`: forked from a single-threaded caller with the plan in hand (`serve`),
forked ahead of its plan (`serve_message`, while the caller still loads and plans), forked by the
worker server (server.py) or as a fresh interpreter (`main`); all but the first read the plan
from ctrl_fd (handover.py).

Events are written in batches (before each phase, at most FLUSH_NS apart within one, and at the
end), so a short restore costs a few pipe writes and wake-ups of the reader, not one an event.
Timers reported as a contiguous run of the plan go as a `span` of plan indices that the parent
turns back into IDs, so reporting 10,000 created timers costs next to nothing inside the timed
phases.
"""

from __future__ import annotations

import errno
import gc
import os
import resource
import select
import struct
import sys
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import msgpack

from timertui import _native
from timertui._native import PR_TIMER_CREATE_RESTORE_IDS as PR_RESTORE_IDS
from timertui._native import RESTORE_IDS_GET, RESTORE_IDS_OFF, RESTORE_IDS_ON, ffi, lib
from timertui.model import INT_MAX, SIGEV_NONE, Timer
from timertui.restore import decisions, handover
from timertui.restore import events as ev
from timertui.restore.arrays import TimerArrays, ValueArrays, subset
from timertui.restore.plan import (
    PlannedTimer,
    RestorePlan,
    RunOptions,
    expected_timers,
    remapped_clock,
    wrap_cost,
)
from timertui.restore.wire import write_all

PR_SET_NAME = 15
WORKER_COMM = b"timertui-rst"
# Remaining-time tolerance on top of the time between arming and reading back.
VERIFY_SLACK_NS = 2_000_000
HOLD_REPORT_NS = 100_000_000  # expirations are summed per timer over this long
FLUSH_NS = 5_000_000  # events wait at most this long in the worker (progress comes per chunk)
_EXPIRY = struct.Struct("iiii")  # struct tt_expiry
_WALK_DONE, _WALK_BUDGET, _WALK_ABOVE = 0, 1, 2
_RATE_SAMPLE = 10_000
_PENDING, _CREATED, _FAILED = 0, 1, 2
EXIT_OK, EXIT_FAILED, EXIT_CRASHED = 0, 1, os.EX_SOFTWARE


class _ParentGone(Exception):
    """The control pipe hit end of file: nobody reads our events any more."""


class _Out:
    """Events to the parent, msgpack maps back to back; times relative to the run's start.
    They collect in the packer's buffer and go out when FLUSH_NS passed since the last write, or
    at flush() (which writes nothing when nothing waits)."""

    def __init__(self, fd: int, t0_ns: int) -> None:
        self.fd = fd
        self.t0 = t0_ns
        self.packer = msgpack.Packer(autoreset=False)
        self.flush_at = time.monotonic_ns() + FLUSH_NS

    def now(self) -> int:
        return time.monotonic_ns() - self.t0

    def emit(self, event: ev.Event) -> None:
        self.emit_wire(ev.encode(event))

    def emit_wire(self, data: dict[str, Any]) -> None:
        self.packer.pack(data)
        if time.monotonic_ns() >= self.flush_at:
            self.flush()

    def flush(self) -> None:
        data = self.packer.bytes()
        if data:
            self.packer.reset()
            if self.fd >= 0:  # -1 is prepare_reporting's throwaway output: nothing to write
                write_all(self.fd, data)
        self.flush_at = time.monotonic_ns() + FLUSH_NS


class _Restore:
    def __init__(
        self, plan: RestorePlan, arrays: TimerArrays, opts: RunOptions, out: _Out, ctrl_fd: int
    ) -> None:
        self.plan = plan
        self.arrays = arrays
        self.opts = opts
        self.out = out
        self.ctrl_fd = ctrl_fd
        self.pid = os.getpid()
        self.tids = [self.pid]
        self.phases: dict[str, int] = {}
        self.codes = set(plan.decision_codes())
        self.syscalls = 0
        self.creates = 0
        self.deletes = 0
        self.mode = ""
        self.fatal = False
        self.restore_ids_on = False
        # Per timer of the plan, by index: _PENDING, _CREATED or _FAILED (a bytearray, so
        # marking 10,000 timers at once costs next to nothing inside the timed phases).
        self.state = bytearray([_PENDING]) * len(plan.timers)
        self.ids = plan.ids
        self.armed_at = 0
        self.record_fd = -1
        self.specs: Any = None  # struct tt_spec[], one a timer of the plan
        # The IDs as an int[], to check exact creates with one memcmp.
        self.wanted = ffi.from_buffer("int[]", arrays.ids)
        self.create_started = 0

    # -- reporting ---------------------------------------------------------------------------

    def decide(self, decision: ev.Decision) -> None:
        """Emit a decision (from timertui.restore.decisions) stamped with the time now."""
        self.codes.add(decision.code)
        self.fatal = self.fatal or decision.severity == "fatal"
        self.out.emit(_stamped(decision, self.out.now()))

    def mark(self, lo: int, hi: int, state: int) -> None:
        self.state[lo:hi] = bytes([state]) * (hi - lo)

    def report(
        self, state: ev.TimerStateName, lo: int, hi: int, err: int = 0, detail: str = ""
    ) -> None:
        """Timers lo..hi-1 of the plan reached `state`: a TimerState whose IDs go as the span."""
        data = ev.encode(ev.TimerState(self.out.now(), state, (), err, detail))
        data[ev.SPAN_KEY] = (lo, hi)
        self.out.emit_wire(data)

    def fail(self, lo: int, hi: int, err: int, detail: str) -> None:
        """Timers lo..hi-1 of the plan failed."""
        self.mark(lo, hi, _FAILED)
        self.report("failed", lo, hi, err, detail)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        # A phase pays for writing its own events, not for those of the phases before it.
        self.out.flush()
        start = time.monotonic_ns()
        yield
        ns = time.monotonic_ns() - start
        self.phases[name] = ns
        self.out.emit(ev.Phase(self.out.now(), name, ns))

    def check_parent(self) -> None:
        ready = select.select([self.ctrl_fd], [], [], 0)[0]
        if ready and not os.read(self.ctrl_fd, 4096):
            raise _ParentGone

    # -- the restore -------------------------------------------------------------------------

    def run(self) -> bool:
        plan, out = self.plan, self.out
        out.emit(
            ev.Start(
                out.now(),
                "native",
                self.pid,
                plan.source_pid,
                plan.comm,
                self.opts.mode,
                len(plan.timers),
                plan.max_id,
                self.opts.hold,
                os.uname().release,
                out.t0,
            )
        )
        self.phases["spawn"] = out.now()
        out.emit(ev.Phase(out.now(), "spawn", self.phases["spawn"]))
        for d in plan.decisions:
            out.emit(_stamped(d, out.now()))
        with self.phase("setup"):
            self.setup()
        if not self.fatal:
            with self.phase("probe"):
                self.probe()
        if not self.fatal and plan.timers:
            with self.phase("create"):
                if self.mode == "exact":
                    self.create_exact()
                else:
                    self.create_walk()
        if _CREATED in self.state:
            with self.phase("arm"):
                self.arm()
        if self.restore_ids_on:
            with self.phase("prctl-off"):
                self.syscalls += 1
                ret = int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_OFF))
                if ret:
                    self.decide(decisions.prctl_off_failed(ret))
        with self.phase("verify"):
            equal = self.verify()
        ok = not self.fatal and _FAILED not in self.state and equal == len(plan.timers)
        ok = ok and "prctl-off-failed" not in self.codes
        out.emit(
            ev.Done(
                out.now(),
                ok,
                self.mode,
                self.creates,
                self.deletes,
                self.syscalls,
                dict(self.phases),
                out.now(),
                equal,
                len(plan.timers) - equal,
                self.opts.hold,
            )
        )
        out.flush()
        return ok

    def setup(self) -> None:
        plan = self.plan
        name = ffi.new("char[]", WORKER_COMM)
        lib.tt_prctl(PR_SET_NAME, int(ffi.cast("unsigned long", name)))
        # Before any timer or thread exists: threads inherit the mask, expiries stay pending.
        _native.check(lib.tt_block_signals(self.arrays.signal_mask))
        limit = plan.target.sigpending_limit
        if limit is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_SIGPENDING)
            resource.setrlimit(resource.RLIMIT_SIGPENDING, (limit, hard))
        if plan.target.prepared:
            self.prepare_target()
        helpers = len(plan.threads) - 1
        if helpers or self.opts.hold:
            read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            self.record_fd = read_fd
            if helpers:
                tids = ffi.new("int[]", helpers)
                _native.check(
                    lib.tt_threads_start(helpers, self.arrays.signal_mask, write_fd, tids)
                )
                self.tids.extend(ffi.unpack(tids, helpers))
        self.specs = _specs(plan, self.arrays, self.pid, self.tids)
        self.check_headroom()
        self.prepare_reporting()

    def prepare_reporting(self) -> None:
        """Report into a throwaway output once, before the timed phases. After a fork the first
        run of Python code copies every page it writes (refcounts, and the bytecode 3.11
        rewrites as it warms up): a C loop never pays that, and the create phase should not."""
        out, self.out = self.out, _Out(-1, self.out.t0)
        try:
            self.mark(0, 0, _CREATED)
            self.report("created", 0, 0)
            self.progress(0, -1, time.monotonic_ns(), 0)
            ffi.typeof("struct tt_walk_state *")
        finally:
            self.out = out

    def prepare_target(self) -> None:
        """Take the TargetSpec's IDs and set the ID counter, with exact-ID mode (6.15+)."""
        target = self.plan.target
        ret = int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_ON))
        if ret:
            self.decide(
                decisions.target_failed(
                    f"it needs PR_TIMER_CREATE_RESTORE_IDS: {decisions.errno_text(-ret)}"
                )
            )
            return
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
            self.decide(decisions.target_failed(str(exc)))
        finally:
            lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_OFF)
        if not self.fatal:
            self.decide(decisions.target_prepared(target.taken_ids, target.start_counter))

    def check_headroom(self) -> None:
        """The plan's RLIMIT_SIGPENDING check, done here when the plan had no facts for it."""
        if self.plan.facts is not None:
            return
        from timertui.capture.host import sigpending_in_use

        soft, _ = resource.getrlimit(resource.RLIMIT_SIGPENDING)
        in_use = sigpending_in_use("self")
        need = len(self.plan.timers)
        if soft == resource.RLIM_INFINITY or in_use is None or soft - in_use >= need:
            return
        self.decide(decisions.rlimit_headroom(soft, in_use, need))

    def probe(self) -> None:
        forced = self.opts.mode
        self.syscalls += 1
        if forced == "walk":
            # GET changes nothing: it only tells whether exact mode would have been there.
            ret = int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_GET))
            exact = ret >= 0
            self.out.emit(ev.Probe(self.out.now(), exact, max(-ret, 0), self._probe_text(ret)))
            self.mode = "walk"
            self.decide(decisions.walk_mode(forced=True, kernel_has_exact=exact))
            return
        ret = int(lib.tt_prctl(PR_RESTORE_IDS, RESTORE_IDS_ON))
        self.out.emit(ev.Probe(self.out.now(), ret == 0, max(-ret, 0), self._probe_text(ret)))
        if ret == 0:
            self.restore_ids_on = True
            self.mode = "exact"
            self.decide(decisions.exact_mode(forced=forced == "exact"))
        elif ret == -errno.EINVAL and forced == "exact":
            self.decide(decisions.exact_unsupported())
        elif ret == -errno.EINVAL:
            self.mode = "walk"
            self.decide(decisions.walk_mode(forced=False, kernel_has_exact=False))
        else:
            self.decide(decisions.prctl_failed(ret))

    @staticmethod
    def _probe_text(ret: int) -> str:
        if ret >= 0:
            return "PR_TIMER_CREATE_RESTORE_IDS available"
        return f"PR_TIMER_CREATE_RESTORE_IDS: {decisions.errno_text(-ret)}"

    def progress(self, done: int, current_id: int, started: int, remaining_ids: int) -> None:
        elapsed = time.monotonic_ns() - started
        rate = self.creates * 1e9 / elapsed if elapsed > 0 else 0.0
        eta = int(remaining_ids / rate * 1e9) if rate > 0 else -1
        self.out.emit(
            ev.Progress(
                self.out.now(),
                "create",
                done,
                len(self.plan.timers),
                current_id,
                self.plan.max_id,
                self.creates,
                self.deletes,
                rate,
                eta,
            )
        )

    def create_exact(self) -> None:
        ids = self.ids
        n = len(ids)
        errs = ffi.new("int[]", n)
        got = ffi.new("int[]", n)
        started = time.monotonic_ns()
        i = 0
        while i < n:
            deadline = time.monotonic_ns() + self.opts.chunk_ns
            k = int(lib.tt_create_exact_until(self.specs + i, n - i, errs + i, got + i, deadline))
            self.creates += k
            self.syscalls += k
            # A failed create leaves -1 in `got`, so one memcmp finds every fault in the chunk.
            if ffi.buffer(got + i, 4 * k)[:] == ffi.buffer(self.wanted + i, 4 * k)[:]:
                self.mark(i, i + k, _CREATED)
                self.report("created", i, i + k)
            else:
                self.sort_out(i, ffi.unpack(errs + i, k), ffi.unpack(got + i, k))
            i += k
            self.progress(i, ids[i - 1], started, n - i)
            if self.fatal:
                self.fail(i, n, errno.EAGAIN, "not attempted")
                return
            self.check_parent()

    def exact_failed(self, index: int, err: int) -> None:
        t = self.plan.timers[index]
        self.decide(decisions.exact_create_failed(index, t.id, t.clock, err))
        self.fail(index, index + 1, err, decisions.errno_text(err))

    def sort_out(self, start: int, errs: list[int], got: list[int]) -> None:
        """A chunk with failures: report each, and CRIU's check that the kernel used the
        wanted ID; the timers created as asked are reported created."""
        wanted = self.ids[start : start + len(got)]
        ok: list[int] = []
        for j, (err, got_id) in enumerate(zip(errs, got, strict=True)):
            if err:
                self.exact_failed(start + j, -err)
            elif got_id != wanted[j]:
                self.decide(decisions.unexpected_id(got_id, wanted[j]))
                self.fail(start + j, start + j + 1, 0, f"created as ID {got_id}")
            else:
                self.mark(start + j, start + j + 1, _CREATED)
                ok.append(got_id)
        if ok:
            self.out.emit(ev.TimerState(self.out.now(), "created", tuple(ok)))

    def create_walk(self) -> None:
        ids = self.ids
        n = len(ids)
        state = ffi.new("struct tt_walk_state *")
        state.last_id = -1
        started = self.create_started = time.monotonic_ns()
        done = 0
        while True:
            deadline = time.monotonic_ns() + self.opts.chunk_ns
            ret = int(lib.tt_walk_many(self.specs, n, deadline, state))
            self.creates, self.deletes = int(state.creates), int(state.deletes)
            if state.index > done:
                self.mark(done, state.index, _CREATED)
                self.report("created", done, state.index)
                done = state.index
            if ret == _WALK_BUDGET:
                self.progress(done, state.last_id, started, self.walk_left(state))
                self.check_parent()
                continue
            if ret == _WALK_ABOVE and self.walk_above(done, state):
                continue
            if ret < 0:
                self.walk_failed(done, -ret, state)
            if ret != _WALK_DONE:
                self.fail(done, n, 0, "not created: the walk stopped")
            break
        self.syscalls += self.creates + self.deletes
        self.progress(done, state.last_id, started, self.walk_left(state) if done < n else 0)

    def walk_left(self, state: Any) -> int:
        """Creates still to go, about: the ID space up to the last wanted ID (and round)."""
        last = int(state.last_id)
        if state.wrapping:
            return wrap_cost(last + 1, self.plan.max_id)
        return max(self.plan.max_id - last, 0)

    def walk_above(self, index: int, state: Any) -> bool:
        """The kernel handed out an ID above the wanted one. True: walk on (wrap allowed)."""
        want = self.plan.timers[index].id
        got = int(state.last_id)
        scratch = ffi.new("long long[2]")
        self.syscalls += 1
        if lib.tt_timer_gettime(want, scratch, scratch + 1) == 0:
            self.decide(decisions.walk_overshoot(want, got))
            return False
        # Skipped on the way round: the timers restored so far (all below `want`) and the
        # target's other timers past the counter or up to `want`.
        others = sum(1 for x in self.plan.target.taken_ids if x <= want or x > got)
        cost = wrap_cost(got + 1, want, self.state.count(_CREATED) + others)
        elapsed = time.monotonic_ns() - self.create_started
        # Fewer creates than _RATE_SAMPLE say nothing about the rate.
        rate = self.creates * 1e9 / elapsed if self.creates >= _RATE_SAMPLE else None
        allowed = self.opts.allow_wrap
        self.decide(decisions.wrap_needed(want, got, cost, allowed, rate))
        if not allowed:
            return False
        state.wrapping = 1
        return True

    def walk_failed(self, index: int, err: int, state: Any) -> None:
        t = self.plan.timers[index]
        # A failed delete leaves its temporary timer alive: one more create than delete.
        if state.creates - state.deletes - self.state.count(_CREATED) == 1:
            self.decide(decisions.delete_failed(int(state.last_id), t.id, err))
        else:
            self.decide(decisions.walk_create_failed(index, t.id, err))

    def arm(self) -> None:
        armed, state = self.arrays.armed, self.state
        if armed.count and state.count(_CREATED) != len(state):
            armed = subset(armed, lambda i: state[i] == _CREATED)  # some failed: not those
        n = armed.count
        if not n:
            return
        indices = array("i", armed.indices)
        errs = ffi.new("int[]", n)
        self.armed_at = time.monotonic_ns()
        lib.tt_arm_many(*_c_arrays(armed), n, errs)
        self.syscalls += n
        first, last = indices[0], indices[-1]
        if last - first + 1 == n and ffi.buffer(errs, 4 * n)[:] == bytes(4 * n):
            self.report("armed", first, last + 1)  # all of a run of the plan: as its span
            return
        ok = []
        for i, err in zip(indices, ffi.unpack(errs, n), strict=True):
            t = self.plan.timers[i]
            if err:
                self.decide(decisions.arm_failed(t.id, -err))
                self.fail(i, i + 1, -err, decisions.errno_text(-err))
            else:
                ok.append(t.id)
        if ok:
            self.out.emit(ev.TimerState(self.out.now(), "armed", tuple(ok)))

    def verify(self) -> int:
        """Compare every timer with the plan, from /proc/self/timers (what CRIU would dump) and
        timer_gettime; emit Verify with the timers that differ (the reader fills in the equal
        ones, handover.DIFFERING_ONLY_KEY). Returns how many are equal.

        The common case costs no Python per timer: the kernel's listing is compared with the
        one the plan expects in one pass, and the values read back with the armed ones in C;
        only the timers found different there are looked at field by field."""
        timers, valued = self.plan.timers, self.arrays.valued
        n, k = len(timers), valued.count
        listed = _listed_as_planned(self.specs, n, self.pid)
        got_values = ffi.new("long long[]", k)
        got_intervals = ffi.new("long long[]", k)
        errs = ffi.new("int[]", k)
        ids, want_values, want_intervals = _c_arrays(valued)
        lib.tt_gettime_many(ids, k, got_values, got_intervals, errs)
        self.syscalls += k
        elapsed = time.monotonic_ns() - self.armed_at if self.armed_at else 0
        slack = elapsed + VERIFY_SLACK_NS
        bad = ffi.new("int[]", k)
        found = lib.tt_check_armed(
            k, want_values, want_intervals, errs, got_values, got_intervals, slack, bad
        )
        indices = array("i", valued.indices)
        suspects = [indices[j] for j in ffi.unpack(bad, found)]
        at = {i: j for j, i in enumerate(indices)} if suspects or not listed else {}
        actual: dict[int, Timer] | None = None
        expected: list[Timer] = []
        if not listed:
            # Loaded only here, on the rare path: the parser's module is not light.
            from timertui.capture.proc_timers import parse_timers

            text = _own_timers_text()
            actual = {t.id: t for t in parse_timers(text, _OWN_TIMERS, skip_repeats=True)}
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
        data = ev.encode(ev.Verify(self.out.now(), tuple(differing)))
        data[handover.DIFFERING_ONLY_KEY] = True
        self.out.emit_wire(data)
        return n - len(differing)

    # -- hold --------------------------------------------------------------------------------

    def hold(self) -> None:
        """Stay alive as the restored process, reporting expirations, until the parent leaves."""
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
                    self.out.emit(
                        ev.Expiration(self.out.now(), timer_id, count, totals[timer_id], over)
                    )
                self.out.flush()
                pending.clear()
                next_report = time.monotonic_ns() + HOLD_REPORT_NS
            elif not pending:
                next_report = time.monotonic_ns() + HOLD_REPORT_NS


_OWN_TIMERS = "/proc/self/timers"


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


def _c_arrays(arrays: ValueArrays) -> tuple[Any, Any, Any]:
    """IDs, values and intervals as the C loops take them (views of the bytes, no copies)."""
    return (
        ffi.from_buffer("int[]", arrays.ids),
        ffi.from_buffer("long long[]", arrays.values),
        ffi.from_buffer("long long[]", arrays.intervals),
    )


def _listed_as_planned(specs: Any, n: int, pid: int) -> bool:
    """Whether /proc/self/timers lists exactly the plan's timers, as planned (newest first)."""
    cap = _LISTING_LINE_MAX * n + 1
    text = ffi.new("char[]", cap)
    length = int(lib.tt_format_listing(specs, n, pid, text, cap))
    return length >= 0 and int(lib.tt_file_equals(_OWN_TIMERS.encode(), text, length)) == 1


# The longest a timer's four lines can be: numbers at their widest, sigval in 16 hex digits.
_LISTING_LINE_MAX = 128


def _stamped(decision: ev.Decision, t_ns: int) -> ev.Decision:
    """A decision made with t_ns 0 (the plan's, decisions.py's) as emitted at t_ns."""
    d = decision
    return ev.Decision(t_ns, d.code, d.reason, d.severity, d.timer_id)


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
    out = _Out(ev_fd, t0_ns)
    try:
        restore = _Restore(plan, arrays, opts, out, ctrl_fd)
        ok = restore.run()
        if opts.hold:
            restore.hold()
        return EXIT_OK if ok else EXIT_FAILED
    except _ParentGone:
        return EXIT_FAILED
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as exc:
        with suppress(OSError):
            out.emit(ev.Error(out.now(), "worker-crashed", f"{type(exc).__name__}: {exc}"))
            out.flush()
        return EXIT_CRASHED


def serve_message(ctrl_fd: int, ev_fd: int) -> int:
    """A worker started before its plan: get ready, then read the plan from ctrl_fd
    (handover.py) and serve it. Returns the exit status (EXIT_FAILED if the caller left first)."""
    # What the restore will need, loaded while the caller still loads and plans.
    from timertui.capture import host  # noqa: F401 - check_headroom, errno texts

    try:
        plan, arrays, opts, t0_ns = handover.receive_plan(ctrl_fd)
    except handover.CallerGone:
        return EXIT_FAILED
    return serve(plan, arrays, opts, t0_ns, ctrl_fd, ev_fd)


def main() -> None:
    """Spawned worker: `... worker CTRL_FD EVENT_FD`; the plan comes first on CTRL_FD."""
    os._exit(serve_message(int(sys.argv[-2]), int(sys.argv[-1])))


if __name__ == "__main__":
    main()
