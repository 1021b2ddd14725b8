"""Deep capture: each timer's remaining time, interval and overrun, and the process's interval
timers (getitimer), read inside a live process by ptrace syscall injection (x86_64), without
harming it.

/proc/PID/timers names a process's timers but not their armed state; timer_gettime and
timer_getoverrun only work from inside the process. So the target's own thread runs them: seize
it (no EXITKILL), interrupt it, borrow a `syscall` instruction it already has (the one it is
blocked in, else the vDSO's; no code is ever written), point rdi/rsi at the timer and a scratch
slot below the red zone, and step it through each syscall's entry and exit. Then it goes back to
a stop inside signal delivery with its own registers and stack bytes, and is detached: an
interrupted nanosleep, read or pause restarts there as after any signal. The attached window is
one C call (timertui/_native/inject.c); this module holds the policy around it: who may be
captured, which thread, and what a refusal says.

Refusals are values, never exceptions. A target is refused when it belongs to another user, is
not dumpable, is already traced, runs under seccomp (a KILL filter would kill it on an injected
syscall; `allow_seccomp` suspends the filter instead, which needs CAP_SYS_ADMIN), is stopped
(SIGSTOP), is 32-bit, or when the machine is not x86_64.
"""

from __future__ import annotations

import enum
import errno
import functools
import os
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from timertui._native._inject import ffi, lib
from timertui.capture import proc_timers
from timertui.errors import InputError
from timertui.model import INT_MAX, Access, IntervalTimer, ProcessTimers, TimerValues

_PROC = proc_timers.PROC_ROOT
_AT_SYSINFO_EHDR = 33
CHUNK = 32  # timers read per stop: about 0.4 ms of the target's time at most
_ELFCLASS32 = 1

# Syscalls that return EINTR, rather than restart, when their thread is stopped and resumed (as
# after SIGSTOP/SIGCONT; signal(7)): a thread waiting in one is the last choice.
_EINTR_AFTER_STOP = {
    232: "epoll_wait",
    281: "epoll_pwait",
    441: "epoll_pwait2",
    128: "rt_sigtimedwait",
    65: "semop",
    220: "semtimedop",
    208: "io_getevents",
    333: "io_pgetevents",
    42: "connect",
    43: "accept",
    288: "accept4",
    44: "sendto",
    45: "recvfrom",
    46: "sendmsg",
    47: "recvmsg",
    299: "recvmmsg",
    307: "sendmmsg",
}


class CaptureRefused(enum.Enum):
    """Why a process was not captured; the value is the text a user reads."""

    UNSUPPORTED_ARCH = "unsupported architecture"
    NOT_64BIT = "32-bit process"
    OWN_PROCESS = "the capturing process itself"
    GONE = "process gone"
    OTHER_USER = "process of another user"
    NON_DUMPABLE = "process is not dumpable"
    TRACED = "process already traced"
    SECCOMP = "seccomp-filtered process"
    STOPPED = "process stopped (job control); left alone"
    NO_THREAD = "no thread can be stopped"
    NO_TIMER_LIST = "timer IDs unknown"
    PERMISSION = "ptrace not permitted"
    NO_SYSCALL_INSN = "no syscall instruction to borrow"
    STACK = "thread stack not accessible"
    SYSCALL_DISPATCH = "syscall user dispatch on"
    BUSY = "signals kept interrupting the capture"
    FAILED = "ptrace failed"
    RESTORE_FAILED = "could not put the thread's registers or stack back"


class DeepCaptureError(InputError):
    """A bad argument to capture_values (not a state of the target, which is a refusal)."""


