"""Enumerating processes and their POSIX timers, fast enough for a TUI that polls every second.

psutil gives the pid list and the status names; everything per process is read straight from
/proc, since psutil's per-process objects cost an order of magnitude more than the reads
(bench/sweep.py). A sweep opens only /proc/PID/timers for every process; stat, the owner, cmdline
and the thread list are read only for the processes the caller gets back.
"""

from __future__ import annotations

import dataclasses
import os
import pwd

import psutil

from timertui.capture import proc_timers, timerfds
from timertui.capture.containers import ContainerNames, parse_nspid
from timertui.capture.proc_timers import DENIED_ERRNOS, GONE_ERRNOS, TimersReading
from timertui.errors import InputError
from timertui.model import Access, Container, ProcessTimers

_PF_KTHREAD = 0x00200000  # task flag in /proc/PID/stat: kernel threads have no cmdline
_READ_SIZE = 1 << 16
_RLIMIT_SIGPENDING_ROW = "Max pending signals"
_RLIM_INFINITY = 2**64 - 1

# /proc/PID/stat state letters, named as psutil names them.
_STATUS = {
    "R": psutil.STATUS_RUNNING,
    "S": psutil.STATUS_SLEEPING,
    "D": psutil.STATUS_DISK_SLEEP,
    "T": psutil.STATUS_STOPPED,
    "t": psutil.STATUS_TRACING_STOP,
    "Z": psutil.STATUS_ZOMBIE,
    "X": psutil.STATUS_DEAD,
    "x": psutil.STATUS_DEAD,
    "W": psutil.STATUS_WAKING,
    "I": psutil.STATUS_IDLE,
    "P": psutil.STATUS_PARKED,
}

_user_names: dict[int, str] = {}
_containers = ContainerNames()


class NoSuchProcess(InputError):
    """The pid names no process (or names a thread rather than a process)."""


class _Vanished(Exception):
    """The process went away while we were reading it."""


class _Denied(Exception):
    """We may not read this part of the process."""


def scan(
    include_all: bool = False, *, include_unreadable: bool = False, duty: float = 0.0
) -> list[ProcessTimers]:
    """Processes in pid order: those with timers, or every process with `include_all`.

    Processes whose timers we may not read (NO_ACCESS) or cannot read (NO_TIMERS_FILE) come
    back with that state when `include_all` or `include_unreadable` is set. A process that exits
    during the sweep is left out of it. Only a timers text the parser does not understand
    (TimersParseError) or an errno /proc should never give escapes as an exception. `duty`
    bounds the cost of re-reading long timer listings (proc_timers.read_timers).
    """
    found: list[ProcessTimers] = []
    for pid in sorted(psutil.pids()):
        reading = proc_timers.read_timers(pid, duty=duty)
        if reading.access is Access.GONE:
            continue
        if reading.access is Access.OK:
            if not (reading.timers or include_all):
                continue
        elif not (include_all or include_unreadable):
            continue
        # Timerfds of the processes listed only: listing every process's fds would cost a
        # sweep of 2,000 processes 8x (bench/sweep.py); `--all` finds those with timerfds only.
        record = _read_record(pid, reading, timerfds.read_timerfds(pid))
        if record.access is not Access.GONE:
            found.append(record)
    return found


def read_process(pid: int) -> ProcessTimers:
    """One process with its timers (sorted by ID) and its RLIMIT_SIGPENDING.

    Raises NoSuchProcess only when `pid` is no process at all (or a thread of one); a process that
    exits while we read it comes back as GONE with what was read before, others as their state.
    """
    tgid = _tgid(pid)
    if tgid is None:
        raise NoSuchProcess(f"no such process: {pid}")
    if tgid != pid:
        raise NoSuchProcess(f"no such process: {pid} (it is a thread of process {tgid})")
    record = _read_record(pid, proc_timers.read_timers(pid), timerfds.read_timerfds(pid))
    if record.access is Access.GONE:
        return record
    return dataclasses.replace(record, sigpending=_sigpending_limits(pid))


def exited(pid: int) -> bool:
    """Whether process `pid` has exited: gone from /proc, or a zombie waiting for its reaper."""
    try:
        return _parse_stat(_read(f"{proc_timers.PROC_ROOT}/{pid}/stat"))[1] in "ZXx"
    except _Vanished:
        return True
    except _Denied:
        return False


def exited_meanwhile(pid: int) -> NoSuchProcess:
    """The error for a process that was there when a command began and exited during it."""
    return NoSuchProcess(f"process {pid} exited while it was being read")


def user_name(uid: int) -> str:
    """The login name of `uid` (cached: the TUI asks for every process every second)."""
    name = _user_names.get(uid)
    if name is None:
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        _user_names[uid] = name
    return name


