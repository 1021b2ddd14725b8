"""Decoding of clockid_t values, including the kernel's CPU-clock encoding. Pure, no I/O."""

from __future__ import annotations

from timertui.model import Timer
from timertui.records import IntChoice, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable

# Named clocks: id -> (name, usable for timer_create).
NAMED_CLOCKS: dict[int, tuple[str, bool]] = {
    0: ("REALTIME", True),
    1: ("MONOTONIC", True),
    2: ("PROCESS_CPUTIME_ID", True),
    3: ("THREAD_CPUTIME_ID", True),
    4: ("MONOTONIC_RAW", False),
    5: ("REALTIME_COARSE", False),
    6: ("MONOTONIC_COARSE", False),
    7: ("BOOTTIME", True),
    8: ("REALTIME_ALARM", True),
    9: ("BOOTTIME_ALARM", True),
    11: ("TAI", True),
}
ALARM_CLOCKS = frozenset({8, 9})  # need an RTC and CAP_WAKE_ALARM

_PERTHREAD = 4
_TYPE_MASK = 3
_CLOCKFD = 3


class CpuClockType(IntChoice):
    PROF = 0
    VIRT = 1
    SCHED = 2


@record
class CpuClock:
    """A CPU-time clock: `pid` 0 means the calling process/thread ("self")."""

    type: CpuClockType
    per_thread: bool
    pid: int

    @property
    def is_self(self) -> bool:
        return self.pid == 0


@record
class ClockInfo:
    raw: int
    name: str
    timer_allowed: bool
    alarm: bool = False
    cpu: CpuClock | None = None


def make_cpu_clock(pid: int, type_: CpuClockType, per_thread: bool = False) -> int:
    """The kernel's make_process_cpuclock / make_thread_cpuclock, as a signed 32-bit clockid."""
    raw = ((~pid) << 3) | int(type_) | (_PERTHREAD if per_thread else 0)
    return to_int32(raw)


def to_int32(value: int) -> int:
    """Reinterpret an integer (for example CRIU's uint32 clock_id) as a signed 32-bit value."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def decode_clock(raw: int) -> ClockInfo:
    """Name a clockid_t; CPU clocks decode into their type and pid/tid."""
    if raw >= 0:
        if raw in NAMED_CLOCKS:
            name, allowed = NAMED_CLOCKS[raw]
            return ClockInfo(raw, name, allowed, alarm=raw in ALARM_CLOCKS)
        return ClockInfo(raw, f"unknown clock {raw}", False)
    kind = raw & _TYPE_MASK
    per_thread = bool(raw & _PERTHREAD)
    pid = ~(raw >> 3)
    if kind == _CLOCKFD:
        if per_thread:
            return ClockInfo(raw, f"invalid clock {raw}", False)
        return ClockInfo(raw, f"FD clock (fd {pid})", False)
    cpu = CpuClock(CpuClockType(kind), per_thread, pid)
    return ClockInfo(raw, cpu_clock_name(cpu), True, cpu=cpu)


def cpu_clock_name(cpu: CpuClock) -> str:
    if cpu.is_self and cpu.type is CpuClockType.SCHED:
        return "THREAD_CPUTIME_ID" if cpu.per_thread else "PROCESS_CPUTIME_ID"
    who = ("tid " if cpu.per_thread else "pid ") + ("self" if cpu.is_self else str(cpu.pid))
    return f"CPU {cpu.type.name} of {who}"


def uses_alarm_clocks(timers: Iterable[Timer]) -> bool:
    """Whether any of `timers` runs on an alarm clock: only then is alarm support worth a probe."""
    return any(t.clock in ALARM_CLOCKS for t in timers)
