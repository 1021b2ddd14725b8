"""CRIU's timerfds and interval timers, from either source's messages.

A timerfd is a TIMERFD entry of files.img (file_entry: type=1, id=2, tfd=12; timerfd_entry:
id=1, flags=2, fown=3, clockid=4, ticks=5, settime_flags=6, vsec=7, vnsec=8, isec=9, insec=10),
placed at an fd by an entry of the process's fdinfo-N.img (fdinfo_entry: id=1, flags=2 — bit 0
is close-on-exec —, type=3, fd=4), N being the files_id (field 2) of its ids-PID.img. Interval
timers are core-PID.img's tc.timers real=1, virt=2, prof=3 (itimer_entry: isec=1, iusec=2,
vsec=3, vusec=4).

A timerfd entry that no fd names, an fd whose entry is missing, a value out of range: each is a
problem ("files.img entries[5].tfd.vnsec: ..."), the rest still imports.
"""

from __future__ import annotations

from collections.abc import Sequence

from timertui.criu.fields import Fields, Malformed, child, uint
from timertui.model import O_CLOEXEC, IntervalTimer, TimerFd

FILES_MAGIC = 0x56303138
FDINFO_MAGIC = 0x56213732
IDS_MAGIC = 0x54432030
TIMERFD_TYPE = 17  # fd_types.TIMERFD
FD_CLOEXEC = 1
_NS = 1_000_000_000
_KTIME_MAX = 2**63 - 1
# fd_types as crit names them (images/fdinfo.proto), for the JSON's "type".
FD_TYPES = {
    name: number
    for number, name in enumerate(
        (
            "UND", "REG", "PIPE", "FIFO", "INETSK", "UNIXSK", "EVENTFD", "EVENTPOLL", "INOTIFY",
            "SIGNALFD", "PACKETSK", "TTY", "FANOTIFY", "NETLINKSK", "NS", "TUNF", "EXT",
            "TIMERFD", "MEMFD", "BPFMAP", "PIDFD",
        )
    )
}  # fmt: skip


def itimers_of(timers: Fields | None) -> tuple[IntervalTimer, ...] | None:
    """The interval timers of a task_timers_entry (None: the core has none)."""
    if timers is None:
        return None
    found = []
    for which, (num, name) in enumerate(((1, "real"), (2, "virt"), (3, "prof"))):
        entry = timers.message(num, name)
        if entry is None:
            continue
        found.append(
            IntervalTimer(
                which,
                value_s=_signed(uint(entry, 3, "vsec")),
                value_us=_signed(uint(entry, 4, "vusec")),
                interval_s=_signed(uint(entry, 1, "isec")),
                interval_us=_signed(uint(entry, 2, "iusec")),
            )
        )
    return tuple(found)


def _signed(value: int) -> int:
    """CRIU's uint64 of a signed timeval field (a negative one wraps), as the kernel meant it."""
    return value - (1 << 64) if value >= 1 << 63 else value


def files_files_id(ids: Fields) -> int | None:
    return ids.opt_uint(2, "files_id", 32)


def timerfd_entries(files: Sequence[Fields], where: str) -> tuple[dict[int, Fields], list[str]]:
    """The TIMERFD entries of files.img by file id, and the problems of those we cannot use."""
    found: dict[int, Fields] = {}
    problems: list[str] = []
    for entry in files:
        try:
            if entry.opt_uint(1, "type", 32, FD_TYPES) != TIMERFD_TYPE:
                continue
            tfd = entry.message(12, "tfd")
            if tfd is None:
                raise Malformed(child(entry.path, "tfd"), "missing in a TIMERFD entry")
            found[uint(entry, 2, "id", 32)] = tfd
        except Malformed as exc:
            problems.append(f"{where} {exc}")
    return found, problems


def join_timerfds(
    tfds: dict[int, Fields], tfds_where: str, fdinfo: Sequence[Fields], fdinfo_where: str
) -> tuple[tuple[TimerFd, ...], list[str]]:
    """The timerfds one process's fdinfo entries place, by fd; problems for an fd whose entry is
    missing or broken. The caller reports the timerfd entries no process placed."""
    found: list[TimerFd] = []
    problems: list[str] = []
    for entry in fdinfo:
        try:
            if entry.opt_uint(3, "type", 32, FD_TYPES) != TIMERFD_TYPE:
                continue
            file_id = uint(entry, 1, "id", 32)
            fd = uint(entry, 4, "fd", 31)
            cloexec = uint(entry, 2, "flags", 32) & FD_CLOEXEC
        except Malformed as exc:
            problems.append(f"{fdinfo_where} {exc}")
            continue
        tfd = tfds.get(file_id)
        if tfd is None:
            where = child(entry.path, "id")
            problems.append(
                f"{fdinfo_where} {where}: timerfd {file_id} of fd {fd} not in files.img"
            )
            continue
        try:
            found.append(_timerfd(tfd, fd, O_CLOEXEC if cloexec else 0))
        except Malformed as exc:
            problems.append(f"{tfds_where} {exc}")
    return tuple(sorted(found, key=lambda t: t.fd)), problems


def placed_ids(fdinfo: Sequence[Fields]) -> set[int]:
    """The file ids of the TIMERFD entries an fdinfo image places (broken entries left out)."""
    ids = set()
    for entry in fdinfo:
        try:
            if entry.opt_uint(3, "type", 32, FD_TYPES) == TIMERFD_TYPE:
                ids.add(uint(entry, 1, "id", 32))
        except Malformed:
            continue
    return ids


def _timerfd(tfd: Fields, fd: int, cloexec: int) -> TimerFd:
    return TimerFd(
        fd=fd,
        clock=uint(tfd, 4, "clockid", 32),
        ticks=uint(tfd, 5, "ticks"),
        settime_flags=uint(tfd, 6, "settime_flags", 32),
        remaining_ns=_ns(tfd, 7, "vsec", 8, "vnsec"),
        interval_ns=_ns(tfd, 9, "isec", 10, "insec"),
        flags=uint(tfd, 2, "flags", 31) | cloexec,
    )


def _ns(msg: Fields, sec_num: int, sec: str, nsec_num: int, nsec: str) -> int:
    seconds, nanos = uint(msg, sec_num, sec), uint(msg, nsec_num, nsec)
    if nanos >= _NS:
        raise Malformed(child(msg.path, nsec), f"{nanos} is not below one second")
    if seconds * _NS + nanos > _KTIME_MAX:
        raise Malformed(child(msg.path, sec), f"{seconds} s is beyond the kernel's range")
    return seconds * _NS + nanos
