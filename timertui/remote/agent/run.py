"""A native restore on the remote host, by the timertui installed there (the agent itself only
reads): `TIMERTUI restore FILE ARGS...` with the snapshot sent over the connection, its output
streamed back as it comes, in frames {"out": BYTES} and {"err": BYTES}, then {"ok": {"status":
N}}. The connection closing (end of our input) ends the restore and its worker: the command
runs in a process group of its own, killed whole, and dies with the agent (PR_SET_PDEATHSIG)
should the agent be killed outright. Python 3.9, standard library only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO

_PR_SET_PDEATHSIG = 1
_INSTALL = "pip install timertui (needs Python 3.11+, gcc), or give --remote-timertui PATH"


def find_timertui(given: Any, runs: str) -> tuple[str | None, str]:
    """(path, "") of the timertui to run, or (None, why not); `runs` names what it is run for
    (a native restore, deep capture)."""
    if given:
        if not isinstance(given, str) or not os.path.isfile(given) or not os.access(given, os.X_OK):
            return None, f"--remote-timertui {given}: not an executable file there"
        return given, ""
    found = shutil.which("timertui")
    if found is None:
        return None, f"no timertui on the remote PATH ({runs} runs it there): {_INSTALL}"
    return found, ""


def die_with_agent(signo: int) -> None:  # pragma: no cover - runs in the child before exec
    """Have `signo` sent to this process when the agent dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signo, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass


def restore(request: dict[str, Any], send: Callable[[Any], None], stdin: BinaryIO) -> Any:
    """Run the restore; every frame but the last goes through `send`, the last is returned.
    Returns None when the connection closed meanwhile (the restore killed)."""
    exe, why = find_timertui(request.get("timertui"), "native restore")
    if exe is None:
        return {"error": why, "kind": "no-timertui"}
    data, name, argv = request.get("data"), request.get("name"), request.get("argv")
    if not (
        isinstance(data, bytes)
        and isinstance(name, str)
        and isinstance(argv, list)
        and all(isinstance(a, str) for a in argv)
    ):
        return {"error": "a restore needs data, name and argv", "kind": "bad-request"}
    folder = tempfile.mkdtemp(prefix="timertui-restore-")
    try:
        path = os.path.join(folder, os.path.basename(name) or "snapshot")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)
        return _run([exe, "restore", path, *argv], send, stdin)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(argv: list[str], send: Callable[[Any], None], stdin: BinaryIO) -> Any:
    child = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=functools.partial(die_with_agent, signal.SIGKILL),  # noqa: PLW1509 - the agent runs no threads
    )
    assert child.stdout is not None and child.stderr is not None
    streams = {child.stdout.fileno(): "out", child.stderr.fileno(): "err"}
    with selectors.DefaultSelector() as selector:
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        selector.register(stdin.fileno(), selectors.EVENT_READ)
        try:
            while streams:
                for key, _ in selector.select():
                    fd = key.fd
                    if fd not in streams:  # our input: the connection closed (or a stray byte)
                        if not os.read(fd, 1):
                            _kill(child)
                            return None
                        continue
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        selector.unregister(fd)
                        del streams[fd]
                        continue
                    send({streams[fd]: chunk})
        except (BrokenPipeError, OSError):
            _kill(child)
            return None
    return {"ok": {"status": child.wait()}}


def _kill(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
