from __future__ import annotations

import json
import os
import pickle
import pwd
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
import pytest

from timertui import _native, demo, snapshot_file
from timertui.capture import host, proc_timers
from timertui.capture.proc_timers import parse_timers
from timertui.capture.processes import NoSuchProcess, read_process, scan
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import (
    INT_MAX,
    SIGEV_NONE,
    SIGEV_SIGNAL,
    SIGEV_THREAD,
    SIGEV_THREAD_ID,
    Access,
    ProcessTimers,
    Snapshot,
    Timer,
)

NOBODY = 65534
COMM = "z) (oo x)"  # spaces and parentheses: stat parsing must use the last ')'

# (id, clock, notify, signo, sigval, target); clock "cpu-pid"/"cpu-tid" and target "tid" are
# resolved in the child, which knows its pid and its second thread's tid. Created in this order.
ZOO: list[tuple[int, int | str, int, int, int, str]] = [
    (7, 0, SIGEV_SIGNAL, 10, 1, "pid"),  # REALTIME, SIGUSR1
    (3, 7, SIGEV_SIGNAL, 36, 0xDEADBEEFCAFEF00D, "pid"),  # BOOTTIME
    (1000, 1, SIGEV_SIGNAL, 64, 2**64 - 1, "pid"),  # MONOTONIC, SIGRTMAX
    (42, 2, SIGEV_SIGNAL, 12, 0x42, "pid"),  # PROCESS_CPUTIME_ID
    (43, 3, SIGEV_NONE, 0, 0, "pid"),  # THREAD_CPUTIME_ID
    (5, "cpu-pid", SIGEV_SIGNAL, 14, 5, "pid"),
    (6, "cpu-tid", SIGEV_NONE, 0, 0, "pid"),
    (0, 1, SIGEV_NONE, 0, 0, "pid"),
    (INT_MAX, 1, SIGEV_SIGNAL | SIGEV_THREAD_ID, 34, 0x7FFFFFFF, "tid"),
    (100, 0, SIGEV_THREAD, 15, 123, "pid"),  # raw SIGEV_THREAD, as the kernel sees it
    (11, 11, SIGEV_SIGNAL, 10, 0, "pid"),  # TAI
]

CHILD = """
import json, os, sys, threading
from timertui import _native, demo, snapshot_file
from timertui.capture import host
from timertui.clocks import CpuClockType, make_cpu_clock

started, stop = threading.Event(), threading.Event()
tids = []
def worker():
    tids.append(threading.get_native_id())
    started.set()
    stop.wait()
threading.Thread(target=worker, daemon=True).start()
started.wait()
pid, tid = os.getpid(), tids[0]
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
clocks = {
    "cpu-pid": make_cpu_clock(pid, CpuClockType.PROF),
    "cpu-tid": make_cpu_clock(tid, CpuClockType.SCHED, per_thread=True),
}
_native.restore_ids(_native.RESTORE_IDS_ON)
for want, clock, notify, signo, sigval, target in json.loads(sys.argv[2]):
    got = _native.timer_create(
        clocks.get(clock, clock), notify, signo, sigval, tid if target == "tid" else 0, want
    )
    assert got == want, (got, want)
print(json.dumps({"pid": pid, "tid": tid}), flush=True)
sys.stdin.read()
"""


@dataclass(frozen=True)
class Zoo:
    pid: int
    tid: int
    argv: tuple[str, ...]
    proc: subprocess.Popen[str]

    def expected(self) -> list[Timer]:
        """The timers as the kernel shows them, in creation order."""
        shown = {
            "cpu-pid": make_cpu_clock(self.pid, CpuClockType.PROF),
            "cpu-tid": make_cpu_clock(self.tid, CpuClockType.SCHED, per_thread=True),
            2: -6,  # CLOCK_PROCESS_CPUTIME_ID is stored as the CPU clock of "self"
            3: -2,  # CLOCK_THREAD_CPUTIME_ID likewise
        }
        return [
            Timer(
                want,
                int(shown.get(clock, clock)),
                notify,
                self.tid if target == "tid" else self.pid,
                signo,
                sigval,
            )
            for want, clock, notify, signo, sigval, target in ZOO
        ]


def start_zoo() -> Zoo:
    argv = (sys.executable, "-c", CHILD, COMM, json.dumps(ZOO))
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        pytest.fail(f"zoo child failed to start (exit {proc.returncode})")
    ids = json.loads(line)
    return Zoo(ids["pid"], ids["tid"], argv, proc)


