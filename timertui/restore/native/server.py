"""The worker server: one small process the app starts while it loads, which forks a ready restore
worker per request.

The app is threaded, so it must not fork its workers, and spawning a fresh interpreter per
restore takes ~170 ms. The server is spawned once (`python -I -S`, as native's spawn path),
imports what a worker needs, and forks a worker per request: it is single-threaded, so the fork
is safe, and a worker is ready in a millisecond or two.

Requests go over a SOCK_SEQPACKET socket pair (the server's end is its fd 3):
- request: one byte, with SCM_RIGHTS [control pipe's read end, events pipe's write end];
- reply: the worker's pid as 8 bytes (-errno: the fork failed), with SCM_RIGHTS [its pidfd].
The caller then sends the plan on the control pipe (handover.py), as to a spawned worker.

Every guarantee of the other workers holds:
- a worker leaves when its caller goes: end of file on its control pipe (only the caller holds
  the write end), and PR_SET_PDEATHSIG from the server as a backstop;
- the caller cancels through the pidfd of the reply; the server, whose child the worker is,
  reaps it and then writes its wait status on its events pipe (frames.exit_word), so
  the caller's stream ends knowing how the worker ended;
- the server leaves with the app: at end of file on its socket (killing and reaping its workers
  first), or by PR_SET_PDEATHSIG (SIGKILL) if the app dies outright.
"""

from __future__ import annotations

import _thread
import array
import os
import select
import signal
import socket
import struct
import sys
import weakref
from contextlib import suppress

_REPLY = struct.Struct("=q")
_FD_SIZE = array.array("i").itemsize
_REQUEST_TIMEOUT_S = 5.0  # a server that does not answer by then is taken for gone
_CLOSE_WAIT_S = 2.0
_PR_SET_PDEATHSIG = 1


class ServerGone(Exception):
    """The worker server is not there (any more) to fork a worker."""


class WorkerServer:
    """The app's handle on its worker server. `start()` before the app has threads; then
    `fork_worker` from any thread; `close()` at the end (or when the handle is collected, or at
    exit; the server also goes by itself when this process dies)."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self._child = _Child(pid, sock)
        self._lock = _thread.allocate_lock()  # one request and its reply at a time
        self._close = weakref.finalize(self, self._child.end, _CLOSE_WAIT_S)

    @classmethod
    def start(cls) -> WorkerServer:
        """Spawn the server (a fresh interpreter, so thread-safe, though PR_SET_PDEATHSIG
        follows the calling THREAD: call from the main thread or another long-lived one)."""
        from timertui.restore.native.runner import spawn_python

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = spawn_python(__name__, [theirs.fileno()], (str(os.getpid()),))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.settimeout(_REQUEST_TIMEOUT_S)
        return cls(pid, ours)

    @property
    def exit_status(self) -> int | None:
        return self._child.exit_status

    def alive(self) -> bool:
        with self._lock:
            return self._child.alive()

    def fork_worker(self, ctrl_r: int, ev_w: int) -> tuple[int, int]:
        """A worker forked with these pipe ends: (its pid, a pidfd of it). ServerGone when the
        server is not there or does not answer (it is then stopped for good)."""
        with self._lock:
            if not self._child.alive():
                raise ServerGone
            sock = self._child.sock
            fds = array.array("i", (ctrl_r, ev_w))
            try:
                sock.sendmsg([b"w"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
                data, ancillary, _, _ = sock.recvmsg(_REPLY.size, socket.CMSG_SPACE(_FD_SIZE))
            except OSError:  # gone (EPIPE, ECONNRESET) or wedged (timeout)
                self._child.end(0)
                raise ServerGone from None
            got = _received_fds(ancillary)
            if len(data) != _REPLY.size:
                for fd in got:
                    os.close(fd)
                self._child.end(0)
                raise ServerGone
            (pid,) = _REPLY.unpack(data)
            if pid < 0:
                raise OSError(-pid, os.strerror(-pid))
            return pid, got[0]

    def close(self) -> None:
        """End the server: end of file on its socket (it kills and reaps its workers and
        leaves), SIGKILL if it has not left within _CLOSE_WAIT_S; reaped either way."""
        with self._lock:
            self._close()


class _Child:
    """The server process as our child: its socket, a pidfd, and its wait status once reaped.
    Apart from WorkerServer, so the finalizer that ends it does not keep the handle alive."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.pidfd = os.pidfd_open(pid)
        self.exit_status: int | None = None

    def alive(self) -> bool:
        if self.exit_status is None and self.sock.fileno() >= 0:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = status
        return self.exit_status is None and self.sock.fileno() >= 0

    def end(self, wait_s: float) -> None:
        """Close the socket, give the server `wait_s` to leave, then SIGKILL; reap it."""
        self.sock.close()
        if self.exit_status is None:
            if not select.select([self.pidfd], [], [], wait_s)[0]:
                with suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            self.exit_status = os.waitpid(self.pid, 0)[1]
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def _received_fds(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % _FD_SIZE])
    return list(fds)


