"""The native backend: starts the restore worker as a child and streams its events.

The worker is a fresh process that becomes the restore target; the caller never touches its own
timers. Ways to start it:
- fork: the caller forks and the child runs the worker code it already has loaded — about a
  millisecond, what keeps `timertui restore` fast. Only from a single-threaded caller: a fork
  of a threaded Python process can inherit a lock another thread held.
- prestart, then fork: `prestart()` forks a worker before the plan exists (the command calls it
  first thing), which loads what the restore needs on the other core while the caller loads the
  snapshot and plans; the next fork-started run of a small plan sends it the plan over the
  control pipe instead of forking then.
- server: a worker forked by the worker server (server.py), a process the app starts once
  while it loads: a millisecond or two, thread-safe, for the TUI. Given as `server=`; a
  server that is gone falls back to spawn.
- spawn: a fresh interpreter (`python -I -S`, the package's paths given on the command line, so
  no site start-up), posix_spawn'ed with the two pipe ends as fds 3 and 4; thread-safe, ~170 ms.
The last three get the plan over the control pipe (handover.py).

The parent keeps the control pipe's write end open for the worker's whole life: the worker
leaves when it reads end of file there, so it never outlives its caller. Cancel and close kill
it with SIGKILL through a pidfd and reap it: no orphan, no zombie. (A server's worker is reaped
by the server, which then writes its wait status on the events pipe: frames.exit_word.)
"""

from __future__ import annotations

import _signal  # not signal: its enums cost ~0.7 ms of `timertui restore`'s start
import _thread
import atexit
import gc
import os
import sys
import time

from timertui.restore import events as ev
from timertui.restore.native.arrays import timer_arrays
from timertui.restore.native.frames import FrameReader
from timertui.restore.native.handover import (
    DIFFERING_ONLY_KEY,
    encode_plan,
    send_plan,
)
from timertui.restore.plan import RestorePlan, RunOptions, TargetFacts
from timertui.restore.stream import EventStream
from timertui.restore.wire import WireError, prepare_decoder

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    from timertui.restore.native.server import WorkerServer

_READ_SIZE = 1 << 16
# Plans up to this many timers go to a prestarted worker over the pipe (about 20 µs a timer,
# encoded and decoded); a bigger one is cheaper inherited by a fork.
PRESTART_MAX_TIMERS = 100
_FIRST_CHILD_FD = 3  # where spawn_python puts the fds it passes
_DRAIN_S = 5.0  # how long close() waits for a server's worker to be reaped
_TORN_WAIT_S = 0.5  # how long an unreadable frame waits for its worker's death to explain it


