"""Reading the remote host's /proc: the same sweep as timertui.capture.processes.scan, sent as
rows the timertui side turns into its records (timertui.remote.reading). Timer listings travel
as the kernel's text and are parsed there, by the parser the local host's are parsed by.

Python 3.9, standard library only.
"""

from __future__ import annotations

import errno
import os
import pwd
import resource
import time
from typing import Any

PROC = "/proc"
_READ_SIZE = 1 << 16
_PAGE = os.sysconf("SC_PAGE_SIZE")
_LONGEST_RECORD = 128  # one timer's four lines at their longest (proc_timers._LONGEST_RECORD)
_READ_ATTEMPTS = 5
_PF_KTHREAD = 0x00200000
_GONE = frozenset({errno.ENOENT, errno.ESRCH})
_DENIED = frozenset({errno.EACCES, errno.EPERM})
_SIGPENDING_ROW = "Max pending signals"
_RLIM_INFINITY = 2**64 - 1
_PR_TIMER_CREATE_RESTORE_IDS = 77
# Words in a cgroup path that may name a container (capture.containers knows which do): only
# then is status read for the pid inside the container's namespace, as the local sweep does.
_CONTAINER_MARKS = (
    b"libpod-",
    b"docker",
    b"crio-",
    b"containerd",
    b"kubepods",
    b"lxc",
    b"machine-",
)

# A process row, by position (timertui.remote.reading reads the same positions).
PID, PPID, COMM, STATE, UID, USER, CMDLINE, TIDS, ACCESS, TIMERS, WHOLE, CGROUP, NSPID = range(13)
TIMERFDS = 13  # [[fd, its fdinfo, its clock's now or None], ...] in fd order
SIGPENDING = 14
# Only a timerfd's fdinfo has both (as capture.timerfds tells them apart).
_TIMERFD_MARKS = (b"\nclockid: ", b"\nticks: ")

_users: dict[int, str] = {}
# Multi-page listings by pid as last read, the newest last (as capture.proc_timers keeps them).
_last_long: dict[int, bytes] = {}
_KEEP_LONG = 64


class Vanished(Exception):
    pass


class Denied(Exception):
    pass


def _classify(exc: OSError) -> Exception:
    if exc.errno in _GONE:
        return Vanished()
    if exc.errno in _DENIED:
        return Denied()
    return exc


def _read(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise _classify(exc) from None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, _READ_SIZE)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as exc:
        raise _classify(exc) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_timers(pid: int) -> tuple[str, bytes | None, bool]:
    """(access, the /proc/PID/timers text, whether one read gave it whole). A listing longer
    than a page is read until two readings agree (the kernel lists it over several reads, and a
    timer created meanwhile shifts the list), at most five times."""
    path = f"{PROC}/{pid}/timers"
    previous = _last_long.get(pid)  # the last poll's reading: the same again is consistent
    data = b""
    for _ in range(_READ_ATTEMPTS):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            return _failed(pid, exc), None, True
        try:
            data = os.read(fd, _READ_SIZE)
            if len(data) + _LONGEST_RECORD <= _PAGE:
                return "ok", data, True
            chunks = [data]
            while data:
                data = os.read(fd, _READ_SIZE)
                chunks.append(data)
        except OSError as exc:
            return _failed(pid, exc), None, True
        finally:
            os.close(fd)
        data = b"".join(chunks)
        if data == previous:
            break
        previous = data
    _last_long.pop(pid, None)
    _last_long[pid] = data
    while len(_last_long) > _KEEP_LONG:
        del _last_long[next(iter(_last_long))]
    return "ok", data, False


def _failed(pid: int, exc: OSError) -> str:
    if exc.errno in _DENIED:
        return "no access"
    if exc.errno == errno.ENOENT and os.path.isdir(f"{PROC}/{pid}"):
        return "no timers file"
    if exc.errno in _GONE:
        return "gone"
    raise exc


def scan(include_all: bool, include_unreadable: bool) -> list[list[Any]]:
    """Rows of the processes with timers (or all), in pid order, as processes.scan picks them."""
    rows = []
    pids = sorted(int(name) for name in os.listdir(PROC) if name.isdigit())
    for pid in pids:
        access, text, whole = read_timers(pid)
        if access == "gone":
            continue
        if access == "ok":
            if not (text or include_all):
                continue
        elif not (include_all or include_unreadable):
            continue
        row = read_row(pid, access, text, whole)
        if row[ACCESS] != "gone":
            rows.append(row)
    return rows


def read_row(pid: int, access: str, text: bytes | None, whole: bool) -> list[Any]:
    root = f"{PROC}/{pid}"
    row: list[Any] = [pid, 0, "", "", -1, "", [], [], access, text, whole, None, None, []]
    try:
        data = _read(root + "/stat")
        close = data.rindex(b")")
        row[COMM] = data[data.index(b"(") + 1 : close].decode("utf-8", "backslashreplace")
        rest = data[close + 2 :].split()
        row[STATE] = rest[0].decode()
        row[PPID] = int(rest[1])
        flags, threads = int(rest[6]), int(rest[17])
        try:
            uid = os.stat(root).st_uid
        except OSError as exc:
            raise _classify(exc) from None
        row[UID] = uid
        row[USER] = user_name(uid)
        if not flags & _PF_KTHREAD:
            args = _read(root + "/cmdline")
            if args.endswith(b"\0"):
                args = args[:-1]
            row[CMDLINE] = (
                [a.decode("utf-8", "backslashreplace") for a in args.split(b"\0")] if args else []
            )
        if threads == 1:
            row[TIDS] = [pid]
        else:
            try:
                row[TIDS] = sorted(int(n) for n in os.listdir(root + "/task"))
            except OSError as exc:
                raise _classify(exc) from None
        cgroup = _read(root + "/cgroup")
        row[CGROUP] = cgroup
        if any(mark in cgroup for mark in _CONTAINER_MARKS):
            row[NSPID] = _nspid(_read(root + "/status"))
        row[TIMERFDS] = read_timerfds(root)
    except Vanished:
        row[ACCESS] = "gone"
    except Denied:
        row[ACCESS] = "no access"
    return row


