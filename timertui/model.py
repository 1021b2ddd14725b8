"""Plain frozen records shared by every layer (made by timertui.records.record), and the kernel's
constants they hold. No I/O here."""

from __future__ import annotations

from timertui.records import Choice, record

INT_MAX = 2**31 - 1

# sigev_notify values as the kernel stores them (include/uapi/asm-generic/siginfo.h).
SIGEV_SIGNAL = 0
SIGEV_NONE = 1
SIGEV_THREAD = 2
SIGEV_THREAD_ID = 4
# Every sigev_notify a timer can have: SIGEV_THREAD_ID goes with SIGEV_SIGNAL, which is 0.
NOTIFY_VALUES = frozenset({SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID})

# prctl(PR_TIMER_CREATE_RESTORE_IDS, arg), Linux 6.15+: exact-ID mode off, on, or read back.
PR_TIMER_CREATE_RESTORE_IDS = 77
RESTORE_IDS_OFF, RESTORE_IDS_ON, RESTORE_IDS_GET = 0, 1, 2


# timerfd_settime flags, as fdinfo's "settime flags" (octal) shows them.
TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2
# The fd flags fdinfo's "flags:" shows (octal) that a timerfd keeps: TFD_NONBLOCK and
# TFD_CLOEXEC are these.
O_NONBLOCK = 0o4000
O_CLOEXEC = 0o2000000
TIMERFD_FD_FLAGS = O_NONBLOCK | O_CLOEXEC  # the fd flags a timerfd keeps (timerfd_create's)
# The interval timers of setitimer(2), by `which`, and the signal each sends.
ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF = 0, 1, 2
ITIMER_NAMES = ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF")
ITIMER_SIGNALS = (14, 26, 27)  # SIGALRM, SIGVTALRM, SIGPROF
USEC_PER_SEC = 1_000_000


class Notify(Choice):
    """How a timer notifies, as /proc/PID/timers names it before the slash."""

    SIGNAL = "signal"
    NONE = "none"
    THREAD = "thread"


class Access(Choice):
    """What we could read of a process; never an exception that reaches a caller."""

    OK = "ok"
    GONE = "gone"
    NO_ACCESS = "no access"
    NO_TIMERS_FILE = "no timers file"


@record
class TimerValues:
    """A timer's armed state (timer_gettime + timer_getoverrun), all in nanoseconds."""

    remaining_ns: int
    interval_ns: int
    overrun: int


@record
class Timer:
    """One POSIX timer as the kernel holds it.

    `notify` is the raw sigev_notify (SIGEV_SIGNAL/NONE/THREAD, or'ed with SIGEV_THREAD_ID);
    `target` is the pid (or, with SIGEV_THREAD_ID, the tid) the kernel shows after the slash.
    `clock` is the raw clockid_t, negative for CPU clocks. `sigval` is unsigned 64-bit.
    """

    id: int
    clock: int
    notify: int
    target: int
    signo: int
    sigval: int
    values: TimerValues | None = None

    @property
    def notify_kind(self) -> Notify:
        base = self.notify & ~SIGEV_THREAD_ID
        if base == SIGEV_NONE:
            return Notify.NONE
        if base == SIGEV_THREAD:
            return Notify.THREAD
        return Notify.SIGNAL

    @property
    def thread_targeted(self) -> bool:
        return bool(self.notify & SIGEV_THREAD_ID)


@record
class TimerFd:
    """One timerfd of a process, as /proc/PID/fdinfo/FD shows it (or CRIU's TIMERFD entry).

    `remaining_ns` is it_value: the time to the next expiry, relative even for a
    TFD_TIMER_ABSTIME timer (0: disarmed, or a periodic timer that fired and was not read since:
    then `ticks` > 0). `flags` are the fd's open flags (O_NONBLOCK, O_CLOEXEC).
    `deadline_ns`: for a TFD_TIMER_ABSTIME timer, its absolute expiry on its clock as the
    capture computed it (the clock read beside fdinfo); 0 when unknown (CRIU's images)."""

    fd: int
    clock: int
    ticks: int
    settime_flags: int
    remaining_ns: int
    interval_ns: int
    flags: int
    deadline_ns: int = 0

    @property
    def absolute(self) -> bool:
        return bool(self.settime_flags & TFD_TIMER_ABSTIME)

    @property
    def cancel_on_set(self) -> bool:
        return bool(self.settime_flags & TFD_TIMER_CANCEL_ON_SET)

    @property
    def nonblock(self) -> bool:
        return bool(self.flags & O_NONBLOCK)

    @property
    def cloexec(self) -> bool:
        return bool(self.flags & O_CLOEXEC)

    @property
    def stalled_periodic(self) -> bool:
        """Periodic, fired and not read since: fdinfo shows it_value 0 and ticks > 0, and the
        kernel re-arms it only when the process reads it (CRIU restores it disarmed: #3162)."""
        return self.interval_ns > 0 and self.remaining_ns == 0 and self.ticks > 0


