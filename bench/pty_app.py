"""The real app in a pseudo-terminal, for the app benchmark: a command started in a pty of a fixed
size (its own session), its output read continuously by a thread and kept with arrival times, keys
written as bytes.

Two ways to see what the app drew:
- text: the output with its escape sequences taken out (a cursor move becomes a line break, so
  words of different places never join), searched from a position for a word;
- the table cursor: the screen line a table draws its cursor row on, found from the cursor's
  style (learnt by `learn_cursor`) after a `\\x1b[LINE;COLH` move. A key that moves the cursor
  is answered when the new line is drawn in that style; for a table whose cursor cannot be told
  apart, when the first bytes after the key arrive.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

KEYS = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "enter": b"\r",
    "escape": b"\x1b",
}
# Complete escape sequences: CSI, OSC (ended by BEL or ST), and two-byte ones.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-Z\\\\^-~]", re.DOTALL
)
_OVERLAP = 512  # characters searched again, for a match that began in the last look
_MOVE = re.compile(r"\x1b\[\d*;?\d*[Hf]")
_LINE_MOVE = re.compile(rb"\x1b\[(\d+);\d+H")
_SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def strip(text: str) -> str:
    """Text without escape sequences; a cursor move becomes a line break."""
    return _ESCAPE.sub("", _MOVE.sub("\n", text))


def lines_drawn(data: bytes) -> dict[int, set[bytes]]:
    """Each screen line (1-based) drawn in `data`, with the styles (SGR parameters) it used."""
    drawn: dict[int, set[bytes]] = {}
    moves = list(_LINE_MOVE.finditer(data))
    for move, after in zip(moves, [*moves[1:], None], strict=True):
        end = after.start() if after is not None else len(data)
        styles = drawn.setdefault(int(move.group(1)), set())
        styles.update(sgr.group(1) for sgr in _SGR.finditer(data, move.end(), end))
    return drawn


@dataclass
class Cursor:
    """A table's cursor moving between two screen lines: `top` and the one below, drawn in the
    style `style` (SGR parameters; empty when not known); `down` says where it is now."""

    style: bytes
    top: int
    down: bool = False

    def pattern(self, line: int) -> re.Pattern[bytes]:
        """`line` drawn in the cursor's style (before the next cursor move)."""
        sgr = rb"\x1b\[" + re.escape(self.style) + rb"m"
        return re.compile(rb"\x1b\[%d;\d+H(?:(?!\x1b\[\d+;\d+H).)*?" % line + sgr, re.DOTALL)


_READER_NICE = -10


