"""What CRIU's pstree, core and inventory entries mean, as our records: processes with their
POSIX timers, values and RLIMIT_SIGPENDING, from either source's messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from timertui.clocks import to_int32
from timertui.criu.fields import CriuError, Fields, Malformed, child, uint
from timertui.criu.timerfds import itimers_of, join_timerfds, placed_ids, timerfd_entries
from timertui.model import (
    SIGEV_THREAD_ID,
    CaptureTimes,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerValues,
)
from timertui.snapshot_file import KTIME_MAX

RLIMIT_SIGPENDING = 11  # index into task_rlimits_entry.rlimits, as in <asm-generic/resource.h>
_NS = 1_000_000_000

# core_entry.march, and the machine name each stands for (CRIU's own spelling, lowercased).
_MARCH = ("UNKNOWN", "X86_64", "ARM", "AARCH64", "PPC64", "S390", "MIPS", "LOONGARCH64", "RISCV64")
_MARCH_NUMBERS = {name: number for number, name in enumerate(_MARCH)}
# task_state values are compel's (COMPEL_TASK_*); CRIU dumps zombies as TASK_DEAD.
_TASK_STATES = {1: "alive", 2: "zombie", 3: "stopped", 6: "zombie"}
# crit's names for task_state (pycriu's gen_maps), turned back into the numbers crit read.
_CRIT_TASK_STATES = {"Alive": 1, "Zombie": 3, "Stopped": 6}

_UNKNOWN_UID = -1  # what the capture layer records for an owner it could not read


@dataclass(frozen=True)
class Task:
    """One pstree entry."""

    pid: int
    ppid: int
    threads: tuple[int, ...]


def task_of(entry: Fields) -> Task:
    return Task(
        pid=uint(entry, 1, "pid", 32),
        ppid=uint(entry, 2, "ppid", 32),
        threads=tuple(entry.uints(5, "threads", 32)),
    )


def _process(core: Fields, task: Task) -> tuple[ProcessTimers, str]:
    """The process a leader's core entry describes, and the machine it names."""
    march = uint(core, 1, "mtype", 32, _MARCH_NUMBERS)
    tc = core.message(3, "tc")
    if tc is None:
        raise Malformed(child(core.path, "tc"), "missing: no task core (a thread's image?)")
    state = uint(tc, 1, "task_state", 32, _CRIT_TASK_STATES)
    comm = tc.opt_string(6, "comm")
    if comm is None:
        raise Malformed(child(tc.path, "comm"), "required field missing")
    timers_msg = tc.message(7, "timers")
    posix = timers_msg.messages(4, "posix") if timers_msg is not None else []
    rlimits_msg = tc.message(8, "rlimits")
    rlimits = rlimits_msg.messages(1, "rlimits") if rlimits_msg is not None else []
    sigpending = None
    if len(rlimits) > RLIMIT_SIGPENDING:
        limit = rlimits[RLIMIT_SIGPENDING]
        sigpending = (uint(limit, 1, "cur"), uint(limit, 2, "max"))
    thread_core = core.message(5, "thread_core")
    creds = thread_core.message(10, "creds") if thread_core is not None else None
    uid = uint(creds, 1, "uid", 32) if creds is not None else _UNKNOWN_UID
    timers = sorted((_timer(entry, task.pid) for entry in posix), key=lambda t: t.id)
    proc = ProcessTimers(
        pid=task.pid,
        ppid=task.ppid,
        comm=comm,
        cmdline=(),  # the arguments live in the memory pages, which we do not read
        uid=uid,
        user="",  # the images name no user; this host's passwd may not be the dump host's
        status=_TASK_STATES.get(state, f"task state {state}"),
        tids=task.threads,
        timers=tuple(timers),
        sigpending=sigpending,
        itimers=itimers_of(timers_msg),
    )
    return proc, _MARCH[march].lower() if 0 < march < len(_MARCH) else ""


def _timer(entry: Fields, pid: int) -> Timer:
    notify = uint(entry, 4, "it_sigev_notify", 32)
    thread = entry.opt_int32(11, "notify_thread_id")
    return Timer(
        id=uint(entry, 1, "it_id", 32),
        clock=to_int32(uint(entry, 2, "clock_id", 32)),  # clockid_t, stored as uint32
        notify=notify,
        target=(thread or 0) if notify & SIGEV_THREAD_ID else pid,
        signo=to_int32(uint(entry, 3, "si_signo", 32)),
        sigval=uint(entry, 5, "sival_ptr"),
        values=TimerValues(
            remaining_ns=_nanoseconds(entry, 9, "vsec", 10, "vnsec"),
            interval_ns=_nanoseconds(entry, 7, "isec", 8, "insec"),
            overrun=uint(entry, 6, "overrun", 32),
        ),
    )