@dataclass(frozen=True)
class DeepCapture:
    """What one deep capture read. `values` and `errors` (the errno timer_gettime or
    timer_getoverrun gave, e.g. EINVAL for a timer deleted meanwhile) are keyed by timer ID;
    `read_ns` is the capturer's CLOCK_MONOTONIC when each timer was read, so a remaining time
    can be counted down from there. Thread `tid` was held `stops` times (one per CHUNK timers),
    the longest for `stopped_ns`; `note` says when a stop was visible to the process (a syscall
    that returns EINTR)."""

    pid: int
    values: Mapping[int, TimerValues] = field(default_factory=lambda: MappingProxyType({}))
    errors: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    read_ns: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    tid: int | None = None
    stopped_ns: int = 0
    stops: int = 0
    signals: int = 0  # signals handed on to the thread while it was held
    refused: CaptureRefused | None = None
    detail: str = ""
    note: str = ""
    # With `itimers`: ITIMER_REAL, VIRTUAL and PROF as getitimer gave them (one that failed is
    # left out, its errno in itimer_errors by `which`); None when not asked.
    itimers: tuple[IntervalTimer, ...] | None = None
    itimer_errors: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def reason(self) -> str | None:
        """The refusal as one line, None when the capture ran."""
        if self.refused is None:
            return None
        return f"{self.refused.value}: {self.detail}" if self.detail else self.refused.value


@dataclass(frozen=True)
class _Thread:
    tid: int
    state: str  # /proc stat letter
    cpu: int  # the CPU it last ran on
    syscall: int | None  # what it is blocked in; None when running or in user space


def capture_values(
    pid: int,
    timer_ids: Iterable[int] | None = None,
    *,
    tid: int | None = None,
    allow_seccomp: bool = False,
    itimers: bool = False,
) -> DeepCapture:
    """Read the armed state of `timer_ids` (default: every timer /proc/PID/timers lists) from
    inside process `pid`, through thread `tid` (default: one whose stop the process cannot see);
    with `itimers`, its three interval timers too (in the first stop).
    """
    if pid <= 0:
        raise DeepCaptureError(f"deep capture: bad PID {pid}")
    ids = None if timer_ids is None else tuple(timer_ids)
    if ids is not None and any(not 0 <= i <= INT_MAX for i in ids):
        raise DeepCaptureError(f"deep capture: timer IDs must be 0..{INT_MAX}, got {ids}")
    refusal = _precheck(pid, allow_seccomp)
    if refusal is not None:
        return refusal
    if ids is None:
        reading = proc_timers.read_timers(pid)
        if reading.access is not Access.OK:
            return _refuse(pid, *_READING_REFUSAL[reading.access])
        ids = tuple(t.id for t in reading.timers)
    if not ids and not itimers:
        return DeepCapture(pid)  # nothing to read: the process is not touched
    thread = _pick_thread(pid, tid)
    if isinstance(thread, DeepCapture):
        return thread
    return _capture(pid, thread, ids, allow_seccomp, itimers)


def attach_values(
    proc: ProcessTimers, capture_with: Callable[..., DeepCapture] | None = None
) -> tuple[ProcessTimers, str | None]:
    """`proc` with Timer.values and its interval timers filled by a deep capture, and the
    refusal reason when there was one (then `proc` comes back as it was). A timer deleted since
    `proc` was read keeps None. `capture_with` captures as capture_values does (default: it;
    another host's reads there)."""
    capture_with = capture_with or capture_values
    if proc.access is not Access.OK:
        # The timers are unknown, but the capture's own checks name why we may not look.
        refusal = capture_with(proc.pid)
        return proc, refusal.reason if refusal.refused is not None else proc.access.value
    capture = capture_with(proc.pid, [t.id for t in proc.timers], itimers=True)
    if capture.refused is not None:
        return proc, capture.reason
    timers = tuple(replace(t, values=capture.values.get(t.id)) for t in proc.timers)
    problems = proc.problems + tuple(
        f"itimers[{which}]: getitimer: {os.strerror(err)}"
        for which, err in sorted(capture.itimer_errors.items())
    )
    return replace(proc, timers=timers, itimers=capture.itimers, problems=problems), None


def _refuse(pid: int, why: CaptureRefused, detail: str = "", tid: int | None = None) -> DeepCapture:
    return DeepCapture(pid, tid=tid, refused=why, detail=detail)


