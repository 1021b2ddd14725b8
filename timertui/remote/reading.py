"""A remote host read through its agent: the same records the local capture layer gives
(ProcessTimers, HostFacts, CaptureTimes, Snapshot), built here from the agent's rows.

Timer listings arrive as the kernel's text and go through proc_timers.parse_timers, so a
remote listing is checked as strictly as a local one; timerfds arrive as their fdinfo text and
go through timerfds.decode_fdinfo. Containers are named as capture.containers names them here,
from the remote runtimes' files read through the agent (once per container: by the cgroup
text, as here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from timertui.capture.containers import ContainerNames
from timertui.capture.host import ProbeResult
from timertui.capture.proc_timers import parse_timers
from timertui.capture.processes import _STATUS, NoSuchProcess
from timertui.capture.timerfds import decode_fdinfo
from timertui.errors import errno_text
from timertui.model import (
    Access,
    CaptureTimes,
    HostFacts,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerFd,
)
from timertui.remote.agent import proc as row_fields
from timertui.remote.ssh import Connection, RemoteError, Target, parse_target

if TYPE_CHECKING:
    from timertui.capture.inject import DeepCapture

_ACCESS = {a.value: a for a in Access}
_LONG_TEXT = 4096  # a listing longer than this is kept parsed, by pid
_KEEP_LONG = 64
_ROW_TYPES: tuple[type | tuple[type, ...], ...] = (
    int,
    int,
    str,
    str,
    int,
    str,
    list,
    list,
    str,
    (bytes, type(None)),
    bool,
)


class RemoteHost:
    """Processes and facts of one remote host over one kept connection. Deep capture runs
    `timertui` there: `timertui` names it (default: the one on the remote PATH)."""

    def __init__(
        self,
        target: Target | str,
        *,
        connection: Connection | None = None,
        timertui: str | None = None,
        **options: Any,
    ) -> None:
        self.target = parse_target(target) if isinstance(target, str) else target
        self.connection = connection or Connection(self.target, **options)
        self.timertui = timertui
        self._containers = ContainerNames(files=_RemoteFiles(self.connection))
        self._long: dict[int, tuple[bytes, tuple[Timer, ...]]] = {}

    def __enter__(self) -> RemoteHost:
        self.connection.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()

    @property
    def label(self) -> str:
        return self.target.label

    @property
    def source(self) -> str:
        """What a snapshot taken here records as its source."""
        return f"ssh:{self.label}"

    def scan(
        self, include_all: bool = False, *, include_unreadable: bool = False
    ) -> list[ProcessTimers]:
        rows = self.connection.request("scan", all=include_all, unreadable=include_unreadable)
        return [self._process(row) for row in self._list(rows)]

    def read_process(self, pid: int) -> ProcessTimers:
        """As processes.read_process, there; NoSuchProcess names the host."""
        row = self.connection.request("process", pid=pid)
        if row is None:
            raise NoSuchProcess(f"{self.label}: no such process: {pid}")
        if isinstance(row, list) and len(row) == 2 and row[0] == "thread":
            raise NoSuchProcess(
                f"{self.label}: no such process: {pid} (it is a thread of process {row[1]})"
            )
        proc = self._process(row)
        limits: Any = row[row_fields.SIGPENDING] if len(row) > row_fields.SIGPENDING else None
        if proc.access is Access.GONE or not _ints(limits, 2):
            return proc
        return _replace_sigpending(proc, (limits[0], limits[1]))

    def exited(self, pid: int) -> bool:
        """As processes.exited, there: gone, or a zombie."""
        f = row_fields
        row = self.connection.request("process", pid=pid)
        if row is None:
            return True
        if not isinstance(row, list) or len(row) <= f.ACCESS:
            raise self._malformed(f"a process row {str(row)[:80]}")
        return row[0] != "thread" and (row[f.ACCESS] == "gone" or row[f.STATE] in ("Z", "X", "x"))

    def capture_values(
        self, pid: int, timer_ids: Iterable[int] | None = None, *, itimers: bool = False
    ) -> DeepCapture:
        """As inject.capture_values, by the timertui there; its read_ns on this host's clock.
        RemoteError (one line) when there is no timertui there, saying how to install it."""
        import time

        from timertui.remote import deep

        ids = None if timer_ids is None else list(timer_ids)
        reply = self.connection.request(
            "deep", pid=pid, ids=ids, itimers=itimers, timertui=self.timertui
        )
        try:
            return deep.from_wire(reply, time.monotonic_ns())
        except (KeyError, TypeError, ValueError) as exc:
            raise self._malformed(f"a deep capture ({exc})") from None

    def end_values(self) -> None:
        """End the timertui there that answers capture_values (the app's `v` went off): no
        process of ours idles there until the connection closes."""
        self.connection.request("deep-end")

    def host_facts(self, probe: bool = True) -> tuple[HostFacts, CaptureTimes]:
        reply = self.connection.request("host", probe=probe)
        try:
            host, times = reply["host"], reply["times"]
            return HostFacts(**host), CaptureTimes(**times)
        except (KeyError, TypeError) as exc:
            raise self._malformed(f"host facts ({exc})") from None

    def capture_times(self) -> CaptureTimes:
        try:
            return CaptureTimes(**self.connection.request("times"))
        except TypeError as exc:
            raise self._malformed(f"capture times ({exc})") from None

    def probes(self) -> RemoteProbes:
        """What `timertui check` asks, answered there (one request)."""
        answers = self.connection.request("probe")
        if not isinstance(answers, dict):
            raise self._malformed("the probes")
        return RemoteProbes(answers, self._malformed)

    def snapshot(self, pids: Iterable[int]) -> Snapshot:
        """The processes read there now, with the host's facts, recording where it came from."""
        procs = tuple(self.read_process(pid) for pid in dict.fromkeys(pids))
        host, times = self.host_facts()
        return Snapshot(host=host, times=times, processes=procs, source=self.source)

    # -- rows ------------------------------------------------------------------------------

    def _list(self, value: Any) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self._malformed("a process list")
        return value

    def _malformed(self, what: str) -> RemoteError:
        return RemoteError(f"{self.label}: the agent's reply is malformed: {what}")

    def _process(self, row: Any) -> ProcessTimers:
        f = row_fields
        if not (
            isinstance(row, list)
            and len(row) > f.TIMERFDS
            and all(isinstance(v, t) for v, t in zip(row, _ROW_TYPES, strict=False))
            and isinstance(row[f.TIMERFDS], list)
            and row[f.ACCESS] in _ACCESS
            and all(isinstance(a, str) for a in row[f.CMDLINE])
            and _ints(row[f.TIDS], len(row[f.TIDS]))
        ):
            raise self._malformed(f"a process row {str(row)[:80]}")
        pid, access, text = row[f.PID], _ACCESS[row[f.ACCESS]], row[f.TIMERS]
        timers: tuple[Timer, ...] = ()
        if access is Access.OK and text:
            timers = self._timers(pid, text, row[f.WHOLE])
        cgroup = row[f.CGROUP]
        container = self._containers.of_cgroup(cgroup) if isinstance(cgroup, bytes) else None
        ns_pid = row[f.NSPID] if container is not None else None
        timerfds, problems = self._timerfds(row[f.TIMERFDS])
        return ProcessTimers(
            pid,
            row[f.PPID],
            row[f.COMM],
            tuple(row[f.CMDLINE]),
            row[f.UID],
            row[f.USER],
            str(_STATUS.get(row[f.STATE]) or row[f.STATE]),
            tuple(row[f.TIDS]),
            timers,
            access,
            None,
            container,
            ns_pid if isinstance(ns_pid, int) and ns_pid != pid else None,
            timerfds,
            None,
            problems,
        )

    def _timerfds(self, entries: list[Any]) -> tuple[tuple[TimerFd, ...], tuple[str, ...]]:
        """The timerfds (and the problems) of the agent's fdinfo entries, decoded as this
        host's are; an absolute one's deadline on the clock there."""
        found: list[TimerFd] = []
        problems: list[str] = []
        for entry in entries:
            if not (
                isinstance(entry, list)
                and len(entry) == 3
                and type(entry[0]) is int
                and isinstance(entry[1], bytes)
                and (entry[2] is None or type(entry[2]) is int)
            ):
                raise self._malformed(f"a timerfd {str(entry)[:80]}")
            fd, data, now = entry
            got = decode_fdinfo(data, fd)
            if isinstance(got, str):
                problems.append(got)
            elif got is not None and got.absolute:  # its deadline by the clock there
                t = got
                deadline = 0 if now is None else now + t.remaining_ns
                fields = (t.fd, t.clock, t.ticks, t.settime_flags, t.remaining_ns, t.interval_ns)
                found.append(TimerFd(*fields, t.flags, deadline))
            elif got is not None:
                found.append(got)
        return tuple(found), tuple(problems)

    def _timers(self, pid: int, text: bytes, whole: bool) -> tuple[Timer, ...]:
        """The listing parsed, sorted by ID; a long one the same as at the last poll is not
        parsed again (10,000 timers take ~100 ms), as the local sweep keeps it."""
        cached = self._long.get(pid)
        if cached is not None and cached[0] == text:
            return cached[1]
        listed = parse_timers(
            text.decode("latin-1"), f"{self.label}:/proc/{pid}/timers", skip_repeats=not whole
        )
        timers = tuple(sorted(listed, key=lambda t: t.id))
        if len(text) > _LONG_TEXT:
            self._long.pop(pid, None)
            self._long[pid] = (text, timers)
            while len(self._long) > _KEEP_LONG:
                del self._long[next(iter(self._long))]
        return timers


class _RemoteFiles:
    """capture.containers.Files on the remote host: its runtimes' state, read there."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def listdir(self, path: str) -> list[str]:
        names = self.connection.request("file", how="listdir", path=path)
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def stamp(self, path: str) -> tuple[int, int] | None:
        got = self.connection.request("file", how="stamp", path=path)
        return (got[0], got[1]) if _ints(got, 2) else None

    def read(self, path: str, limit: int) -> bytes | None:
        data = self.connection.request("file", how="read", path=path, limit=limit)
        return data if isinstance(data, bytes) else None


def _ints(value: Any, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(type(v) is int for v in value)


def _replace_sigpending(proc: ProcessTimers, limits: tuple[int, int]) -> ProcessTimers:
    import dataclasses

    return dataclasses.replace(proc, sigpending=limits)


class RemoteProbes:
    """host_checks.Probes from another host's answers (agent/probes.py): the check functions
    word them as they word this host's."""

    def __init__(self, answers: dict[str, Any], malformed: Callable[[str], RemoteError]) -> None:
        self._answers = answers
        self._malformed = malformed

    def _result(self, name: str) -> ProbeResult:
        value = self._answers.get(name)
        if not (
            isinstance(value, list)
            and len(value) == 3
            and isinstance(value[0], bool)
            and type(value[1]) is int
            and isinstance(value[2], str)
        ):
            raise self._malformed(f"probe {name}")
        ok, err, text = value
        return ProbeResult(ok, err, f"{text}{errno_text(err)}" if err else text)

    def _number(self, name: str) -> int | None:
        value = self._answers.get(name)
        if value is not None and type(value) is not int:
            raise self._malformed(f"probe {name}")
        return value

    def probe_proc_timers(self) -> ProbeResult:
        return self._result("probe_proc_timers")

    def probe_exact_ids(self) -> ProbeResult:
        return self._result("probe_exact_ids")

    def probe_ptrace(self) -> ProbeResult:
        return self._result("probe_ptrace")

    def probe_alarm_timers(self) -> ProbeResult:
        return self._result("probe_alarm_timers")

    def ptrace_scope(self) -> int | None:
        return self._number("ptrace_scope")

    def sigpending_in_use(self) -> int | None:
        return self._number("sigpending_in_use")

    def sigpending_limits(self) -> tuple[int, int]:
        value: Any = self._answers.get("sigpending_limits")
        if not _ints(value, 2):
            raise self._malformed("probe sigpending_limits")
        return value[0], value[1]
