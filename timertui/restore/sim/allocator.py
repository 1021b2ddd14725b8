"""The timer ID allocator of a kernel profile (timertui.restore.sim.profiles), as a model.

The walk (create until the wanted ID comes, deleting every other) is computed, not stepped: from
counter c to ID w the kernel hands out every free ID in c..w, which the sorted IDs in use count
in O(log n), so even a wrap past INT_MAX (2^31 creates) is predicted at once. Under a lowest-free
allocator the walk cannot advance at all: the ID it deletes is the lowest free one again, so the
next create gets it back. Restoring there needs fillers: timers kept alive in every free ID below
a wanted one, each holding a slot of RLIMIT_SIGPENDING until the end.

Failure order, measured on 6.18 (tests/kernel/test_kernels_replay.py replays it against the
real kernel): a clock without timers (EINVAL, EOPNOTSUPP), a negative wanted ID (EINVAL) and
RLIMIT_SIGPENDING (EAGAIN) fail before an ID is taken; a bad sigevent (EINVAL) and an alarm clock
without an RTC (EOPNOTSUPP) fail after, so they use up a counter value. EBUSY leaves the counter
alone.
"""

from __future__ import annotations

import bisect
import errno
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from timertui.clocks import ALARM_CLOCKS, NAMED_CLOCKS, decode_clock
from timertui.model import (
    INT_MAX,
    NOTIFY_VALUES,
    RESTORE_IDS_GET,
    RESTORE_IDS_OFF,
    RESTORE_IDS_ON,
    SIGEV_NONE,
    SIGEV_THREAD_ID,
)
from timertui.restore.sim.profiles import Kernel
from timertui.signals import valid_timer_signal


def create_errors(clock: int, notify: int, signo: int, alarm: bool) -> tuple[int, int]:
    """The errno timer_create fails with for this sigevent: (before an ID is taken, after).
    0 where it does not fail. Threads named by SIGEV_THREAD_ID are taken to exist."""
    info = decode_clock(clock)
    if not info.timer_allowed:
        # A known clock without timer support vs. no such clock at all.
        return (errno.EOPNOTSUPP if clock in NAMED_CLOCKS or clock < 0 else errno.EINVAL), 0
    signals = notify & ~SIGEV_THREAD_ID != SIGEV_NONE
    if notify not in NOTIFY_VALUES or (signals and not valid_timer_signal(signo)):
        return 0, errno.EINVAL
    if clock in ALARM_CLOCKS and not alarm:
        return 0, errno.EOPNOTSUPP
    return 0, 0


class IdSet:
    """Sorted distinct IDs, counted over ranges in O(log n). Every ID below `floor` counts as a
    member too: fillers hold all the free IDs below a wanted one, a whole range at once."""

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._ids = sorted(set(ids))
        self.floor = 0

    def __contains__(self, x: object) -> bool:
        if not isinstance(x, int):
            return False
        i = bisect.bisect_left(self._ids, x)
        return x < self.floor or (i < len(self._ids) and self._ids[i] == x)

    def __len__(self) -> int:
        """The listed IDs (the floor's range not included)."""
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def add(self, x: int) -> None:
        bisect.insort(self._ids, x)

    def remove(self, x: int) -> None:
        del self._ids[bisect.bisect_left(self._ids, x)]

    def count(self, low: int, high: int) -> int:
        """Members in low..high."""
        below = max(min(high, self.floor - 1) - low + 1, 0)
        low = max(low, self.floor)
        if low > high:
            return below
        return below + bisect.bisect_right(self._ids, high) - bisect.bisect_left(self._ids, low)

    def free(self, low: int, high: int) -> int:
        """Non-members in low..high."""
        return max(high - low + 1, 0) - self.count(low, high)

    def next_free(self, x: int) -> int | None:
        """The smallest non-member >= x, None when all of x..INT_MAX are members."""
        x = max(x, self.floor)
        i = bisect.bisect_left(self._ids, x)
        while i < len(self._ids) and self._ids[i] == x:
            x += 1
            i += 1
        return x if x <= INT_MAX else None

    def prev_free(self, x: int) -> int | None:
        """The largest non-member <= x, None when all of 0..x are members."""
        i = bisect.bisect_right(self._ids, x) - 1
        while i >= 0 and self._ids[i] == x:
            x -= 1
            i -= 1
        return x if x >= self.floor else None

    def nth_free(self, n: int) -> int:
        """The n-th non-member from 0 (n >= 1); n must not exceed the free IDs."""
        low, high = 0, INT_MAX
        while low < high:  # the smallest x with n free IDs in 0..x
            mid = (low + high) // 2
            if self.free(0, mid) >= n:
                high = mid
            else:
                low = mid + 1
        return low