def end(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.communicate()


@pytest.fixture(scope="module")
def zoo_process() -> Iterator[Zoo]:
    zoo = start_zoo()
    yield zoo
    end(zoo.proc)


@pytest.fixture
def zoo(needs_exact_ids: None, zoo_process: Zoo) -> Zoo:
    return zoo_process


def naive_parse(raw: str) -> list[Timer]:
    """A parser written differently from the library's: eleven words per timer."""
    words = raw.replace("/", " ").replace(".", " ").split()
    timers = []
    for i in range(0, len(words), 11):
        (_, tid, _, signo, sigval, _, mode, who, target, _, clock) = words[i : i + 11]
        base = {"signal": SIGEV_SIGNAL, "none": SIGEV_NONE, "thread": SIGEV_THREAD}[mode]
        notify = base | (SIGEV_THREAD_ID if who == "tid" else 0)
        timers.append(Timer(int(tid), int(clock), notify, int(target), int(signo), int(sigval, 16)))
    return sorted(timers, key=lambda t: t.id)


def test_read_process_matches_what_the_child_created(zoo: Zoo) -> None:
    rec = read_process(zoo.pid)
    assert rec.access is Access.OK
    assert rec.timers == tuple(sorted(zoo.expected(), key=lambda t: t.id))
    assert next(t for t in rec.timers if t.id == 42).clock == -6
    assert (rec.pid, rec.ppid, rec.comm, rec.cmdline) == (zoo.pid, os.getpid(), COMM, zoo.argv)
    assert rec.tids == tuple(sorted((zoo.pid, zoo.tid)))
    assert (rec.uid, rec.user) == (os.geteuid(), pwd.getpwuid(os.geteuid()).pw_name)
    # Its timers wake it now and then: either state is a live, unstopped process.
    assert rec.status in ("sleeping", "running")
    assert rec.sigpending == resource.getrlimit(resource.RLIMIT_SIGPENDING)


def test_read_process_agrees_with_a_naive_parse_of_the_raw_file(zoo: Zoo) -> None:
    raw = Path(f"/proc/{zoo.pid}/timers").read_text()
    assert list(read_process(zoo.pid).timers) == naive_parse(raw)
    # parse_timers keeps the kernel's order: newest first.
    assert [t.id for t in parse_timers(raw)] == [entry[0] for entry in reversed(ZOO)]


def test_scan_finds_the_child_and_only_processes_with_timers(zoo: Zoo) -> None:
    found = {p.pid: p for p in scan()}
    assert found[zoo.pid] == replace(read_process(zoo.pid), sigpending=None)
    assert all(p.timers and p.access is Access.OK for p in found.values())
    pids = list(found)
    assert pids == sorted(pids)


def test_scan_all_includes_pid_1_and_processes_without_timers(zoo: Zoo) -> None:
    every = {p.pid: p for p in scan(include_all=True)}
    assert 1 in every
    assert every[1].ppid == 0 and every[1].comm
    assert every[zoo.pid].timers == read_process(zoo.pid).timers
    assert any(not p.timers and p.access is Access.OK for p in every.values())
    # Kernel threads have no command line; they show as [comm].
    kthreads = [p for p in every.values() if p.ppid == 2]
    assert all(p.cmdline == () and p.command == f"[{p.comm}]" for p in kthreads)


def test_thread_id_and_missing_pid_are_no_such_process(zoo: Zoo) -> None:
    with pytest.raises(NoSuchProcess, match=rf"^no such process: {zoo.tid} \(it is a thread of"):
        read_process(zoo.tid)
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    with pytest.raises(NoSuchProcess, match=rf"^no such process: {pid_max}$"):
        read_process(pid_max)


def _reaped_pid() -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_process_gone_between_listing_and_reading_is_left_out(
    zoo: Zoo, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = _reaped_pid()
    monkeypatch.setattr(psutil, "pids", lambda: [gone, zoo.pid])
    assert [p.pid for p in scan()] == [zoo.pid]
    assert [p.pid for p in scan(include_all=True, include_unreadable=True)] == [zoo.pid]


def test_unreaped_child_is_a_zombie_not_gone() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os._exit(0)
    try:
        while Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
            os.sched_yield()
        rec = read_process(pid)
    finally:
        os.waitpid(pid, 0)
    assert (rec.access, rec.status, rec.cmdline, rec.ppid) == (Access.OK, "zombie", (), os.getpid())


def test_process_that_exits_during_read_process_is_gone(
    needs_exact_ids: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = start_zoo()
    real_read = proc_timers.read_timers

    def exit_first(pid: int) -> proc_timers.TimersReading:
        end(victim.proc)  # killed and reaped after read_process saw it, before the timers
        return real_read(pid)

    monkeypatch.setattr(proc_timers, "read_timers", exit_first)
    rec = read_process(victim.pid)
    assert (rec.pid, rec.access, rec.timers) == (victim.pid, Access.GONE, ())


def in_child_as(uid: int, action: Callable[[], Any]) -> Any:
    """Run `action` in a forked child that dropped to `uid`; its pickled result comes back."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        code = 0
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            data = pickle.dumps(action())
            with os.fdopen(w, "wb") as out:
                out.write(data)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as src:
        data = src.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "child running as another user failed"
    return pickle.loads(data)


def test_other_users_process_is_no_access(zoo: Zoo) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run the scanner as another user")

    def look() -> tuple[ProcessTimers, list[int], list[ProcessTimers]]:
        mine = [p.pid for p in scan()]
        marked = [p for p in scan(include_unreadable=True) if p.pid == zoo.pid]
        return read_process(zoo.pid), mine, marked

    rec, default_pids, marked = in_child_as(NOBODY, look)
    assert (rec.access, rec.timers) == (Access.NO_ACCESS, ())
    # What /proc shows everyone is still on the record.
    assert (rec.comm, rec.ppid, rec.cmdline, rec.uid) == (COMM, os.getpid(), zoo.argv, 0)
    assert zoo.pid not in default_pids
    assert [(p.pid, p.access) for p in marked] == [(zoo.pid, Access.NO_ACCESS)]


def test_root_reads_another_users_timers(needs_proc_timers: None) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process of another user")
    hold_r, hold_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(hold_w)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            _native.timer_create(1, SIGEV_SIGNAL, 10, 99)
            os.write(ready_w, b"r")
            os.read(hold_r, 1)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(hold_r)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 1) == b"r", "child of another user did not start"
        rec = read_process(pid)
    finally:
        os.close(hold_w)
        os.close(ready_r)
        os.waitpid(pid, 0)
    assert rec.access is Access.OK
    assert (rec.uid, rec.user) == (NOBODY, pwd.getpwuid(NOBODY).pw_name)
    assert [(t.clock, t.notify, t.target, t.signo, t.sigval) for t in rec.timers] == [
        (1, SIGEV_SIGNAL, pid, 10, 99)
    ]


# States this kernel cannot show (no timers file) and odd stat lines, on a made-up /proc.

STAT_REST = "S 1 4242 4242 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 {threads} 0 1 0 0 0"


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(proc_timers, "PROC_ROOT", str(tmp_path))
    monkeypatch.setattr(psutil, "pids", lambda: [4242, 4243])
    for pid, comm, flags, threads in ((4242, "a) (b", 0, 3), (4243, "kw) x", 0x00200000, 1)):
        d = tmp_path / str(pid)
        (d / "task").mkdir(parents=True)
        for tid in (pid, pid + 10, pid + 5)[:threads]:
            (d / "task" / str(tid)).mkdir()
        (d / "stat").write_text(f"{pid} ({comm}) " + STAT_REST.format(flags=flags, threads=threads))
        (d / "status").write_text(f"Name:\tx\nTgid:\t{pid}\n")
        (d / "cmdline").write_bytes(b"prog\0--arg\0two words\0\xff\0")
    return tmp_path


def test_missing_timers_file_is_a_state(fake_proc: Path) -> None:
    assert scan() == []
    marked = scan(include_unreadable=True)
    assert [(p.pid, p.access) for p in marked] == [
        (4242, Access.NO_TIMERS_FILE),
        (4243, Access.NO_TIMERS_FILE),
    ]
    user, kernel = marked
    assert (user.comm, user.status, user.ppid) == ("a) (b", "sleeping", 1)
    assert user.cmdline == ("prog", "--arg", "two words", "\\xff")
    assert user.tids == (4242, 4247, 4252)
    assert (kernel.comm, kernel.cmdline, kernel.tids) == ("kw) x", (), (4243,))
    assert read_process(4242) == replace(user, sigpending=None)
    assert scan(include_all=True) == marked


# -- read_timers on the real /proc, and a live process through a snapshot ------------------------


def test_read_own_process_is_ok(needs_proc_timers: None) -> None:
    reading = proc_timers.read_timers(os.getpid())
    assert reading.access is Access.OK
    assert [t.id for t in reading.timers] == sorted(t.id for t in reading.timers)


def test_reaped_process_is_gone(needs_proc_timers: None) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os._exit(0)
    os.waitpid(pid, 0)
    assert proc_timers.read_timers(pid).access is Access.GONE


def test_live_process_round_trips_and_validates(needs_proc_timers: None) -> None:
    """The demo workload's zoo (CPU clocks, thread targets, every notify mode), read from the
    real kernel, saves, loads back equal, and validates without a problem."""
    proc = demo.spawn_workload((0, 5, 40), zoo=True)
    try:
        pid = demo.read_ready_pid(proc)
        live = read_process(pid)
    finally:
        demo.stop_workload(proc)
    assert len(live.timers) >= 3 and len({t.notify for t in live.timers}) >= 2
    snap = Snapshot(host.host_facts(probe=False), host.capture_times(), (live,))
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap
    assert snapshot_file.validate(snap) == []