def read_timerfds(root: str) -> list[list[Any]]:
    """The fdinfo of each timerfd of the process at `root`, with its clock's time now (an
    absolute timerfd's deadline is that plus it_value: the clock is this host's). The
    timertui side decodes them as it decodes its own host's (capture.timerfds)."""
    try:
        names = os.listdir(root + "/fd")
    except OSError:
        return []  # gone or hidden: the timers' reading says which
    found = []
    for name in names:
        try:
            data = _read(f"{root}/fdinfo/{name}")
        except Vanished:
            continue  # closed meanwhile
        except Denied:
            return []
        if _TIMERFD_MARKS[0] in data and _TIMERFD_MARKS[1] in data:
            found.append([int(name), data, _clock_now(data)])
    return sorted(found)


def _clock_now(fdinfo: bytes) -> int | None:
    start = fdinfo.find(_TIMERFD_MARKS[0]) + len(_TIMERFD_MARKS[0])
    end = fdinfo.find(b"\n", start)
    try:
        return time.clock_gettime_ns(int(fdinfo[start : end if end >= 0 else None]))
    except (ValueError, OSError, OverflowError):
        return None


def _nspid(status: bytes) -> int | None:
    start = status.find(b"\nNSpid:")
    if start < 0:
        return None
    end = status.find(b"\n", start + 1)
    values = status[start + 7 : end if end >= 0 else None].split()
    return int(values[-1]) if values and values[-1].isdigit() else None


def read_process(pid: int) -> list[Any] | None:
    """One process's row with its RLIMIT_SIGPENDING; None when `pid` is no process (or is a
    thread of one: then ["thread", TGID])."""
    root = f"{PROC}/{pid}"
    try:
        status = _read(root + "/status")
    except Vanished:
        return None
    except Denied:
        status = b""
    for line in status.splitlines():
        if line.startswith(b"Tgid:"):
            tgid = int(line.split()[1])
            if tgid != pid:
                return ["thread", tgid]
            break
    access, text, whole = read_timers(pid)
    row = read_row(pid, access, text, whole)
    row.append(_sigpending(root) if row[ACCESS] != "gone" else None)
    return row


def _sigpending(root: str) -> list[int] | None:
    try:
        text = _read(root + "/limits").decode()
    except (Vanished, Denied):
        return None
    for line in text.splitlines():
        if line.startswith(_SIGPENDING_ROW):
            soft, hard = line[len(_SIGPENDING_ROW) :].split()[:2]
            return [_limit(soft), _limit(hard)]
    return None


def runtime_file(how: str, path: str, limit: int) -> Any:
    """A container runtime's state, for capture.containers.Files there: `how` "listdir"
    (sorted names), "stamp" ([mtime ns, size]) or "read" (bytes up to `limit`); None when
    missing or unreadable ([] for a folder)."""
    try:
        if how == "listdir":
            return sorted(os.listdir(path))
        if how == "stamp":
            info = os.stat(path)
            return [info.st_mtime_ns, info.st_size]
        with open(path, "rb") as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    except OSError:
        return [] if how == "listdir" else None


def _limit(text: str) -> int:
    return _RLIM_INFINITY if text == "unlimited" else int(text)


def user_name(uid: int) -> str:
    name = _users.get(uid)
    if name is None:
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        _users[uid] = name
    return name


def host_facts(probe: bool) -> dict[str, Any]:
    """What timertui.capture.host.host_facts says of this host, and the capture times."""
    try:
        with open(PROC + "/sys/kernel/random/boot_id") as f:
            boot_id = f.read().strip()
    except OSError:
        boot_id = ""
    soft, hard = resource.getrlimit(resource.RLIMIT_SIGPENDING)
    uname = os.uname()
    return {
        "kernel_release": uname.release,
        "boot_id": boot_id,
        "hostname": uname.nodename,
        "machine": uname.machine,
        "exact_ids": probe_exact_ids() if probe else None,
        "sigpending_soft": soft,
        "sigpending_hard": hard,
    }


def capture_times() -> dict[str, int]:
    return {
        "realtime_ns": time.clock_gettime_ns(time.CLOCK_REALTIME),
        "monotonic_ns": time.clock_gettime_ns(time.CLOCK_MONOTONIC),
        "boottime_ns": time.clock_gettime_ns(time.CLOCK_BOOTTIME),
    }


def probe_exact_ids() -> bool | None:
    """Whether prctl(PR_TIMER_CREATE_RESTORE_IDS, 1) succeeds, tried in a forked child (ctypes:
    the remote has no timertui); None when ctypes or libc is missing."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except (ImportError, OSError):
        return None
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            code = 0 if libc.prctl(_PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0) == 0 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