WalkResult = Literal["done", "above", "failed", "stuck"]


@dataclass(frozen=True)
class Leg:
    """IDs a walk hands out in order, `first` to `last` (skipping IDs in use): `creates` of
    them. Progress displays interpolate along it."""

    first: int
    last: int
    creates: int


@dataclass(frozen=True)
class Walk:
    """One run of the walk loop for a wanted ID, as the native C loop (`tt_walk_until`) runs it
    until it ends: `done` (the wanted ID was handed out and kept), `above` (an ID above it came:
    the wanted ID is taken or the counter is past it), `failed` (timer_create gave `errno`),
    `stuck` (the allocator would hand out `last_id` forever). Every create but a kept one is
    deleted again, fillers excepted."""

    result: WalkResult
    creates: int
    deletes: int
    last_id: int | None  # the last ID handed out; None when none was
    legs: tuple[Leg, ...] = ()
    errno: int = 0


class Allocator:
    """A restore target's timer IDs under a kernel profile: the model's mutable state.

    `mine` are the target's timers, `busy` every ID the allocator sees in use (the target's,
    and under pre-3.10 other processes' too). `limit`/`in_use` model RLIMIT_SIGPENDING: each of
    the target's timers holds a slot, and timer_create fails with EAGAIN past the limit."""

    def __init__(self, kernel: Kernel, *, alarm: bool, limit: int, in_use: int) -> None:
        self.kernel = kernel
        self.alarm = alarm
        self.limit = limit
        self.in_use = in_use
        self.busy = IdSet(kernel.params.others)
        self.mine = IdSet()
        self.counter = 0
        self.exact = False
        self.fillers = 0  # filler timers alive: the free IDs below busy.floor

    @property
    def ids(self) -> tuple[int, ...]:
        """The target's timer IDs, in order."""
        return tuple(self.mine)

    @property
    def held(self) -> int:
        """Timers the target holds, fillers included: each takes a slot of the limit."""
        return len(self.mine) + self.fillers

    def room(self, extra: int = 1) -> bool:
        """Can the target hold `extra` more timers?"""
        return self.limit < 0 or self.in_use + self.held + extra <= self.limit

    def take(self, timer_id: int) -> None:
        self.busy.add(timer_id)
        self.mine.add(timer_id)

    def delete(self, timer_id: int) -> int:
        """timer_delete: 0, or -EINVAL for an ID the target does not hold."""
        if timer_id not in self.mine:
            return -errno.EINVAL
        self.busy.remove(timer_id)
        self.mine.remove(timer_id)
        return 0

    def prctl(self, arg: int) -> int:
        """prctl(PR_TIMER_CREATE_RESTORE_IDS, arg): 0/the state, or -EINVAL."""
        known = arg in (RESTORE_IDS_OFF, RESTORE_IDS_ON, RESTORE_IDS_GET)
        if not self.kernel.exact_ids or not known:
            return -errno.EINVAL
        if arg == RESTORE_IDS_GET:
            return int(self.exact)
        self.exact = arg == RESTORE_IDS_ON
        return 0

    def create(self, clock: int, notify: int, signo: int, want: int = 0) -> int:
        """timer_create: the ID, or -errno. `want` is read only in exact mode."""
        before, after = create_errors(clock, notify, signo, self.alarm)
        if before:
            return -before
        if self.exact and want < 0:
            return -errno.EINVAL
        if not self.room():
            return -errno.EAGAIN
        if self.exact:
            if want in self.busy:
                return -errno.EBUSY
            got: int | None = want
            self.counter = (want + 1) & INT_MAX
        else:
            got = self._next_id()
        if got is None:
            return -errno.EAGAIN
        if after:
            return -after
        self.take(got)
        return got

    def _next_id(self) -> int | None:
        """The ID the allocator hands out next (moving the counter past it)."""
        if self.kernel.lowest_free:
            return self.busy.next_free(0)
        start = self.counter
        got = self.busy.next_free(start)
        if got is None:
            got = self.busy.next_free(0)
            if got is None or got >= start:
                return None  # all 2^31 IDs in use
        self.counter = (got + 1) & INT_MAX
        return got

    def wrap_cost(self, got: int, want: int) -> int:
        """Creates a walk needs from just past `got` round INT_MAX to `want`, kept one included
        (IDs in use are skipped by the kernel and cost nothing)."""
        return self.busy.free(got + 1, INT_MAX) + self.busy.free(0, want)

    def walk(self, clock: int, notify: int, signo: int, want: int, wrapping: bool = False) -> Walk:
        """The walk towards `want`, computed. `wrapping`: the walk was allowed to run on past
        INT_MAX after an `above` (the counter is past `want`)."""
        before, after = create_errors(clock, notify, signo, self.alarm)
        if before or not self.room():
            return Walk("failed", 0, 0, None, errno=before or errno.EAGAIN)
        if self.exact:
            return self._walk_exact(want, after)
        if after:
            got = self._next_id()  # taken and given back: only the counter moves
            return Walk("failed", 0, 0, None, errno=errno.EAGAIN if got is None else after)
        if self.kernel.lowest_free:
            return self._walk_lowest_free(want)
        legs: list[Leg] = []
        start = self.counter
        if start > want and wrapping:
            rest = self.busy.free(start, INT_MAX)
            top = self.busy.prev_free(INT_MAX)
            if rest and top is not None:
                legs.append(Leg(self._first_free(start), top, rest))
            start = 0
        elif start > want:
            got = self.busy.next_free(start)
            if got is not None:
                self.counter = (got + 1) & INT_MAX
                return Walk("above", 1, 1, got, (Leg(got, got, 1),))
            start = 0  # every ID from the counter up is in use: the kernel goes on from 0
        done = sum(leg.creates for leg in legs)
        if want not in self.busy:
            n = self.busy.free(start, want)
            legs.append(Leg(self._first_free(start), want, n))
            self.take(want)
            self.counter = (want + 1) & INT_MAX
            return Walk("done", done + n, done + n - 1, want, tuple(legs))
        got = self.busy.next_free(want + 1)
        n = self.busy.free(start, want - 1)
        if got is None:
            # Every ID from `want` up is in use: round and round below it, forever.
            last = self.busy.prev_free(want - 1)
            return Walk("stuck", done + n, done + n, last, tuple(legs))
        legs.append(Leg(self._first_free(start), got, n + 1))
        self.counter = (got + 1) & INT_MAX
        return Walk("above", done + n + 1, done + n + 1, got, tuple(legs))

    def _first_free(self, start: int) -> int:
        got = self.busy.next_free(start)
        return start if got is None else got

    def _walk_exact(self, want: int, after: int) -> Walk:
        """The walk with exact IDs on: its ID slot holds 0, so every create asks for ID 0."""
        if 0 in self.busy:
            return Walk("failed", 0, 0, None, errno=errno.EBUSY)
        self.counter = 1
        if after:
            return Walk("failed", 0, 0, None, errno=after)
        if want == 0:
            self.take(0)
            return Walk("done", 1, 0, 0, (Leg(0, 0, 1),))
        return Walk("stuck", 2, 2, 0, (Leg(0, 0, 2),))

    def _walk_lowest_free(self, want: int) -> Walk:
        low = self.busy.next_free(0)
        if low is None:
            return Walk("failed", 0, 0, None, errno=errno.EAGAIN)
        leg = (Leg(low, low, 1),)
        if low == want:
            self.take(want)
            return Walk("done", 1, 0, want, leg)
        if low > want:
            return Walk("above", 1, 1, low, leg)
        # Created, deleted, and the next create gets the same lowest free ID again.
        return Walk("stuck", 2, 2, low, (Leg(low, low, 2),))

    def filler_need(self, want: int) -> int:
        """Fillers a lowest-free restore must keep alive below `want` to reach it."""
        return self.busy.free(0, want - 1)

    def fill(self, clock: int, notify: int, signo: int, want: int) -> Walk:
        """Lowest-free kernels: create filler timers in every free ID below `want` and keep
        them, then create `want` (fillers are plain timers: only the last create uses the
        sigevent). Stops with EAGAIN where RLIMIT_SIGPENDING runs out."""
        need = self.filler_need(want)
        room = need + 1 if self.limit < 0 else self.limit - self.in_use - self.held
        made = max(min(need, room), 0)
        legs: tuple[Leg, ...] = ()
        last = None
        if made:
            last = self.busy.prev_free(want - 1) if made == need else self.busy.nth_free(made)
            assert last is not None  # made >= 1 free IDs lie below `want`
            legs = (Leg(self._first_free(0), last, made),)
            self.busy.floor = last + 1
            self.fillers += made
        if made < need or room <= need:
            return Walk("failed", made, 0, last, legs, errno.EAGAIN)
        before, after = create_errors(clock, notify, signo, self.alarm)
        if before or after:
            return Walk("failed", made, 0, last, legs, before or after)
        if want in self.busy:
            got = self._first_free(0)
            return Walk("above", made + 1, 1, got, (*legs, Leg(got, got, 1)))
        self.take(want)
        return Walk("done", made + 1, 0, want, (*legs, Leg(want, want, 1)))

    def drop_fillers(self) -> int:
        """Delete the fillers (the restore's end): how many."""
        count, self.fillers = self.fillers, 0
        self.busy.floor = 0
        return count