class RestoreRun(EventStream):
    """The events of one native restore, as a generator. The worker starts at the first
    `next()`. `cancel()` may be called from any thread: the worker is killed and the stream ends
    with an Error event `cancelled`. `close()` (or leaving a for loop early, or garbage
    collection) kills and reaps the worker too, and ends the stream without more events."""

    def __init__(
        self, plan: RestorePlan, options: RunOptions, server: WorkerServer | None = None
    ) -> None:
        self.plan = plan
        self.options = options
        self.server = server
        self.served = False  # the worker is the server's child: it reaps it, not us
        self.t0_ns = time.monotonic_ns()
        self.pid = 0
        self.exit_status: int | None = None
        self._lock = _thread.allocate_lock()  # threading.Lock, without loading threading
        self._pidfd = -1
        self._events_fd = -1
        self._ctrl_fd = -1
        self._frames = FrameReader()
        self._finished = False
        self._cancelled = False
        self._saw_end = False  # a Done (without hold) or an Error from the worker
        self._phase = "spawn"  # the phase running now, for error messages
        self._exact = False

    # -- EventStream ---------------------------------------------------------------------------

    def _next(self) -> ev.Event:
        if self._finished:
            raise StopIteration
        if not self.pid:
            self._start()
        while True:
            try:
                message: Any = next(self._frames)
            except StopIteration:
                data = os.read(self._events_fd, _READ_SIZE)
                if data:
                    self._frames.feed(data)
                    continue
                self._frames.end()
                if self.exit_status is None:
                    self.exit_status = self._frames.exit_status
                return self._ended()
            except WireError as exc:
                return self._unreadable(exc)
            return self._seen(message)

    def _halt(self) -> None:
        self._finished = True
        self._stop()

    def __del__(self) -> None:
        if self.pid and self.exit_status is None:
            self._stop()

    # -- control -----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Kill the worker (thread-safe); the iterating thread then gets Error `cancelled`."""
        with self._lock:
            self._cancelled = True
            if self._pidfd >= 0:
                _kill(self._pidfd)

    # -- internals ---------------------------------------------------------------------------

    def _seen(self, message: Any) -> ev.Event:
        try:
            event = ev.decode(message)
            if isinstance(event, ev.Verify) and message.get(DIFFERING_ONLY_KEY):
                event = ev.with_equal_ids(event, self.plan.ids)
        except WireError as exc:
            return self._unreadable(exc)
        if isinstance(event, ev.Phase) and event.name in ev.PHASES[:-1]:
            following = ev.PHASES[ev.PHASES.index(event.name) + 1 :]
            self._phase = next(p for p in following if p != "prctl-off" or self._exact)
        elif isinstance(event, ev.Probe):
            self._exact = event.exact_ids and self.options.mode != "walk"
        elif isinstance(event, ev.Done):
            self._phase = "hold" if event.holding else "done"
            self._saw_end = not event.holding
        elif isinstance(event, ev.Error):
            self._saw_end = True
        return event

    def _unreadable(self, exc: WireError) -> ev.Event:
        """A frame that is not one. A worker killed in the middle of a write tore its last
        frame (and a served worker's server wrote its word after the tear): how it ended is the
        news then. A live worker writing such frames is broken: it is killed."""
        import select

        if select.select([self._pidfd], [], [], _TORN_WAIT_S)[0]:
            return self._ended()
        self._finished = True
        self._stop()
        return ev.Error(self._now(), "worker-died", f"unreadable event from the worker: {exc}")

    def _ended(self) -> ev.Event:
        """End of the event stream: reap the worker and say how it ended if it was not normal."""
        self._finished = True
        self._stop(kill=False)
        status = self.exit_status or 0
        if self._cancelled:
            return ev.Error(
                self._now(),
                "cancelled",
                f"restore cancelled in the {self._phase} phase: worker {self.pid} killed",
            )
        if self._saw_end:
            raise StopIteration
        if self.exit_status is None:
            return ev.Error(
                self._now(),
                "worker-died",
                f"restore worker {self.pid} ended in the {self._phase} phase without reporting "
                "the end: its worker server is gone",
            )
        if os.WIFSIGNALED(status):
            import signal

            sig = os.WTERMSIG(status)
            return ev.Error(
                self._now(),
                "worker-killed",
                f"restore worker {self.pid} was killed by {signal.Signals(sig).name} in the "
                f"{self._phase} phase",
            )
        return ev.Error(
            self._now(),
            "worker-died",
            f"restore worker {self.pid} ended with status {os.waitstatus_to_exitcode(status)} "
            f"in the {self._phase} phase without reporting the end",
        )

    def _now(self) -> int:
        return time.monotonic_ns() - self.t0_ns

    def _start(self) -> None:
        forked = _use_fork(self.options)
        spare = _take_prestarted(self.plan) if forked else None
        if spare is not None:
            self.pid, self._ctrl_fd, self._events_fd = spare
        else:
            ctrl_r, ctrl_w = os.pipe2(os.O_CLOEXEC)
            ev_r, ev_w = os.pipe2(os.O_CLOEXEC)
            try:
                if forked:
                    plan, options, t0_ns = self.plan, self.options, self.t0_ns
                    # Before the fork: after it, a pass over the plan's objects copies their
                    # pages, in the worker and here alike (arrays.py). The worker's modules
                    # too: imported after a fork of a big heap they take ~2x as long.
                    arrays = timer_arrays(plan)
                    __import__("timertui.restore.native.worker")
                    self.pid = _fork_worker(
                        (ctrl_w, ev_r),
                        lambda worker: worker.serve(plan, arrays, options, t0_ns, ctrl_r, ev_w),
                    )
                else:
                    self._served_or_spawned(ctrl_r, ev_w)
            except BaseException:
                for fd in (ctrl_r, ctrl_w, ev_r, ev_w):
                    os.close(fd)
                raise
            os.close(ctrl_r)
            os.close(ev_w)
            self._ctrl_fd, self._events_fd = ctrl_w, ev_r
        if self._pidfd < 0:
            self._pidfd = os.pidfd_open(self.pid)
        if self._cancelled:
            _kill(self._pidfd)
        if not forked or spare is not None:
            send_plan(self._ctrl_fd, encoded(self.plan), self.options, self.t0_ns)
        # While the worker restores: the event decoders (typing.get_type_hints of each event
        # class, ~2 ms once a process), not when its last events come all at once.
        for cls in ev.EVENT_TYPES:
            prepare_decoder(cls)

    def _served_or_spawned(self, ctrl_r: int, ev_w: int) -> None:
        """A worker from the server if there is one alive, else a fresh interpreter."""
        if self.server is not None:
            from timertui.restore.native.server import ServerGone

            try:
                self.pid, self._pidfd = self.server.fork_worker(ctrl_r, ev_w)
            except ServerGone:
                pass
            else:
                self.served = True
                return
        self.pid = spawn_python("timertui.restore.native.worker", [ctrl_r, ev_w])

    def _stop(self, kill: bool = True) -> None:
        """Kill (unless the stream ended by itself) and reap the worker; close our fds."""
        with self._lock:
            if self._pidfd >= 0 and kill:
                _kill(self._pidfd)
            if self.served and self._events_fd >= 0:
                self._drain()
            elif self.pid and self.exit_status is None and not self.served:
                self.exit_status = os.waitpid(self.pid, 0)[1]
            for fd in (self._pidfd, self._events_fd, self._ctrl_fd):
                if fd >= 0:
                    os.close(fd)
            self._pidfd = self._events_fd = self._ctrl_fd = -1

    def _drain(self) -> None:
        """Read a server's worker's events to the end: its server writes its wait status there
        once it reaped it (none if the server is gone, or wedged past _DRAIN_S)."""
        import select

        deadline = time.monotonic() + _DRAIN_S
        torn = False  # past a torn frame only the end counts (FrameReader.end)
        while select.select([self._events_fd], [], [], max(0, deadline - time.monotonic()))[0]:
            data = os.read(self._events_fd, _READ_SIZE)
            if not data:
                self._frames.end()
                break
            self._frames.feed(data)
            if not torn:
                try:
                    for _ in self._frames:
                        pass
                except WireError:
                    torn = True
        self.exit_status = self._frames.exit_status