@record
class IntervalTimer:
    """One interval timer (getitimer, or CRIU's itimer_entry), kept as the kernel's timeval
    fields so a value out of range (CRIU's "Invalid timer value") stays visible."""

    which: int  # ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF
    value_s: int
    value_us: int
    interval_s: int
    interval_us: int

    @property
    def name(self) -> str:
        return ITIMER_NAMES[self.which] if 0 <= self.which < 3 else f"itimer {self.which}"

    @property
    def value_total_us(self) -> int:
        return self.value_s * USEC_PER_SEC + self.value_us

    @property
    def interval_total_us(self) -> int:
        return self.interval_s * USEC_PER_SEC + self.interval_us

    @property
    def armed(self) -> bool:
        return self.value_total_us != 0 or self.interval_total_us != 0


@record
class Container:
    """The container a process runs in (from its cgroup, or a checkpoint archive's metadata).

    `runtime` names who made it: podman, docker, cri-o, containerd, kubernetes (a kubepods
    cgroup whose runtime the path does not say), lxc or machined. `id` is the runtime's full id
    (a name for lxc and machined). The rest is what the runtime's on-disk state (or the archive)
    tells, empty where it does not: `oci_runtime` is runc, crun...; `pod`, `namespace`,
    `pod_uid` and `k8s_name` are Kubernetes'."""

    runtime: str
    id: str
    name: str = ""
    image: str = ""
    pod: str = ""
    namespace: str = ""
    pod_uid: str = ""
    k8s_name: str = ""
    oci_runtime: str = ""

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def label(self) -> str:
        """What a column shows: the name, else the short id; the pod in front when known."""
        name = self.k8s_name or self.name or self.short_id
        return f"{self.pod}/{name}" if self.pod else name


@record
class ProcessTimers:
    """A process and its timers, with what we could read of it."""

    pid: int
    ppid: int
    comm: str
    cmdline: tuple[str, ...]
    uid: int
    user: str
    status: str
    tids: tuple[int, ...]
    timers: tuple[Timer, ...]
    access: Access = Access.OK
    # RLIMIT_SIGPENDING (soft, hard) of the process when known (CRIU images record it).
    sigpending: tuple[int, int] | None = None
    container: Container | None = None
    # The pid inside the process's own pid namespace (NSpid's last), when it differs from pid.
    ns_pid: int | None = None
    # The process's timerfds by fd number, and its interval timers (REAL, VIRTUAL, PROF; None:
    # not read, which takes a deep capture).
    timerfds: tuple[TimerFd, ...] = ()
    itimers: tuple[IntervalTimer, ...] | None = None
    # What could not be read of them, each "field path: fault" (an fdinfo of an unknown shape).
    problems: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return " ".join(self.cmdline) if self.cmdline else f"[{self.comm}]"

    @property
    def holds_timers(self) -> bool:
        """Any kind: POSIX timers, timerfds, or an interval timer that is armed (a timerfd
        alone is worth restoring and verifying: criu #3162)."""
        return bool(self.timers or self.timerfds or any(t.armed for t in self.itimers or ()))


@record
class HostFacts:
    kernel_release: str
    boot_id: str
    hostname: str
    machine: str
    exact_ids: bool | None  # None: not probed
    sigpending_soft: int
    sigpending_hard: int


@record
class CaptureTimes:
    realtime_ns: int
    monotonic_ns: int
    boottime_ns: int


@record
class Snapshot:
    host: HostFacts
    times: CaptureTimes
    processes: tuple[ProcessTimers, ...]
    source: str = "live"  # "live", or "criu:<dir>" for imports

    def process(self, pid: int) -> ProcessTimers | None:
        return next((p for p in self.processes if p.pid == pid), None)
