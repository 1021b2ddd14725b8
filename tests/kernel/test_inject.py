"""Deep capture against the real kernel.

The target (tests/kernel/inject_target.c, built here with gcc) holds four timers, reports its own
timer_gettime on request, and while it is captured waits in nanosleep, pause, read, epoll_wait or
a busy loop (also one inside an rseq critical section), checking that each wait ends as it should
(no EINTR, no early wake-up, nanosleep returning 0, the rseq section aborted) and that its
registers and the 4 KiB of stack below them come back unchanged. Its
second thread counts a timer's signals (every 10 ms, or faster) while it sleeps in the same
checked nanosleep, on an alternate signal stack, and dies if a sleep ends without its signal.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from timertui.capture import inject
from timertui.capture.inject import CaptureRefused, DeepCapture, attach_values, capture_values
from timertui.capture.processes import read_process
from timertui.demo import read_line
from timertui.model import TimerValues

SOURCE = Path(__file__).with_name("inject_target.c")
MS = 1_000_000
CAPTURES = 1000
TICK_NS = 10 * MS
EPOLL = ("232", "281")  # epoll_wait, epoll_pwait
# The target's own view: timer ID -> (remaining, interval, overrun, its CLOCK_MONOTONIC then).
Own = dict[int, tuple[int, int, int, int]]


def _compile(out: Path, *flags: str, source: Path = SOURCE) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not found: the capture targets are C programs")
    subprocess.run([gcc, "-O2", *flags, "-o", str(out), str(source)], check=True)


@pytest.fixture(scope="module")
def target_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inject") / "inject_target"
    _compile(out, "-pthread")
    return out


def _states(pid: int) -> str:
    """The stat state letter of every thread of `pid`, in thread ID order."""
    letters = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda p: int(p.name)):
        stat = (task / "stat").read_text()
        letters.append(stat[stat.rindex(")") + 2])
    return "".join(letters)


class Target:
    def __init__(self, binary: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(binary), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        ready = self.line().split()
        assert ready[0] == "ready", ready
        self.pid, self.sig_tid = int(ready[1]), int(ready[2])

    def line(self) -> str:
        text = read_line(self.proc, 10.0)
        assert text is not None, f"target {self.proc.pid} ended: {self.proc.wait()}"
        return text

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def ask(self, command: str) -> str:
        self.send(command)
        return self.line()

    def own_values(self) -> Own:
        self.send("get")
        own: Own = {}
        while (line := self.line()) != "end":
            _, tid, value, interval, overrun, at = line.split()
            own[int(tid)] = (int(value), int(interval), int(overrun), int(at))
        return own

    def ticks_on_schedule(self) -> None:
        """The second thread's signals (with their overruns) kept time, and its own checked
        nanosleep loop saw no fault. A thread kept off the CPU by other load owes the ticks of
        its pending signal for a while: it must catch up, never run ahead."""

        def stats() -> tuple[int, int, str]:
            _, ticks, elapsed, period, sleeps = self.ask("stats").split()
            return int(ticks), int(elapsed) // int(period), sleeps

        ticks, due, sleeps = stats()
        first_due = due
        for _ in range(100):
            assert ticks <= due + 3 and sleeps == "ok", (ticks, due, sleeps)
            if ticks >= first_due - 3:
                return
            time.sleep(0.01)
            ticks, due, sleeps = stats()
        raise AssertionError(f"signals lost: {ticks} ticks, {first_due} due")

    def assert_running(self) -> None:
        assert self.proc.poll() is None, f"target died: {self.proc.returncode}"
        assert not set(_states(self.pid)) & set("tT"), _states(self.pid)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


Spawn = Callable[..., Target]


@pytest.fixture
def spawn(target_bin: Path, needs_ptrace: None) -> Iterator[Spawn]:
    """Start targets (with the target's flags); each is killed after the test."""
    started: list[Target] = []

    def start(*args: str) -> Target:
        started.append(Target(target_bin, *args))
        return started[-1]

    yield start
    for t in started:
        t.close()


def _assert_ok(cap: DeepCapture) -> None:
    assert cap.refused is None, cap.reason
    assert sorted(cap.values) == [0, 1, 2, 3] and not cap.errors


def test_values_equal_the_targets_own_reading(spawn: Spawn) -> None:
    t = spawn()
    cap = capture_values(t.pid)
    own = t.own_values()
    _assert_ok(cap)
    assert cap.tid == t.pid and cap.note == "" and cap.stopped_ns > 0 and cap.stops == 1
    for timer_id, (value, interval, _, at) in own.items():
        got = cap.values[timer_id]
        assert got.interval_ns == interval
        if interval >= 1_000 * MS or interval == 0:
            # What the target saw, moved back to when we read it.
            assert abs(value + (at - cap.read_ns[timer_id]) - got.remaining_ns) < 5 * MS
        else:  # 1 ms and 10 ms periods: anywhere in the period
            assert 0 <= got.remaining_ns <= interval
    assert own[0][0] > 29_000 * MS  # MONOTONIC, 30 s away
    assert own[1][2] > 10  # the blocked 1 ms timer holds an overrun ...
    assert [cap.values[i].overrun for i in (0, 1, 2)] == [own[i][2] for i in (0, 1, 2)]  # ... equal
    assert cap.values[2] == TimerValues(0, 0, 0)  # disarmed
    t.assert_running()


def test_many_timers_are_read_over_several_short_stops(
    spawn: Spawn, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = spawn()
    monkeypatch.setattr(inject, "CHUNK", 3)
    cap = capture_values(t.pid)
    _assert_ok(cap)
    assert cap.stops == 2 and cap.values[0].interval_ns == 2_500 * MS
    assert cap.values[3].interval_ns == TICK_NS  # read in the second stop
    t.assert_running()


def test_a_timer_that_is_gone_is_an_error_not_a_refusal(spawn: Spawn) -> None:
    t = spawn()
    cap = capture_values(t.pid, [0, 77])
    assert cap.refused is None
    assert set(cap.values) == {0} and cap.errors == {77: errno.EINVAL}
    t.assert_running()


@pytest.mark.parametrize(
    ("wait", "ack", "end", "idle"),
    [
        # raw nanosleep: returns 0, never early, registers kept; traced from the target's own
        # CPU (as on an idle machine) and from another (as on a busy one), whatever the load
        ("sleep", "sleeping", "stop", True),
        ("sleep", "sleeping", "stop", False),
        # busy loop: every register and the stack below kept; both ways too
        ("spin", "spinning", "stop", True),
        ("spin", "spinning", "stop", False),
        # busy loop inside an rseq critical section: aborted as after any preemption, never
        # resumed inside with the section gone or on another CPU
        ("rseq", "rseq-spinning", "stop", True),
        ("rseq", "rseq-spinning", "stop", False),
        ("read", "reading", "stop", None),  # blocking read: no EINTR, gets exactly the line
        ("pause", "pausing", None, None),  # pause: returns only for the SIGUSR1 sent after
    ],
)
def test_a_thousand_captures_leave_the_wait_undisturbed(
    spawn: Spawn,
    monkeypatch: pytest.MonkeyPatch,
    wait: str,
    ack: str,
    end: str | None,
    idle: bool | None,
) -> None:
    if idle is not None:
        monkeypatch.setattr(inject, "_machine_idle", lambda running: idle)
    t = spawn()
    assert t.ask(wait) == ack
    for _ in range(CAPTURES if wait != "rseq" else CAPTURES // 4):
        cap = capture_values(t.pid, tid=t.pid)
        _assert_ok(cap)
        assert cap.values[0].interval_ns == 2_500 * MS and cap.stopped_ns > 0
    t.assert_running()
    if end is None:
        os.kill(t.pid, signal.SIGUSR1)
    else:
        t.send(end)
    report = t.line().split()
    assert report[0] == wait and report[-1] == "ok", report
    if wait in ("sleep", "spin", "rseq"):
        assert int(report[1]) > 0  # the check ran at least once during the captures
    t.ticks_on_schedule()
    t.assert_running()


def test_second_thread_taking_its_timer_signals(spawn: Spawn) -> None:
    t = spawn()
    for _ in range(300):
        cap = capture_values(t.pid, tid=t.sig_tid)
        _assert_ok(cap)
        assert cap.tid == t.sig_tid
    t.assert_running()  # its pause() loop never woke without a tick
    t.ticks_on_schedule()
    own = t.own_values()
    assert cap.values[3].interval_ns == own[3][1] == TICK_NS


def _in_epoll_wait(t: Target) -> None:
    """Wait until the main thread blocks in epoll_wait (it says "waiting" just before)."""
    while Path(f"/proc/{t.pid}/task/{t.pid}/syscall").read_text().split()[0] not in EPOLL:
        os.sched_yield()


def test_signals_arriving_mid_capture_go_to_the_thread_as_if_we_were_not_there(
    spawn: Spawn,
) -> None:
    # Its SIGALRM every 200 us lands inside most captures: each one must reach the thread with
    # the thread's own registers and stack, and the interrupt must be asked for again after it.
    t = spawn("--tick-us", "200")
    code = (
        "import sys\n"
        "from timertui.capture.inject import capture_values\n"
        "caps = [capture_values(int(sys.argv[1]), tid=int(sys.argv[2])) for _ in range(2000)]\n"
        "print(sum(c.refused is None for c in caps), sum(c.signals > 0 for c in caps))\n"
    )
    # A lost interrupt request would hang the capturer: it runs apart, under a timeout.
    out = subprocess.run(
        [sys.executable, "-c", code, str(t.pid), str(t.sig_tid)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    ok, with_signals = map(int, out.stdout.split())
    assert ok == 2000 and with_signals > 100
    t.assert_running()
    t.ticks_on_schedule()


def test_a_thread_in_epoll_wait_is_passed_over(spawn: Spawn) -> None:
    t = spawn()
    assert t.ask("epoll") == "waiting"
    _in_epoll_wait(t)
    cap = capture_values(t.pid)
    _assert_ok(cap)
    assert cap.tid == t.sig_tid and cap.note == ""
    assert t.ask("wake") == "epoll ok 0"  # woken by the line, not by an EINTR
    t.assert_running()


def test_the_only_thread_in_epoll_wait_is_noted(spawn: Spawn) -> None:
    t = spawn("--single")
    assert t.ask("epoll") == "waiting"
    _in_epoll_wait(t)
    cap = capture_values(t.pid)
    _assert_ok_single(cap)
    assert cap.tid == t.pid and "epoll_wait" in cap.note and "EINTR" in cap.note
    assert t.line() == f"epoll eintr {errno.EINTR}"  # what the note warned of
    t.assert_running()


def _assert_ok_single(cap: DeepCapture) -> None:
    assert cap.refused is None, cap.reason
    assert sorted(cap.values) == [0, 1, 2]


def _refused(t: Target, why: CaptureRefused) -> DeepCapture:
    cap = capture_values(t.pid)
    assert cap.refused is why, cap
    assert cap.values == {} and cap.reason is not None and why.value in cap.reason
    return cap


def test_seccomp_filtered_target_is_refused_unless_allowed(spawn: Spawn) -> None:
    t = spawn("--single", "--seccomp")  # its filter kills it on timer_gettime
    _refused(t, CaptureRefused.SECCOMP)
    t.assert_running()
    cap = capture_values(t.pid, allow_seccomp=True)
    if cap.refused is CaptureRefused.PERMISSION:
        pytest.skip(f"suspending seccomp needs CAP_SYS_ADMIN: {cap.reason}")
    _assert_ok_single(cap)
    assert cap.values[0].interval_ns == 2_500 * MS
    t.assert_running()  # the injected timer_gettime never met the filter


def test_syscall_user_dispatch_allows_only_its_own_range(spawn: Spawn) -> None:
    t = spawn("--sud")  # the main thread may make syscalls from libc's code only
    while Path(f"/proc/{t.pid}/task/{t.pid}/syscall").read_text().split()[0] != "0":
        os.sched_yield()  # until it blocks in read(), inside libc
    _assert_ok(capture_values(t.pid, tid=t.pid))  # its own syscall instruction is allowed
    assert t.ask("spin") == "spinning"
    for _ in range(20):  # running user code, only the vDSO's instruction is at hand
        cap = capture_values(t.pid, tid=t.pid)
        assert cap.refused is CaptureRefused.SYSCALL_DISPATCH, cap
    t.send("stop")
    assert t.line().split()[-1] == "ok"  # no SIGSYS reached it, registers and stack kept
    t.assert_running()


def test_non_dumpable_target_is_refused(spawn: Spawn) -> None:
    t = spawn("--single", "--nondumpable")
    cap = _refused(t, CaptureRefused.NON_DUMPABLE)
    # A root target is asked inside the window (its /proc files say nothing); others before.
    assert "PR_GET_DUMPABLE is 0" in cap.detail or "root" in cap.detail
    t.assert_running()
    assert t.ask("stats").startswith("stats")


def test_already_traced_target_is_refused(spawn: Spawn) -> None:
    t = spawn("--single", "--traced")
    tracer = int(Path(f"/proc/{t.pid}/status").read_text().split("TracerPid:")[1].split()[0])
    cap = _refused(t, CaptureRefused.TRACED)
    assert f"PID {tracer}" in cap.detail
    t.assert_running()


def test_other_users_target_is_refused(spawn: Spawn) -> None:
    if os.geteuid() != 0:
        pytest.skip("starting a target as uid 65534 needs root")
    t = spawn("--single", "--setuid", "65534")
    cap = _refused(t, CaptureRefused.OTHER_USER)
    assert "65534" in cap.detail
    t.assert_running()


def test_stopped_target_is_left_stopped(spawn: Spawn) -> None:
    t = spawn("--single")
    os.kill(t.pid, signal.SIGSTOP)
    try:
        for _ in range(100):  # wait for the stop to take
            if _states(t.pid) == "T":
                break
            os.sched_yield()
        _refused(t, CaptureRefused.STOPPED)
        assert _states(t.pid) == "T"
    finally:
        os.kill(t.pid, signal.SIGCONT)
    assert t.ask("stats").startswith("stats")


def test_32_bit_target_is_refused_and_left_running(tmp_path: Path, needs_ptrace: None) -> None:
    source = tmp_path / "t32.c"
    source.write_text(
        'void _start(void) { for (;;) __asm__ volatile("int $0x80" :: "a"(29)); }\n'
    )  # i386 pause() forever, no libc
    binary = tmp_path / "t32"
    try:
        _compile(binary, "-m32", "-nostdlib", "-static", "-ffreestanding", source=source)
        proc = subprocess.Popen([str(binary)])
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"no 32-bit build or IA32 emulation here: {exc}")
    try:
        while _states(proc.pid) != "S":
            os.sched_yield()
        assert capture_values(proc.pid, [0]).refused is CaptureRefused.NOT_64BIT  # by its ELF
        # Past that check, the window itself sees the 32-bit code segment and lets go.
        thread = inject._pick_thread(proc.pid, None)
        assert isinstance(thread, inject._Thread)
        cap = inject._capture(proc.pid, thread, (0,), allow_seccomp=False)
        assert cap.refused is CaptureRefused.NOT_64BIT
        assert proc.poll() is None and _states(proc.pid) in ("R", "S")  # running, or back
        while _states(proc.pid) != "S":  # in its pause(), which restarted
            os.sched_yield()
    finally:
        proc.kill()
        proc.wait()


def test_a_process_whose_main_thread_exited_is_read_through_another(
    tmp_path: Path, needs_ptrace: None
) -> None:
    source = tmp_path / "leaderless.c"
    source.write_text(
        "#include <pthread.h>\n#include <signal.h>\n#include <time.h>\n#include <unistd.h>\n"
        "static void *idle(void *a) { for (;;) pause(); return a; }\n"
        "int main(void) {\n"
        "    timer_t t; struct sigevent ev = {.sigev_notify = SIGEV_NONE};\n"
        "    struct itimerspec its = {{1, 0}, {60, 0}}; pthread_t th;\n"
        "    timer_create(CLOCK_MONOTONIC, &ev, &t); timer_settime(t, 0, &its, 0);\n"
        "    pthread_create(&th, 0, idle, 0); pthread_exit(0);\n"
        "}\n"
    )
    binary = tmp_path / "leaderless"
    _compile(binary, "-pthread", source=source)
    proc = subprocess.Popen([str(binary)])
    try:
        while _states(proc.pid) != "ZS":  # the leader a zombie, its thread in pause()
            os.sched_yield()
        cap = capture_values(proc.pid)
        assert cap.refused is None and cap.tid != proc.pid, cap
        assert cap.values[0].interval_ns == 1_000 * MS
        assert cap.values[0].remaining_ns > 50_000 * MS
        assert _states(proc.pid) in ("ZS", "ZR")
    finally:
        proc.kill()
        proc.wait()


def test_own_gone_and_foreign_architecture_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert capture_values(os.getpid()).refused is CaptureRefused.OWN_PROCESS
    child = subprocess.Popen(["true"])
    child.wait()
    assert capture_values(child.pid).refused is CaptureRefused.GONE
    real = os.uname()
    fake = os.uname_result((*real[:4], "aarch64"))
    monkeypatch.setattr(os, "uname", lambda: fake)
    cap = capture_values(1)
    assert cap.refused is CaptureRefused.UNSUPPORTED_ARCH and "aarch64" in cap.detail


def test_the_window_refuses_a_thread_of_the_calling_process() -> None:
    """The tracer is a task of its own, which the kernel would let seize our own threads: the
    window itself refuses them (EPERM, as the kernel does for its own thread group)."""
    from timertui._native._inject import ffi, lib

    res = ffi.new("struct tti_result *")
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        for tid in (os.getpid(), other.native_id):
            assert lib.tti_capture(tid, 0, 0, -1, ffi.NULL, 0, res) == lib.TTI_SEIZE_FAILED
            assert res.err == errno.EPERM
            assert "TracerPid:\t0\n" in Path(f"/proc/self/task/{tid}/status").read_text()
    finally:
        done.set()
        other.join()


def test_bad_arguments_are_input_errors() -> None:
    with pytest.raises(inject.DeepCaptureError, match="bad PID"):
        capture_values(0)
    with pytest.raises(inject.DeepCaptureError, match="timer IDs"):
        capture_values(1, [-1])


def test_attach_values_fills_the_process_timers(spawn: Spawn) -> None:
    t = spawn()
    proc, reason = attach_values(read_process(t.pid))
    assert reason is None
    assert [timer.values is not None for timer in proc.timers] == [True] * 4
    assert {timer.id: timer.values.interval_ns for timer in proc.timers if timer.values} == {
        0: 2_500 * MS, 1: MS, 2: 0, 3: TICK_NS
    }  # fmt: skip
    sealed = spawn("--single", "--seccomp")
    before = read_process(sealed.pid)
    after, reason = attach_values(before)
    assert after == before and reason is not None and "seccomp" in reason
    t.assert_running()
    sealed.assert_running()