def _read_record(
    pid: int, reading: TimersReading, fds: timerfds.TimerFdReading | None = None
) -> ProcessTimers:
    """`reading` with the rest of the process added; GONE with the fields read so far when the
    process vanishes meanwhile, NO_ACCESS when /proc hides even its stat."""
    root = f"{proc_timers.PROC_ROOT}/{pid}"
    comm = status = user = ""
    ppid, uid = 0, -1
    cmdline: tuple[str, ...] = ()
    tids: tuple[int, ...] = ()
    container: Container | None = None
    ns_pid: int | None = None
    access = reading.access
    try:
        comm, state, ppid, flags, num_threads = _parse_stat(_read(f"{root}/stat"))
        status = _STATUS.get(state, state)
        uid = _owner(root)
        user = user_name(uid)
        if not flags & _PF_KTHREAD:
            cmdline = _split_cmdline(_read(f"{root}/cmdline"))
        # Most processes have one thread: stat says so, which saves listing task/.
        tids = (pid,) if num_threads == 1 else _tids(root)
        container, ns_pid = _container_of(pid, root)
    except _Vanished:
        access = Access.GONE
    except _Denied:
        access = Access.NO_ACCESS
    return ProcessTimers(
        pid,
        ppid,
        comm,
        cmdline,
        uid,
        user,
        status,
        tids,
        reading.timers,
        access,
        None,
        container,
        ns_pid,
        fds.timerfds if fds is not None else (),
        None,
        fds.problems if fds is not None else (),
    )


def _container_of(pid: int, root: str) -> tuple[Container | None, int | None]:
    """The process's container (cached per cgroup text: containers.ContainerNames) and its pid
    in its own pid namespace when that differs. Only a container's process is likely to have a
    pid namespace of its own: status is read for those alone."""
    # A kernel without cgroups has no such file; a process that vanished meanwhile is left out
    # by the next sweep.
    try:
        cgroup = _read(f"{root}/cgroup")
    except _Vanished:
        return None, None
    container = _containers.of_cgroup(cgroup)
    if container is None:
        return None, None
    ns_pid = parse_nspid(_read(f"{root}/status"))
    return container, None if ns_pid == pid else ns_pid


def _parse_stat(data: bytes) -> tuple[str, str, int, int, int]:
    """(comm, state letter, ppid, flags, num_threads) from /proc/PID/stat.

    comm may hold spaces and parentheses; it ends at the line's last ')'.
    """
    close = data.rindex(b")")
    comm = data[data.index(b"(") + 1 : close].decode("utf-8", "backslashreplace")
    rest = data[close + 2 :].split()
    # Fields after comm: 0 state, 1 ppid, 6 flags, 17 num_threads (proc(5) fields 3, 4, 9, 20).
    return comm, rest[0].decode(), int(rest[1]), int(rest[6]), int(rest[17])


def _split_cmdline(data: bytes) -> tuple[str, ...]:
    if data.endswith(b"\0"):
        data = data[:-1]
    if not data:
        return ()
    return tuple(arg.decode("utf-8", "backslashreplace") for arg in data.split(b"\0"))


def _read(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise _classify(exc) from None
    try:
        chunks = []
        while chunk := os.read(fd, _READ_SIZE):
            chunks.append(chunk)
    except OSError as exc:
        raise _classify(exc) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def _owner(root: str) -> int:
    try:
        return os.stat(root).st_uid  # noqa: PTH116 - hot path; pathlib costs more per call
    except OSError as exc:
        raise _classify(exc) from None


def _tids(root: str) -> tuple[int, ...]:
    try:
        return tuple(sorted(int(name) for name in os.listdir(f"{root}/task")))  # noqa: PTH208
    except OSError as exc:
        raise _classify(exc) from None


def _classify(exc: OSError) -> Exception:
    if exc.errno in GONE_ERRNOS:
        return _Vanished()
    if exc.errno in DENIED_ERRNOS:
        return _Denied()
    return exc


def _tgid(pid: int) -> int | None:
    """The thread group of `pid`, None when there is no such task; `pid` itself when /proc will
    not tell (then it is taken for a process)."""
    try:
        status = _read(f"{proc_timers.PROC_ROOT}/{pid}/status")
    except _Vanished:
        return None
    except _Denied:
        return pid
    for line in status.splitlines():
        if line.startswith(b"Tgid:"):
            return int(line.split()[1])
    return pid


def _sigpending_limits(pid: int) -> tuple[int, int] | None:
    """RLIMIT_SIGPENDING (soft, hard) from /proc/PID/limits, None when it cannot be read."""
    try:
        text = _read(f"{proc_timers.PROC_ROOT}/{pid}/limits").decode()
    except (_Vanished, _Denied):
        return None
    for line in text.splitlines():
        if line.startswith(_RLIMIT_SIGPENDING_ROW):
            soft, hard = line[len(_RLIMIT_SIGPENDING_ROW) :].split()[:2]
            return _limit(soft), _limit(hard)
    return None


def _limit(text: str) -> int:
    return _RLIM_INFINITY if text == "unlimited" else int(text)