# Plans encoded ahead (prepare), by identity, the plan kept alive with its bytes; a few: the app
# prepares the plans of the screen it shows.
_encoded: dict[int, tuple[RestorePlan, bytes]] = {}
_ENCODED_KEPT = 4
_encoding = _thread.allocate_lock()


def prepare(plan: RestorePlan) -> None:
    """Encode `plan` for its worker now (any thread), so that its start does not."""
    encoded(plan)


def encoded(plan: RestorePlan) -> bytes:
    """`plan` as handover.send_plan takes it: made ahead by prepare(), or now."""
    with _encoding:
        made = _encoded.get(id(plan))
        if made is not None and made[0] is plan:
            return made[1]
        data = encode_plan(plan)
        while len(_encoded) >= _ENCODED_KEPT:
            del _encoded[next(iter(_encoded))]
        _encoded[id(plan)] = (plan, data)
        return data


def start(plan: RestorePlan, options: RunOptions, server: WorkerServer | None = None) -> RestoreRun:
    """The backend entry point `timertui.restore.run` calls; `server=` (a WorkerServer) forks
    the worker there, with options.start the way to fall back to if the server is gone."""
    return RestoreRun(plan, options, server)


def _fork_worker(parent_fds: tuple[int, int], body: Callable[[ModuleType], int]) -> int:
    """Fork a worker child that closes the parent's pipe ends and exits with what
    `body(timertui.restore.native.worker)` returns. Returns its pid."""
    # Frozen across the fork: the child's collector never walks the parent's heap (a copy-on-
    # write fault per page), and thawed again in the parent.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the worker (coverage does not follow the fork)
        status = os.EX_SOFTWARE  # worker.EXIT_CRASHED, should the import itself fail
        try:
            for fd in parent_fds:
                os.close(fd)
            from timertui.restore.native import worker

            status = body(worker)
        finally:
            os._exit(status)
    gc.unfreeze()
    return pid


# The worker prestart() forked, waiting for a plan, if any: (pid, control pipe's write end,
# events' read end).
_prestarted: list[tuple[int, int, int]] = []


def prestart() -> None:
    """Fork a restore worker now, before there is a plan, when this process is single-threaded:
    it loads the worker's modules on the other core while the caller loads its snapshot and
    plans. The next fork-started RestoreRun of a plan of at most PRESTART_MAX_TIMERS timers
    sends it the plan instead of forking; one left unused is killed and reaped at exit."""
    if _prestarted or not _single_threaded():
        return
    ctrl_r, ctrl_w = os.pipe2(os.O_CLOEXEC)
    ev_r, ev_w = os.pipe2(os.O_CLOEXEC)
    allowed = os.sched_getaffinity(0)
    # Read before the fork: after it, the reading's allocations copy pages (~0.5 ms).
    others = allowed - {_current_cpu()}
    try:
        pid = _fork_worker(
            (ctrl_w, ev_r), lambda worker: worker.serve_message(ctrl_r, ev_w, allowed)
        )
    finally:
        os.close(ctrl_r)
        os.close(ev_w)
    if others:
        _move_to(pid, others)
    _prestarted.append((pid, ctrl_w, ev_r))
    atexit.register(discard_prestarted)