_READING_REFUSAL = {
    Access.GONE: (CaptureRefused.GONE, ""),
    Access.NO_ACCESS: (CaptureRefused.PERMISSION, "/proc/PID/timers not readable"),
    Access.NO_TIMERS_FILE: (
        CaptureRefused.NO_TIMER_LIST,
        "/proc/PID/timers missing (CONFIG_CHECKPOINT_RESTORE off)",
    ),
}


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as f:  # noqa: PTH123 - hot path; pathlib costs more per call
            return f.read().decode("latin-1")
    except OSError:
        return None


def _status(pid: int) -> dict[str, str] | None:
    text = _read_text(f"{_PROC}/{pid}/status")
    if text is None:
        return None
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _precheck(pid: int, allow_seccomp: bool) -> DeepCapture | None:
    """The refusals /proc can tell before anything touches the process."""
    machine = os.uname().machine
    if machine != "x86_64":
        return _refuse(
            pid, CaptureRefused.UNSUPPORTED_ARCH, f"{machine}; deep capture needs x86_64"
        )
    if pid == os.getpid():
        return _refuse(pid, CaptureRefused.OWN_PROCESS)
    status = _status(pid)
    # A zombie leader can still have live threads (it called pthread_exit); those are chosen
    # from in _pick_thread.
    if status is None or status.get("State", "X")[0] in "Xx" or status.get("Threads") == "0":
        return _refuse(pid, CaptureRefused.GONE)
    if status["State"][0] == "Z" and status.get("Threads") == "1":
        return _refuse(pid, CaptureRefused.GONE, "a zombie")
    uids = {int(u) for u in status["Uid"].split()}
    gids = {int(g) for g in status["Gid"].split()}
    if uids != {os.geteuid()} or gids != {os.getegid()}:
        shown = "/".join(status["Uid"].split()[:2])
        return _refuse(pid, CaptureRefused.OTHER_USER, f"uid {shown}, we are uid {os.geteuid()}")
    tracer = int(status.get("TracerPid", "0"))
    if tracer:
        return _refuse(pid, CaptureRefused.TRACED, _tracer_text(tracer))
    seccomp = int(status.get("Seccomp", "0"))
    if seccomp and not allow_seccomp:
        mode = "strict" if seccomp == 1 else f"{status.get('Seccomp_filters', '?')} filter(s)"
        return _refuse(
            pid,
            CaptureRefused.SECCOMP,
            f"{mode}; a filter could kill it on an injected syscall (allow_seccomp suspends it)",
        )
    if status["State"][0] in "Tt":
        return _refuse(pid, CaptureRefused.STOPPED)
    # A process that is not dumpable has its /proc files owned by root (the kernel's
    # task_dump_owner); root's own processes are asked inside the window (PR_GET_DUMPABLE).
    try:
        owner = os.stat(f"{_PROC}/{pid}").st_uid  # noqa: PTH116
    except OSError:
        return _refuse(pid, CaptureRefused.GONE)
    if owner != os.geteuid():
        return _refuse(pid, CaptureRefused.NON_DUMPABLE, "its /proc files belong to root")
    if _elf_class(pid) == _ELFCLASS32:
        return _refuse(pid, CaptureRefused.NOT_64BIT, "ELF class 32 (i386 or x32)")
    return None


def _tracer_text(tracer: int) -> str:
    comm = _read_text(f"{_PROC}/{tracer}/comm")
    return f"by PID {tracer}" + (f" ({comm.strip()})" if comm else "")


def _elf_class(pid: int) -> int | None:
    try:
        with open(f"{_PROC}/{pid}/exe", "rb") as f:  # noqa: PTH123
            head = f.read(5)
    except OSError:
        return None  # no exe (kernel thread) or not readable: the window checks cs anyway
    return head[4] if len(head) == 5 and head[:4] == b"\x7fELF" else None


