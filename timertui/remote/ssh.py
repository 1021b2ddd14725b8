"""The connection to another host: the system's `ssh` client (the user's config, keys and
agent; timertui stores no credentials), the agent sent over it, and msgpack frames both ways.

At connect a bootstrap (a few lines, passed on ssh's command line) checks the remote python3 is
3.9 or newer, runs the agent zipapp cached under the remote user's cache dir by its SHA-256, and
otherwise asks for it: `TTAGENT-SEND`, then we write its length and bytes, and it is verified and
cached (written aside, then renamed). The agent then says `TTAGENT-READY` and speaks frames: a
4-byte big-endian length and one msgpack value, a request map each way answered by one reply.
Anything else on the way — a login banner or a shell's start-up output on stdout, a python too
old or missing, ssh's own refusals — is one line (RemoteError, exit 2), within a deadline.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import io
import math
import os
import re
import select
import signal
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack

from timertui.errors import InputError
from timertui.records import record

AGENT_DIR = Path(__file__).resolve().parent / "agent"
AGENT_PACKAGE = "ttagent"  # the agent's package name inside the zipapp
_HEADER_SIZE = 4
MAX_FRAME = 256 << 20
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the zip (and its hash) depends on the sources only

_USER = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}"
_NAME = r"[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9_])?"
_TARGET = re.compile(
    rf"(?:(?P<user>{_USER})@)?(?:(?P<name>{_NAME})|\[(?P<v6>[0-9A-Fa-f:.]{{2,45}})\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


class RemoteError(InputError):
    """The remote host cannot be reached or used: one line naming the host and why."""


class AgentRefused(RemoteError):
    """The agent answered a request with an error (the connection itself is fine)."""


@record
class Target:
    """[USER@]HOST[:PORT] as given: HOST is any name the user's ssh config knows, or an address
    ([v6] with a port)."""

    host: str
    user: str = ""
    port: int = 0

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (
            (f"{self.user}@" if self.user else "") + host + (f":{self.port}" if self.port else "")
        )


def parse_target(text: str) -> Target:
    """The target `text` names; RemoteError (one line) for anything else."""
    match = _TARGET.fullmatch(text)
    if match is None:
        raise RemoteError(f"bad host {text!r}: expected [USER@]HOST[:PORT]")
    port = int(match["port"] or 0)
    if match["port"] is not None and not 1 <= port <= 65535:
        raise RemoteError(f"bad host {text!r}: port {match['port']} outside 1..65535")
    return Target(match["name"] or match["v6"], match["user"] or "", port)


def agent_zip() -> bytes:
    """The agent as a zipapp: its package (timertui/remote/agent/*.py) as `ttagent`, and a
    __main__.py that serves. The same bytes for the same sources."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(AGENT_DIR.glob("*.py")):
            info = zipfile.ZipInfo(f"{AGENT_PACKAGE}/{path.name}", _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
        main = zipfile.ZipInfo("__main__.py", _ZIP_TIME)
        zf.writestr(main, f"from {AGENT_PACKAGE}.serve import main\nmain()\n")
    return out.getvalue()


# Runs on the remote python3 before anything else: old syntax only, so a 3.5 says it is too old
# rather than failing to compile. HASH is the zipapp's SHA-256: the cache holds it unpacked in
# agent-HASH/ (so python keeps its compiled modules beside them), made only from bytes whose hash
# was checked, renamed into place whole. Where the cache cannot be written, the agent is loaded
# from a temporary copy, removed once imported.
_BOOTSTRAP = """\
import sys, os
out = sys.stdout.buffer
if sys.version_info < (3, 9):
    out.write(("TTAGENT-OLD %d.%d.%d\\n" % tuple(sys.version_info[:3])).encode())
    out.flush()
    sys.exit(3)
h = "HASH"
d = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
    ".cache"), "timertui")
p = os.path.join(d, "agent-" + h)
temp = None
if not os.path.isdir(p):
    import hashlib, io, shutil, zipfile
    out.write(b"TTAGENT-SEND\\n")
    out.flush()
    inp = sys.stdin.buffer
    n = int(inp.readline())
    data = inp.read(n)
    if hashlib.sha256(data).hexdigest() != h:
        out.write(b"TTAGENT-BAD\\n")
        out.flush()
        sys.exit(3)
    try:
        os.makedirs(d, 0o700, exist_ok=True)
        part = "%s.%d" % (p, os.getpid())
        zipfile.ZipFile(io.BytesIO(data)).extractall(part)
        os.chmod(part, 0o700)
        try:
            os.rename(part, p)
        except OSError:
            shutil.rmtree(part, ignore_errors=True)
            if not os.path.isdir(p):
                raise
    except OSError:
        import tempfile
        fd, p = tempfile.mkstemp(suffix=".pyz")
        os.write(fd, data)
        os.close(fd)
        temp = p
sys.path.insert(0, p)
if temp:
    import ttagent.run
    os.unlink(temp)
from ttagent.serve import main
main()
"""


def remote_command(digest: str, python: str = "python3") -> str:
    """The command ssh runs on the remote (through the user's login shell)."""
    code = base64.b64encode(_BOOTSTRAP.replace("HASH", digest).encode()).decode()
    # -I -S: none of the remote's PYTHON* settings, user site or site-packages (the agent needs
    # the standard library only), and a quicker start.
    return f'exec {python} -I -S -c \'exec(__import__("base64").b64decode("{code}"))\''


# ssh's own failures (its exit status 255), by what its stderr says: (pattern, the why).
_SSH_FAULTS = (
    ("Host key verification failed", "unknown or changed host key"),
    ("REMOTE HOST IDENTIFICATION HAS CHANGED", "the host key changed"),
    ("Permission denied", "ssh refused the login"),
    ("Could not resolve hostname", "unknown host name"),
    ("Connection refused", "unreachable"),
    ("Connection timed out", "unreachable"),
    ("No route to host", "unreachable"),
    ("Network is unreachable", "unreachable"),
    ("Connection closed", "the connection was closed"),
    ("Bad configuration option", "bad ssh configuration"),
)
_NO_PYTHON = re.compile(r"python3?[^\n]*(not found|No such file)|not found[^\n]*python")


class Connection:
    """One ssh connection with the agent running at its far end. Requests are answered in
    order; every wait has a deadline. Use as a context manager, or open() then close()."""

    def __init__(
        self,
        target: Target,
        *,
        connect_timeout: float = 10.0,
        start_timeout: float = 30.0,
        reply_timeout: float = 60.0,
        python: str = "python3",
        ssh: str = "ssh",
    ) -> None:
        self.target = target
        self.connect_timeout = connect_timeout
        self.start_timeout = start_timeout  # connect, login and the agent's start, all told
        self.reply_timeout = reply_timeout
        self.python = python
        self.ssh = ssh
        self.sent_agent = False  # whether this connect had to send the agent (not cached)
        self.remote_python = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._zipped = b""
        self._buffer = bytearray()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._stderr_done = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def label(self) -> str:
        return self.target.label

    @property
    def pid(self) -> int | None:
        """The local ssh client's pid while connected."""
        return None if self._proc is None else self._proc.pid

    def argv(self, command: str) -> list[str]:
        t = self.target
        argv = [self.ssh, "-T", "-x", "-a", "-e", "none", "-o", "BatchMode=yes"]
        argv += ["-o", f"ConnectTimeout={max(1, round(self.connect_timeout))}"]
        argv += ["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
        argv += ["-p", str(t.port)] if t.port else []
        argv += ["-l", t.user] if t.user else []
        return [*argv, "--", t.host, command]

    def start(self) -> None:
        """Run ssh, which connects and logs in while the caller does other things; open()
        then waits for the agent. Nothing when started already."""
        if self._proc is not None:
            return
        self._buffer = bytearray()
        self._stderr = collections.deque(maxlen=40)
        self._stderr_done = threading.Event()
        self.remote_python = ""
        self.sent_agent = False
        self._zipped = agent_zip()
        digest = hashlib.sha256(self._zipped).hexdigest()
        try:
            self._proc = subprocess.Popen(
                self.argv(remote_command(digest, self.python)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C meant for us is not ssh's to act on
            )
        except OSError as exc:
            raise self._error(f"cannot run {self.ssh}: {exc.strerror or exc}") from None
        threading.Thread(
            target=self._drain_stderr,
            args=(self._proc, self._stderr, self._stderr_done),
            daemon=True,
        ).start()

    def open(self) -> None:
        """Connect (again, after close() or a lost connection): ssh, the agent, READY.
        Nothing when open already."""
        if self._proc is not None and self.remote_python:
            return
        self.start()
        zipped = self._zipped
        deadline = time.monotonic() + self.start_timeout
        try:
            while True:
                line = self._line(deadline)
                if line.startswith(b"TTAGENT-READY "):
                    self.remote_python = line.split()[-1].decode("ascii", "replace")
                    return
                if line == b"TTAGENT-SEND":
                    self._write(b"%d\n" % len(zipped) + zipped)
                    self.sent_agent = True
                elif line.startswith(b"TTAGENT-OLD "):
                    found = line.split()[-1].decode("ascii", "replace")
                    raise self._error(
                        f"remote {self.python} is {found}: timertui's agent needs 3.9 or newer"
                    )
                elif line == b"TTAGENT-BAD":
                    raise self._error("the agent arrived damaged (its hash differs)")
                else:
                    shown = line[:60].decode("utf-8", "replace")
                    raise self._error(
                        f"the remote printed {shown!r} before timertui's agent started "
                        "(a login banner or shell start-up output on stdout?)"
                    )
        except BaseException:
            self.close()
            raise

    def request(self, op: str, **args: Any) -> Any:
        """The reply's value; RemoteError when the connection fails or the agent refuses."""
        *_, last = self._exchange(op, args, self.reply_timeout)
        return last.get("ok")

    def stream(self, op: str, **args: Any) -> Iterator[dict[str, Any]]:
        """The frames of a request answered by many (a restore's output), the last one (its
        "ok") included; no deadline between frames (a restore may hold for as long as it is
        asked to): a dead connection is found by ssh's keep-alives. RemoteError as request()."""
        return self._exchange(op, args, None)

    def _exchange(
        self, op: str, args: dict[str, Any], timeout: float | None
    ) -> Iterator[dict[str, Any]]:
        """Send the request, yield its frames up to the last (the one with "ok"); a frame with
        "error" is AgentRefused (the connection stays up), and a failed connection is closed."""
        with self._lock:
            if self._proc is None or not self.remote_python:
                raise self._error("not connected")
            body = msgpack.packb({"op": op, **args})
            try:
                self._write(len(body).to_bytes(_HEADER_SIZE, "big") + body)
                while True:
                    frame = self._frame(math.inf if timeout is None else time.monotonic() + timeout)
                    if not isinstance(frame, dict):
                        raise self._error("the agent's reply is not a map")
                    if "error" in frame:
                        failed = "the agent failed: " if frame.get("kind") == "failed" else ""
                        raise AgentRefused(f"{self.label}: {failed}{frame['error']}")
                    yield frame
                    if "ok" in frame:
                        return
            except AgentRefused:
                raise  # an answer: the connection goes on
            except RemoteError:
                self.close()
                raise

    def close(self) -> None:
        """Close our end (the agent sees end of input and exits, and so does ssh); ssh is
        killed if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            self._stderr_done.wait(1)

    # -- the stream ------------------------------------------------------------------------

    @staticmethod
    def _drain_stderr(
        proc: subprocess.Popen[bytes], lines: collections.deque[str], done: threading.Event
    ) -> None:
        assert proc.stderr is not None
        try:
            for raw in proc.stderr:
                text = raw.decode("utf-8", "replace").strip()
                if text:
                    lines.append(text)
        except (OSError, ValueError):
            pass
        finally:
            done.set()

    def _write(self, data: bytes) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._lost() from None

    def _fill(self, deadline: float) -> None:
        """Read what is there into the buffer; RemoteError at end of file or past `deadline`."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        left = None if deadline == math.inf else deadline - time.monotonic()
        if (left is not None and left <= 0) or not select.select([fd], [], [], left)[0]:
            proc.send_signal(signal.SIGKILL)
            waited = self.reply_timeout if self.remote_python else self.start_timeout
            raise self._error(f"no answer within {waited:g} s")
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            raise self._lost()
        self._buffer += chunk

    def _line(self, deadline: float) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end]).rstrip(b"\r")
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > 4096:
                shown = bytes(self._buffer[:60]).decode("utf-8", "replace")
                raise self._error(f"the remote printed {shown!r} instead of starting the agent")
            self._fill(deadline)

    def _frame(self, deadline: float) -> Any:
        while len(self._buffer) < _HEADER_SIZE:
            self._fill(deadline)
        size = int.from_bytes(self._buffer[:_HEADER_SIZE], "big")
        if size > MAX_FRAME:
            raise self._error(f"the agent sent a frame of {size} bytes: the stream is broken")
        while len(self._buffer) < _HEADER_SIZE + size:
            self._fill(deadline)
        body = bytes(self._buffer[_HEADER_SIZE : _HEADER_SIZE + size])
        del self._buffer[: _HEADER_SIZE + size]
        try:
            return msgpack.unpackb(body, strict_map_key=False)
        except (ValueError, msgpack.UnpackException) as exc:
            raise self._error(f"the agent sent a broken frame: {exc}") from None

    # -- errors ----------------------------------------------------------------------------

    def _error(self, why: str) -> RemoteError:
        return RemoteError(f"{self.label}: {why}")

    def _lost(self) -> RemoteError:
        """The error for a connection that ended: ssh's own reason where it gave one."""
        proc = self._proc
        status = None
        if proc is not None:
            try:
                status = proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = proc.wait()
        self._stderr_done.wait(2)
        said = "\n".join(self._stderr)
        last = self._stderr[-1] if self._stderr else ""
        if self.remote_python:  # the agent was up: the connection itself went
            return self._error(f"connection lost ({last or f'ssh exit status {status}'})")
        if status == 255:
            for pattern, why in _SSH_FAULTS:
                if pattern in said:
                    return self._error(f"{why} (ssh: {_ssh_line(said, pattern)})")
            return self._error(f"ssh failed ({last or 'exit status 255'})")
        if status == 127 or _NO_PYTHON.search(said):
            return self._error(
                f"no {self.python} on the remote PATH: timertui's agent needs python3 3.9 or "
                "newer there (apt-get install python3, or dnf install python3)"
            )
        return self._error(
            f"the remote ended before the agent started ({last or f'exit status {status}'})"
        )


def _ssh_line(said: str, pattern: str) -> str:
    for line in said.splitlines():
        if pattern in line:
            return line.strip().removeprefix("ssh: ")[:160]
    return pattern