def _nanoseconds(entry: Fields, sec_num: int, sec: str, nsec_num: int, nsec: str) -> int:
    seconds, nanos = uint(entry, sec_num, sec), uint(entry, nsec_num, nsec)
    if nanos >= _NS:
        raise Malformed(child(entry.path, nsec), f"{nanos} is not below one second")
    total = seconds * _NS + nanos
    if total > KTIME_MAX:
        raise Malformed(child(entry.path, sec), f"{seconds} s is beyond the kernel's range")
    return total


def build_snapshot(
    source: str,
    tasks: list[Task],
    cores: Mapping[int, tuple[str, Fields]],
    uptime_us: int | None,
    fds: FdImages | None = None,
) -> Snapshot:
    """Put processes together; `cores` maps a tid to (file name, core entry); `fds` places
    each process's timerfds."""
    processes = []
    machine = ""
    for task in tasks:
        if task.pid not in cores:
            raise CriuError(f"{source}: no core image for pid {task.pid} listed in the pstree")
        name, core = cores[task.pid]
        try:
            proc, arch = _process(core, task)
        except Malformed as exc:
            raise CriuError(f"{name}: {exc}") from None
        if fds is not None:
            proc = fds.place(proc)
        processes.append(proc)
        machine = machine or arch
    host = HostFacts(
        kernel_release="",
        boot_id="",
        hostname="",
        machine=machine,
        exact_ids=None,
        sigpending_soft=0,
        sigpending_hard=0,
    )
    if fds is not None and processes:
        # Timerfd entries no process's fds name: said once, on the first process.
        first = processes[0]
        processes[0] = dataclasses.replace(first, problems=first.problems + fds.unplaced())
    # inventory's dump_uptime (only with --track-mem) is /proc/uptime at dump: boot time, in µs.
    boottime = uptime_us * 1000 if uptime_us is not None else 0
    return Snapshot(host, CaptureTimes(0, 0, boottime), tuple(processes), source=f"criu:{source}")


class FdImages:
    """files.img's timerfd entries, and the fdinfo image of each process (by pid, from its
    ids-PID.img files_id, or the one fdinfo image of a single process), as decoded messages."""

    def __init__(
        self,
        files: Sequence[Fields],
        files_where: str,
        fdinfo: Mapping[int, tuple[str, Sequence[Fields]]],
    ) -> None:
        self.tfds, self.problems = timerfd_entries(files, files_where)
        self.files_where = files_where
        self.fdinfo = fdinfo
        self.placed: set[int] = set()

    def place(self, proc: ProcessTimers) -> ProcessTimers:
        got = self.fdinfo.get(proc.pid)
        if got is None:
            return proc
        where, entries = got
        timerfds, problems = join_timerfds(self.tfds, self.files_where, entries, where)
        self.placed |= placed_ids(entries)
        return dataclasses.replace(
            proc, timerfds=timerfds, problems=proc.problems + tuple(problems)
        )

    def unplaced(self) -> tuple[str, ...]:
        lost = tuple(
            f"{self.files_where} {tfd.path}: timerfd {file_id} is not at any fd of the "
            "processes' fdinfo images"
            for file_id, tfd in sorted(self.tfds.items())
            if file_id not in self.placed
        )
        return tuple(self.problems) + lost


def check_tree(source: str, tasks: list[Task], core_tids: dict[int, str]) -> None:
    """Every pid once, and no core image for a task the pstree does not list (a pstree cut
    short at an entry boundary would otherwise import without complaint)."""
    if not tasks:
        raise CriuError(f"{source}: the pstree lists no tasks")
    listed: set[int] = set()
    for task in tasks:
        if task.pid in listed:
            raise CriuError(f"{source}: pid {task.pid} appears twice in the pstree")
        listed.add(task.pid)
        listed.update(task.threads)
    for tid, name in sorted(core_tids.items()):
        if tid not in listed:
            raise CriuError(f"{name}: task {tid} is missing from the pstree (is it truncated?)")
