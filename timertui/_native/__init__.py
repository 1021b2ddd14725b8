"""Typed wrappers over the compiled syscall layer. Failures raise OSError with the kernel's errno.

Only child processes (the demo workload, `check`'s probes, the restore worker) call these: the app
and the CLI never create timers or switch exact-ID mode on in their own process.
"""

from __future__ import annotations

import os

from timertui._native._timers import ffi, lib
from timertui.model import (
    PR_TIMER_CREATE_RESTORE_IDS,
    RESTORE_IDS_GET,
    RESTORE_IDS_OFF,
    RESTORE_IDS_ON,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "PR_TIMER_CREATE_RESTORE_IDS",
    "RESTORE_IDS_GET",
    "RESTORE_IDS_OFF",
    "RESTORE_IDS_ON",
    "check",
    "ffi",
    "lib",
    "make_spec",
    "prctl",
    "restore_ids",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_settime",
]


def check(ret: int) -> int:
    """Turn a -errno return into OSError; pass other values through."""
    if ret < 0:
        raise OSError(-ret, os.strerror(-ret))
    return ret


def make_spec(
    clock: int, notify: int, signo: int, sigval: int, tid: int = 0, want_id: int = 0
) -> Any:
    spec = ffi.new("struct tt_spec *")
    spec.id = want_id
    spec.clock = clock
    spec.notify = notify
    spec.signo = signo
    spec.tid = tid
    spec.sigval = sigval & 0xFFFFFFFFFFFFFFFF
    return spec


def prctl(option: int, arg2: int) -> int:
    return check(lib.tt_prctl(option, arg2))


def restore_ids(arg: int) -> int:
    """prctl(PR_TIMER_CREATE_RESTORE_IDS, arg): ON, OFF or GET. EINVAL before Linux 6.15."""
    return prctl(PR_TIMER_CREATE_RESTORE_IDS, arg)


def timer_create(
    clock: int, notify: int, signo: int, sigval: int, tid: int = 0, want_id: int = 0
) -> int:
    """Raw timer_create; `want_id` is what exact-ID mode reads from the ID slot."""
    slot = ffi.new("int *", want_id)
    check(lib.tt_timer_create(make_spec(clock, notify, signo, sigval, tid, want_id), slot))
    return int(slot[0])


def timer_delete(timer_id: int) -> None:
    check(lib.tt_timer_delete(timer_id))


def timer_settime(
    timer_id: int, value_ns: int, interval_ns: int, absolute: bool = False
) -> tuple[int, int]:
    """Arm (value 0 disarms); returns the previous (remaining, interval)."""
    old = ffi.new("long long[2]")
    flags = 1 if absolute else 0  # TIMER_ABSTIME
    check(lib.tt_timer_settime(timer_id, flags, value_ns, interval_ns, old, old + 1))
    return int(old[0]), int(old[1])


def timer_gettime(timer_id: int) -> tuple[int, int]:
    """(remaining ns, interval ns)."""
    out = ffi.new("long long[2]")
    check(lib.tt_timer_gettime(timer_id, out, out + 1))
    return int(out[0]), int(out[1])


def timer_getoverrun(timer_id: int) -> int:
    return check(lib.tt_timer_getoverrun(timer_id))
