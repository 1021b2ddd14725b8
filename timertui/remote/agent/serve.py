"""The agent's loop: one request frame in, one reply frame out, until the connection closes.

Started by the bootstrap (timertui.remote.ssh) with the zipapp on sys.path. A request is a map
with "op"; the reply is {"ok": VALUE} or {"error": LINE, "kind": WORD}. End of input (the
connection closed, sshd gone) ends the agent; so does a write to a closed connection.
Python 3.9, standard library only.
"""

from __future__ import annotations

import os
import sys
from typing import Any, BinaryIO

from . import proc, wire

VERSION = 1


def answer(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        return {"error": "a request must be a map", "kind": "bad-request"}
    op = request.get("op")
    if op == "hello":
        return {
            "ok": {
                "agent": VERSION,
                "python": "{}.{}.{}".format(*sys.version_info[:3]),
                "pid": os.getpid(),
            }
        }
    if op == "host":
        return {
            "ok": {
                "host": proc.host_facts(bool(request.get("probe", True))),
                "times": proc.capture_times(),
            }
        }
    if op == "probe":
        from . import probes  # ctypes loads only for `check`

        return {"ok": probes.all_probes()}
    if op == "times":
        return {"ok": proc.capture_times()}
    if op == "scan":
        return {"ok": proc.scan(bool(request.get("all")), bool(request.get("unreadable")))}
    if op == "process":
        pid = request.get("pid")
        if type(pid) is not int or pid <= 0:
            return {"error": "pid must be a positive integer", "kind": "bad-request"}
        return {"ok": proc.read_process(pid)}
    if op == "file":
        how, path, limit = request.get("how"), request.get("path"), request.get("limit", 0)
        if (
            how not in ("listdir", "stamp", "read")
            or not isinstance(path, str)
            or type(limit) is not int
        ):
            return {"error": "a file request needs how, path and limit", "kind": "bad-request"}
        return {"ok": proc.runtime_file(how, path, limit)}
    if op == "deep":
        from . import deep  # subprocess and the rest load only for deep capture

        return deep.capture(request)
    if op == "deep-end":
        from . import deep

        return deep.end()
    return {"error": f"unknown request {op!r}", "kind": "bad-request"}


def _send(stdout: BinaryIO, value: Any) -> None:
    stdout.write(wire.frame(value))
    stdout.flush()


def main() -> None:
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    stdout.write("TTAGENT-READY {} {}.{}.{}\n".format(VERSION, *sys.version_info[:3]).encode())
    stdout.flush()
    while True:
        try:
            request = wire.read_frame(stdin)
        except EOFError:
            return
        except wire.WireError as exc:
            stdout.write(wire.frame({"error": f"bad frame: {exc}", "kind": "bad-request"}))
            stdout.flush()
            return
        try:
            if isinstance(request, dict) and request.get("op") == "restore":
                from . import run  # subprocess and the rest load only for a restore

                reply = run.restore(request, lambda value: _send(stdout, value), stdin)
                if reply is None:  # the connection closed during the restore
                    return
            else:
                reply = answer(request)
        except Exception as exc:  # every failure is a reply, never a traceback
            reply = {"error": f"{type(exc).__name__}: {exc}", "kind": "failed"}
        try:
            stdout.write(wire.frame(reply))
            stdout.flush()
        except BrokenPipeError:
            return