class PtyApp:
    """`argv` running in a pty of `cols` x `rows` in a session of its own. Use as a context
    manager: leaving it kills the session and every descendant."""

    def __init__(
        self,
        argv: Sequence[str],
        cols: int = 160,
        rows: int = 50,
        env: dict[str, str] | None = None,
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environment = dict(os.environ, TERM="xterm-256color")
        environment.pop("COLORTERM", None)
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=environment,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        self._lock = threading.Condition()
        self._raw: list[tuple[int, bytes]] = []  # (arrival ns, bytes)
        self._times: list[int] = []  # the arrival times alone, for bisect
        self._text = ""
        self._text_ends: list[tuple[int, int]] = []  # (arrival ns, text length after the chunk)
        self.closed = False
        self._reader = threading.Thread(target=self._read, name="pty reader", daemon=True)
        self._reader.start()

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        # This thread stamps the arrival of the app's output: it runs ahead of the app and its
        # restore worker (a walk keeps a core busy on this two-core VM), so that the stamps
        # measure the app, not how long the bench waited for a CPU. The app keeps nice 0.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _READER_NICE)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        carry = ""
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:
                data = b""
            now = time.monotonic_ns()
            # An escape sequence cut at the end of a read waits for the rest.
            text = carry + decoder.decode(data)
            cut = text.rfind("\x1b")
            complete = cut < 0 or _ESCAPE.match(text, cut) is not None
            text, carry = (text, "") if complete or not data else (text[:cut], text[cut:])
            plain = strip(text)
            with self._lock:
                if data:
                    self._raw.append((now, data))
                    self._times.append(now)
                self._text += plain
                self._text_ends.append((now, len(self._text)))
                if not data:
                    self.closed = True
                self._lock.notify_all()
            if not data:
                return

    # -- input ------------------------------------------------------------------------------

    def send(self, key: str | bytes) -> int:
        """Write a key (a name of KEYS, or bytes); returns when it was written, ns."""
        data = KEYS.get(key, key.encode()) if isinstance(key, str) else key
        now = time.monotonic_ns()
        os.write(self.master, data)
        return now

    # -- text -------------------------------------------------------------------------------

    def text_mark(self) -> int:
        """A position in the text: searches from it see only what comes after."""
        with self._lock:
            return len(self._text)

    def text_since(self, mark: int) -> str:
        with self._lock:
            return self._text[mark:]

    def wait_text(self, pattern: str, mark: int, timeout: float) -> int | None:
        """When (ns) text matching the regex `pattern` came after `mark`; None after `timeout` s
        or when the app has exited."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lock:
            start = mark
            while True:
                found = regex.search(self._text, start)
                if found is not None:
                    ends = [end for _, end in self._text_ends]
                    return self._text_ends[bisect.bisect_left(ends, found.end())][0]
                # A match may begin in what was searched already, not much before its end.
                start = max(mark, len(self._text) - _OVERLAP)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._lock.wait(min(left, 0.05))

    def wait_quiet(self, quiet: float, timeout: float) -> bool:
        """Wait until nothing was drawn for `quiet` s; False if that did not happen in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while time.monotonic() < deadline and not self.closed:
                last = self._raw[-1][0] if self._raw else 0
                idle = (time.monotonic_ns() - last) / 1e9
                if idle >= quiet:
                    return True
                self._lock.wait(quiet - idle)
        return False

    # -- drawing ----------------------------------------------------------------------------

    def output_since(self, t_ns: int) -> bytes:
        """Everything that arrived after `t_ns`."""
        with self._lock:
            return b"".join(data for _, data in self._raw[bisect.bisect_right(self._times, t_ns) :])

    def first_output_after(self, t_ns: int, timeout: float) -> int | None:
        """When (ns) the first bytes after `t_ns` arrived; None after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                later = bisect.bisect_right(self._times, t_ns)
                if later < len(self._times):
                    return self._times[later]
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._lock.wait(left)

    def wait_drawn(self, pattern: re.Pattern[bytes], t_ns: int, timeout: float) -> int | None:
        """When (ns) output after `t_ns` first matched `pattern`; None after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._lock:
            seen = 0
            while True:
                chunks = self._raw[bisect.bisect_right(self._times, t_ns) :]
                if len(chunks) > seen:
                    seen = len(chunks)
                    found = pattern.search(b"".join(data for _, data in chunks))
                    if found is not None:
                        ends = 0
                        for t, data in chunks:
                            ends += len(data)
                            if ends >= found.end():
                                return t
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._lock.wait(left)

    def learn_cursor(self, settle: float = 0.4) -> Cursor:
        """The focused table's cursor: down, then up, each answered by two lines drawn; the
        cursor's style is on the lower line after down and on the upper one after up. The app
        should be quiet (or nearly) and the table hold two rows or more."""
        after_down = lines_drawn(self._answer("down", settle))
        after_up = lines_drawn(self._answer("up", settle))
        for line, styles in sorted(after_down.items()):
            above = line - 1
            for style in sorted(styles):
                if (
                    style in after_up.get(above, set())
                    and style not in after_down.get(above, set())
                    and style not in after_up.get(line, set())
                ):
                    return Cursor(style, above)
        return Cursor(b"", 0)

    def _answer(self, key: str, settle: float) -> bytes:
        sent = self.send(key)
        time.sleep(settle)
        return self.output_since(sent)

    def move_cursor(self, cursor: Cursor, timeout: float) -> float | None:
        """Move the cursor to its other line (down, or back up); seconds until that line was
        drawn as the cursor (with `cursor.style` empty: until the next bytes came), None after
        `timeout` s (the cursor's place is then unknown)."""
        key, line = ("up", cursor.top) if cursor.down else ("down", cursor.top + 1)
        sent = self.send(key)
        if cursor.style:
            drawn = self.wait_drawn(cursor.pattern(line), sent, timeout)
        else:
            drawn = self.first_output_after(sent, timeout)
        if drawn is None:
            return None
        cursor.down = not cursor.down
        return (drawn - sent) / 1e9

    # -- the end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Kill the app's session and every descendant, reap it, stop reading."""
        kill_tree(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(5)


def kill_tree(pid: int) -> None:
    """SIGKILL `pid`, its descendants, and whatever else runs in its session (a process that
    left the tree by double fork stays in the session unless it called setsid)."""
    doomed: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        doomed += [root, *root.children(recursive=True)]
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.pid != os.getpid() and os.getsid(proc.pid) == pid:
                doomed.append(proc)
    for proc in doomed:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(doomed, timeout=5)