# --- the server process ---------------------------------------------------------------------


class _Server:
    def __init__(self, sock_fd: int) -> None:
        self.sock = socket.socket(fileno=sock_fd)
        self.pid = os.getpid()
        self.poller = select.poll()
        self.poller.register(self.sock, select.POLLIN)
        self.workers: dict[int, tuple[int, int]] = {}  # pidfd -> (pid, events write end)

    def run(self) -> int:
        while True:
            for fd, _ in self.poller.poll():
                if fd in self.workers:
                    self.reap(fd)
                elif not self.request():
                    self.stop()
                    return 0

    def request(self) -> bool:
        """Serve one request; False at end of file (the app is gone)."""
        data, ancillary, _, _ = self.sock.recvmsg(1, socket.CMSG_SPACE(2 * _FD_SIZE))
        fds = _received_fds(ancillary)
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            self.sock.send(_REPLY.pack(-22))  # EINVAL
            return True
        ctrl_r, ev_w = fds
        try:
            pid = self.fork(ctrl_r, ev_w)
        except OSError as exc:
            os.close(ev_w)
            self.sock.send(_REPLY.pack(-(exc.errno or 1)))
            return True
        finally:
            os.close(ctrl_r)
        pidfd = os.pidfd_open(pid)  # ours until we reap it: its pid cannot be reused before
        self.workers[pidfd] = (pid, ev_w)
        self.poller.register(pidfd, select.POLLIN)
        pidfds = array.array("i", (pidfd,))
        self.sock.sendmsg([_REPLY.pack(pid)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, pidfds)])
        return True

    def fork(self, ctrl_r: int, ev_w: int) -> int:
        import gc

        gc.freeze()  # the worker's collector leaves the server's heap alone (no copy-on-write)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker (coverage does not follow the fork)
            status = os.EX_SOFTWARE
            try:
                status = self.worker(ctrl_r, ev_w)
            finally:
                os._exit(status)
        return pid

    def worker(self, ctrl_r: int, ev_w: int) -> int:  # pragma: no cover - in the worker
        from timertui import _native
        from timertui.restore.native import worker

        _native.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != self.pid:  # the server died before the prctl took effect
            return worker.EXIT_FAILED
        # Nothing of the server's: its socket, nor other workers' pipes (their callers would
        # not see end of file while this worker lives).
        self.sock.close()
        for pidfd, (_, other_ev_w) in self.workers.items():
            os.close(pidfd)
            os.close(other_ev_w)
        return worker.serve_message(ctrl_r, ev_w)

    def reap(self, pidfd: int) -> None:
        """A worker ended: reap it, tell its caller how it ended on its events pipe."""
        from timertui.restore.native.frames import exit_word
        from timertui.restore.wire import write_all

        pid, ev_w = self.workers.pop(pidfd)
        self.poller.unregister(pidfd)
        _, status = os.waitpid(pid, 0)
        with suppress(OSError):  # EPIPE: the caller closed its end first
            write_all(ev_w, exit_word(status))
        os.close(ev_w)
        os.close(pidfd)

    def stop(self) -> None:
        """The app is gone: kill and reap every worker still running."""
        for pidfd in list(self.workers):
            with suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            self.reap(pidfd)


def _die_with(parent: int) -> None:
    from timertui import _native

    _native.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the app died before the prctl took effect
        os._exit(1)


def main() -> None:
    """The server process: `... SOCK_FD APP_PID` (see native.spawn_python)."""
    sock_fd, app_pid = int(sys.argv[-2]), int(sys.argv[-1])
    _die_with(app_pid)
    # Ctrl-C in the app's terminal is the app's business: it ends us by closing the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What a worker needs (and reap() too), loaded once here rather than after each fork.
    import timertui.capture.host  # the worker's headroom check
    import timertui.restore.native.worker  # noqa: F401

    os._exit(_Server(sock_fd).run())
