"""What `timertui check` probes, on the remote host with the standard library alone: the calls
go through ctypes, each that changes timer state in a forked child (as capture.host does with
the compiled module here). Each result is [ok, errno, text]: with an errno the timertui side
words it (errors.errno_text) after `text`; without one `text` is the whole detail.
Python 3.9, standard library only.
"""

from __future__ import annotations

import errno
import os
import resource
import time
from collections.abc import Callable
from typing import Any

_PR_TIMER_CREATE_RESTORE_IDS = 77
_PTRACE_SEIZE, _PTRACE_INTERRUPT, _PTRACE_DETACH = 0x4206, 0x4207, 17
_WALL = 0x40000000
_CLOCK_REALTIME_ALARM = 8
_EXIT_ERRNO_BASE = 10


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _in_child(action: Callable[[], int]) -> list[Any]:
    """Fork, run `action` (returns 0 or an errno) in the child, report as [ok, errno, text]."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            err = action()
            code = 0 if err == 0 else _EXIT_ERRNO_BASE + min(err, 200)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return [True, 0, ""]
    if code >= _EXIT_ERRNO_BASE:
        return [False, code - _EXIT_ERRNO_BASE, ""]
    return [False, 0, f"probe child ended with status {code}"]


def _errno_of(ret: int) -> int:
    import ctypes

    return 0 if ret == 0 else ctypes.get_errno() or errno.EINVAL


def proc_timers() -> list[Any]:
    try:
        with open("/proc/self/timers", "rb") as f:
            f.read()
    except FileNotFoundError:
        return [False, 0, "/proc/PID/timers missing (CONFIG_CHECKPOINT_RESTORE off)"]
    except OSError as exc:
        return [False, 0, f"/proc/self/timers: {exc.strerror}"]
    return [True, 0, ""]


def exact_ids() -> list[Any]:
    libc = _libc()
    return _in_child(lambda: _errno_of(libc.prctl(_PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0)))


def alarm_timers() -> list[Any]:
    import ctypes

    libc = _libc()
    create = getattr(libc, "timer_create", None)
    if create is None:  # glibc before 2.34 keeps it in librt
        create = ctypes.CDLL("librt.so.1", use_errno=True).timer_create

    def probe() -> int:
        timer = ctypes.c_void_p()
        return _errno_of(create(_CLOCK_REALTIME_ALARM, None, ctypes.byref(timer)))

    return _in_child(probe)


def ptrace() -> list[Any]:
    """PTRACE_SEIZE, PTRACE_INTERRUPT, the stop, PTRACE_DETACH on a sleeping child."""
    import ctypes

    call = _libc().ptrace
    call.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    call.restype = ctypes.c_long
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        time.sleep(5)
        os._exit(0)
    try:
        if call(_PTRACE_SEIZE, pid, None, None) != 0:
            return [False, ctypes.get_errno() or errno.EPERM, "PTRACE_SEIZE: "]
        call(_PTRACE_INTERRUPT, pid, None, None)
        os.waitpid(pid, os.WUNTRACED | _WALL)
        call(_PTRACE_DETACH, pid, None, None)
        return [True, 0, ""]
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def ptrace_scope() -> int | None:
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def sigpending_in_use() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("SigQ:"):
                    return int(line.split()[1].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return None


def all_probes() -> dict[str, Any]:
    """Every probe `timertui check` makes, by the name of capture.host's function."""

    def guarded(probe: Callable[[], list[Any]]) -> list[Any]:
        try:
            return probe()
        except (OSError, AttributeError) as exc:  # no libc symbol, no ctypes
            return [False, 0, f"cannot probe here: {exc}"]

    return {
        "probe_proc_timers": proc_timers(),
        "probe_exact_ids": guarded(exact_ids),
        "probe_ptrace": guarded(ptrace),
        "probe_alarm_timers": guarded(alarm_timers),
        "ptrace_scope": ptrace_scope(),
        "sigpending_limits": list(resource.getrlimit(resource.RLIMIT_SIGPENDING)),
        "sigpending_in_use": sigpending_in_use(),
    }
