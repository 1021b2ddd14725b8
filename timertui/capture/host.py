"""Facts about this host and probes of what its kernel allows.

Probes that must call prctl or timer_create run in a forked child, so the calling process (the
app or the CLI) never changes its own timer state.
"""

from __future__ import annotations

import errno
import os
import time

from timertui.errors import errno_text
from timertui.model import CaptureTimes, HostFacts
from timertui.records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable

_EXIT_OK = 0
_EXIT_ERRNO_BASE = 10  # child exit code = base + errno; errno values stay below 134


@record
class ProbeResult:
    """Outcome of a probe: ok, or the errno it failed with and a line saying what that means."""

    ok: bool
    errno: int = 0
    detail: str = ""


def _read_proc(name: str) -> str:
    # open(), not pathlib: this module is on `timertui restore`'s start path.
    with open(f"/proc/{name}") as f:  # noqa: PTH123
        return f.read()


def kernel_release() -> str:
    return os.uname().release


def boot_id() -> str:
    try:
        return _read_proc("sys/kernel/random/boot_id").strip()
    except OSError:
        return ""


def sigpending_limits() -> tuple[int, int]:
    import resource  # here: the restore worker loads this module for sigpending_in_use only

    soft, hard = resource.getrlimit(resource.RLIMIT_SIGPENDING)
    return soft, hard


def sigpending_in_use(pid: int | str = "self") -> int | None:
    """Slots of RLIMIT_SIGPENDING the process's user holds now (SigQ's first field): queued
    signals plus one preallocated per POSIX timer."""
    try:
        for line in _read_proc(f"{pid}/status").splitlines():
            if line.startswith("SigQ:"):
                return int(line.split()[1].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return None


def capture_times() -> CaptureTimes:
    return CaptureTimes(
        realtime_ns=time.clock_gettime_ns(time.CLOCK_REALTIME),
        monotonic_ns=time.clock_gettime_ns(time.CLOCK_MONOTONIC),
        boottime_ns=time.clock_gettime_ns(time.CLOCK_BOOTTIME),
    )


def host_facts(probe: bool = True) -> HostFacts:
    soft, hard = sigpending_limits()
    return HostFacts(
        kernel_release=kernel_release(),
        boot_id=boot_id(),
        hostname=os.uname().nodename,
        machine=os.uname().machine,
        exact_ids=probe_exact_ids().ok if probe else None,
        sigpending_soft=soft,
        sigpending_hard=hard,
    )


def run_in_child(action: Callable[[], int]) -> ProbeResult:
    """Fork, run `action` (returns 0 or -errno) in the child, and report its result.

    The child only makes the syscalls and leaves with os._exit, so forking from a threaded parent
    stays safe: nothing in the child takes a lock another thread might hold.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = _EXIT_OK
        try:
            ret = action()
            code = _EXIT_OK if ret >= 0 else _EXIT_ERRNO_BASE + min(-ret, 200)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == _EXIT_OK:
        return ProbeResult(True)
    if code >= _EXIT_ERRNO_BASE:
        err = code - _EXIT_ERRNO_BASE
        return ProbeResult(False, err, errno_text(err))
    return ProbeResult(False, 0, f"probe child ended with status {code}")


def probe_exact_ids() -> ProbeResult:
    """Can prctl(PR_TIMER_CREATE_RESTORE_IDS) switch exact-ID mode on? (Linux 6.15+)."""
    from timertui import _native

    return run_in_child(
        lambda: int(
            _native.lib.tt_prctl(_native.PR_TIMER_CREATE_RESTORE_IDS, _native.RESTORE_IDS_ON)
        )
    )


def probe_alarm_timers() -> ProbeResult:
    """Can a CLOCK_REALTIME_ALARM timer be created? Needs an RTC and CAP_WAKE_ALARM."""
    from timertui import _native

    def create() -> int:
        spec = _native.make_spec(8, 1, 0, 0)
        slot = _native.ffi.new("int *", 0)
        return int(_native.lib.tt_timer_create(spec, slot))

    return run_in_child(create)


def probe_proc_timers() -> ProbeResult:
    try:
        _read_proc("self/timers")
    except FileNotFoundError:
        return ProbeResult(
            False, errno.ENOENT, "/proc/PID/timers missing (CONFIG_CHECKPOINT_RESTORE off)"
        )
    except OSError as exc:
        return ProbeResult(False, exc.errno or 0, f"/proc/self/timers: {exc.strerror}")
    return ProbeResult(True)


def ptrace_scope() -> int | None:
    """Yama's /proc/sys/kernel/yama/ptrace_scope (0 classic, 1 descendants only, 2 admin only,
    3 none); None without Yama."""
    try:
        return int(_read_proc("sys/kernel/yama/ptrace_scope"))
    except (OSError, ValueError):
        return None


def probe_ptrace() -> ProbeResult:
    """PTRACE_SEIZE + PTRACE_DETACH on a child that sleeps: what deep capture needs."""
    from timertui import _native

    ptrace_seize, ptrace_detach = 0x4206, 17
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        time.sleep(5)
        os._exit(0)
    try:
        ret = int(_native.lib.tt_ptrace(ptrace_seize, pid, 0, 0))
        if ret < 0:
            err = -ret
            return ProbeResult(False, err, f"PTRACE_SEIZE: {errno_text(err)}")
        # A seized, running tracee can only be detached from a stop.
        _native.lib.tt_ptrace(0x4207, pid, 0, 0)  # PTRACE_INTERRUPT
        os.waitpid(pid, os.WUNTRACED | 0x40000000)  # __WALL
        _native.lib.tt_ptrace(ptrace_detach, pid, 0, 0)
        return ProbeResult(True)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