def _thread(pid: int, tid: int) -> _Thread | None:
    root = f"{_PROC}/{pid}/task/{tid}"
    stat = _read_text(f"{root}/stat")
    if stat is None:
        return None
    rest = stat[stat.rindex(")") + 2 :].split()
    syscall = _read_text(f"{root}/syscall")
    first = syscall.split()[0] if syscall else ""
    nr = int(first) if first.lstrip("-").isdigit() and int(first) >= 0 else None
    return _Thread(tid, rest[0], int(rest[36]), nr)


def _pick_thread(pid: int, tid: int | None) -> _Thread | DeepCapture:
    """The thread to run the syscalls in: `tid`, or the main thread unless something better
    exists, passing over threads in uninterruptible sleep and those a stop would show to."""
    if tid is not None:
        chosen = _thread(pid, tid)
        if chosen is None:
            return _refuse(pid, CaptureRefused.GONE, f"no thread {tid} in process {pid}")
        return chosen
    try:
        others = sorted(int(t) for t in os.listdir(f"{_PROC}/{pid}/task") if int(t) != pid)  # noqa: PTH208
    except OSError:
        return _refuse(pid, CaptureRefused.GONE)
    fallback = None
    for candidate in (pid, *others):
        thread = _thread(pid, candidate)
        if thread is None or thread.state in "DZXxTt":
            continue
        if thread.syscall not in _EINTR_AFTER_STOP:
            return thread
        fallback = fallback or thread
    if fallback is None:
        return _refuse(pid, CaptureRefused.NO_THREAD, "every thread is exiting or uninterruptible")
    return fallback


@functools.cache
def _vdso_syscall_offset() -> int:
    return int(lib.tti_vdso_syscall_offset())