def _move_to(pid: int, cpus: set[int]) -> None:
    """Move a worker just forked to `cpus`: off the CPU we run on. Linux often starts a child on
    its parent's CPU, where a prestarted worker and its caller take turns (measured: up to
    ~2.5 ms before it first ran) until the balancer moves one, and the overlap is the point of
    it. Done from here, at once: the worker gets its whole affinity back when its plan comes
    (worker.serve_message), which is after this."""
    try:  # noqa: SIM105 - not contextlib (see _ignore_gone)
        os.sched_setaffinity(pid, cpus)
    except ProcessLookupError:
        pass  # it died already: the run that takes it will say so


def _current_cpu() -> int:
    stat = _read("/proc/thread-self/stat")
    return int(stat[stat.rindex(")") + 2 :].split()[36])  # field 39, `processor`


def _read(path: str) -> str:
    with open(path) as f:  # noqa: PTH123 - pathlib is not loaded here
        return f.read()


def _take_prestarted(plan: RestorePlan) -> tuple[int, int, int] | None:
    if not _prestarted or len(plan.timers) > PRESTART_MAX_TIMERS:
        return None
    return _prestarted.pop()


def discard_prestarted() -> None:
    """Kill and reap the prestarted worker, if one is waiting."""
    if not _prestarted:
        return
    pid, ctrl_w, ev_r = _prestarted.pop()
    os.close(ctrl_w)  # end of file on its control pipe: it leaves without a word
    os.close(ev_r)
    _ignore_gone(os.kill, pid, _signal.SIGKILL)
    os.waitpid(pid, 0)


def local_facts(probe_alarm: bool = False) -> TargetFacts:
    """TargetFacts of this host for a target started from this process (same user, same
    limits). Alarm support is probed (in a forked child) only when asked."""
    from timertui.capture import host

    soft, _ = host.sigpending_limits()
    alarm = host.probe_alarm_timers().ok if probe_alarm else None
    return TargetFacts(soft, host.sigpending_in_use("self"), alarm)


def _use_fork(options: RunOptions) -> bool:
    if options.start != "auto":
        return options.start == "fork"
    return _single_threaded()


def _single_threaded() -> bool:
    return len(os.listdir("/proc/self/task")) == 1  # noqa: PTH208 - pathlib is not loaded here


def _kill(pidfd: int) -> None:
    _ignore_gone(_signal.pidfd_send_signal, pidfd, _signal.SIGKILL)


def _ignore_gone(send: Callable[[int, int], None], target: int, signo: int) -> None:
    """Send a signal to a child that may be gone already (a zombie until reaped, or reaped).
    Not contextlib.suppress: contextlib costs `timertui restore`'s start ~1 ms."""
    try:  # noqa: SIM105
        send(target, signo)
    except ProcessLookupError:
        pass


def spawn_python(module: str, fds: list[int], args: tuple[str, ...] = ()) -> int:
    """posix_spawn `python -I -S` running `module.main()` (without site: the package's paths go
    on the command line), with `fds` as fds 3, 4, ... and `args` after the paths (main() reads
    its arguments from the end of sys.argv: the fd numbers, then `args`). Thread-safe."""
    import fcntl

    boot = f"import sys; sys.path[:0] = sys.argv[1:{-len(fds) - len(args)}]; "
    boot += f"from {module} import main; main()"
    # Copies above the targets, so the dup2s onto 3, 4, ... cannot clobber each other.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds]
    try:
        argv = [sys.executable, "-I", "-S", "-c", boot, *_import_paths()]
        argv += [str(_FIRST_CHILD_FD + i) for i in range(len(fds))] + list(args)
        actions = [(os.POSIX_SPAWN_DUP2, fd, _FIRST_CHILD_FD + i) for i, fd in enumerate(high)]
        return os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions)
    finally:
        for fd in high:
            os.close(fd)


def _import_paths() -> list[str]:
    """Where timertui and its compiled dependencies live, for a child started without site."""
    import importlib.util
    from pathlib import Path

    import timertui

    roots = [Path(timertui.__file__).parent.parent]
    cffi_backend = importlib.util.find_spec("_cffi_backend")
    if cffi_backend is not None and cffi_backend.origin:
        roots.append(Path(cffi_backend.origin).parent)
    return list(dict.fromkeys(str(p) for p in roots))
