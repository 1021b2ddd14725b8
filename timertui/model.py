"""Plain frozen records shared by every layer (made by timertui.records.record), and the kernel's
constants they hold. No I/O here."""

from __future__ import annotations

import enum

from timertui.records import record

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


class Notify(enum.Enum):
    """How a timer notifies, as /proc/PID/timers names it before the slash."""

    SIGNAL = "signal"
    NONE = "none"
    THREAD = "thread"


class Access(enum.Enum):
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

    @property
    def command(self) -> str:
        return " ".join(self.cmdline) if self.cmdline else f"[{self.comm}]"


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