def _vdso_syscall(pid: int) -> int:
    """Address of a `syscall` instruction in the target's vDSO, 0 when unknown."""
    offset = _vdso_syscall_offset()
    try:
        with open(f"{_PROC}/{pid}/auxv", "rb") as f:  # noqa: PTH123
            auxv = f.read()
    except OSError:
        return 0
    for key, value in struct.iter_unpack("QQ", auxv[: len(auxv) // 16 * 16]):
        if key == _AT_SYSINFO_EHDR:
            return value + offset if value and offset >= 0 else 0
    return 0


def _machine_idle(target_running: bool) -> bool:
    """Nothing runnable but us and the target (/proc/loadavg's running count): then a
    SCHED_IDLE tracer on the target's CPU cannot be starved while the target waits on it."""
    text = _read_text(f"{_PROC}/loadavg")
    try:
        return text is not None and int(text.split()[3].split("/")[0]) <= 1 + target_running
    except (IndexError, ValueError):
        return False


def _capture(
    pid: int, thread: _Thread, ids: tuple[int, ...], allow_seccomp: bool, itimers: bool = False
) -> DeepCapture:
    """One stop per CHUNK timers, so no single stop grows with the number of timers; the
    interval timers in the first."""
    flags = lib.TTI_CHECK_DUMPABLE
    if allow_seccomp:
        flags |= lib.TTI_SUSPEND_SECCOMP
    if itimers:
        flags |= lib.TTI_ITIMERS
    # Trace from the thread's own CPU when nothing else wants it (see inject.c).
    running = thread.state == "R"
    if thread.state in "SR" and _machine_idle(running):
        flags |= lib.TTI_SAME_CPU | (lib.TTI_RUNNING if running else 0)
    vdso = _vdso_syscall(pid)
    res = ffi.new("struct tti_result *")
    values, errors, read_ns = {}, {}, {}
    longest = signals = stops = 0
    note = ""
    got_itimers: tuple[IntervalTimer, ...] | None = None
    itimer_errors: dict[int, int] = {}
    for start in range(0, max(len(ids), 1), CHUNK):
        part = ids[start : start + CHUNK]
        timers = ffi.new("struct tti_timer[]", len(part))
        for slot, timer_id in zip(timers, part, strict=True):
            slot.id = timer_id
        lib.tti_capture(thread.tid, vdso, flags, thread.cpu, timers, len(part), res)
        longest, signals, stops = max(longest, res.stopped_ns), signals + res.signals, stops + 1
        if res.status != lib.TTI_OK:
            why, detail = _failure(pid, res, allow_seccomp)
            return DeepCapture(
                pid, tid=thread.tid, stopped_ns=longest, stops=stops, signals=signals,
                refused=why, detail=detail,
            )  # fmt: skip
        note = note or _eintr_note(thread.tid, res.syscall_nr, res.syscall_ret)
        if itimers and got_itimers is None and res.itimers_read:
            got_itimers, itimer_errors = _itimers(res)
            flags &= ~lib.TTI_ITIMERS
        for t in timers:
            if t.err:
                errors[t.id] = t.err
            else:
                values[t.id] = TimerValues(t.value_ns, t.interval_ns, t.overrun)
                read_ns[t.id] = t.read_ns
    return DeepCapture(
        pid,
        MappingProxyType(values),
        MappingProxyType(errors),
        MappingProxyType(read_ns),
        tid=thread.tid,
        stopped_ns=longest,
        stops=stops,
        signals=signals,
        note=note,
        itimers=got_itimers,
        itimer_errors=MappingProxyType(itimer_errors),
    )


def _itimers(res: Any) -> tuple[tuple[IntervalTimer, ...], dict[int, int]]:
    """The interval timers the window read (struct itimerval: interval s, us; value s, us)."""
    found, errors = [], {}
    for which in range(3):
        if res.itimer_err[which]:
            errors[which] = int(res.itimer_err[which])
            continue
        isec, iusec, vsec, vusec = (int(x) for x in res.itimers[which])
        found.append(IntervalTimer(which, vsec, vusec, isec, iusec))
    return tuple(found), errors


def _eintr_note(tid: int, nr: int, ret: int) -> str:
    if nr < 0 or ret != -errno.EINTR:
        return ""
    name = _EINTR_AFTER_STOP.get(nr, f"syscall {nr}")
    return f"thread {tid} was in {name}: it returns EINTR to the process, as after SIGSTOP/SIGCONT"


def _failure(pid: int, res: Any, allow_seccomp: bool) -> tuple[CaptureRefused, str]:
    status, err = int(res.status), int(res.err)
    why_errno = f"{errno.errorcode.get(err, err)}: {os.strerror(err)}" if err else ""
    if status == lib.TTI_SEIZE_FAILED:
        if err == errno.ESRCH:
            return CaptureRefused.GONE, ""
        tracer = int((_status(pid) or {}).get("TracerPid", "0"))
        if tracer:
            return CaptureRefused.TRACED, _tracer_text(tracer)
        if allow_seccomp:
            why_errno += " (suspending seccomp needs CAP_SYS_ADMIN)"
        return CaptureRefused.PERMISSION, f"PTRACE_SEIZE: {why_errno}"
    if status == lib.TTI_GONE:
        return CaptureRefused.GONE, "it exited during the capture"
    if status == lib.TTI_GROUP_STOPPED:
        return CaptureRefused.STOPPED, f"signal {res.stop_signal} stopped it during the capture"
    if status == lib.TTI_NOT_DUMPABLE:
        return CaptureRefused.NON_DUMPABLE, f"PR_GET_DUMPABLE is {res.dumpable}"
    if status == lib.TTI_TRAPPED:
        return CaptureRefused.SYSCALL_DISPATCH, (
            "the only syscall instruction at hand is outside its allowed range (a SIGSYS there "
            "would reach the process)"
        )
    simple = {
        lib.TTI_NOT_64BIT: CaptureRefused.NOT_64BIT,
        lib.TTI_NO_SYSCALL_INSN: CaptureRefused.NO_SYSCALL_INSN,
        lib.TTI_STACK_UNREADABLE: CaptureRefused.STACK,
        lib.TTI_BUSY: CaptureRefused.BUSY,
        lib.TTI_RESTORE_FAILED: CaptureRefused.RESTORE_FAILED,
        lib.TTI_UNSUPPORTED_ARCH: CaptureRefused.UNSUPPORTED_ARCH,
    }
    return simple.get(status, CaptureRefused.FAILED), why_errno
