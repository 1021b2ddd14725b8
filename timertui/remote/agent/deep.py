"""Deep capture on the remote host, by the timertui installed there (the ptrace injection is its
compiled code): `TIMERTUI deep-values`, started at the first "deep" request and kept for the
next ones (the app's `v` asks at every refresh), each request relayed to it as one frame and its
one reply frame relayed back as it is; "deep-end" (the app's `v` off) ends it.

It is never killed: a capture in its ptrace window finishes and puts the target back first. The
connection closing ends the agent, which closes the child's input (it exits there); should the
agent be killed outright, the child gets SIGTERM, which it takes between two windows.
Python 3.9, standard library only.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import subprocess
from typing import Any

from . import wire
from .run import die_with_agent, find_timertui

_WAIT_S = 30.0  # for a child that failed to say why: its capture may be finishing
_kept: dict[str, subprocess.Popen[bytes]] = {}  # the running child, by its timertui's path


def capture(request: dict[str, Any]) -> dict[str, Any]:
    """The child's reply to {"pid", "ids", "itimers"}, or why there is none."""
    exe, why = find_timertui(request.get("timertui"), "deep capture")
    if exe is None:
        return {"error": why, "kind": "no-timertui"}
    pid, ids = request.get("pid"), request.get("ids")
    if type(pid) is not int or not (
        ids is None or (isinstance(ids, list) and all(type(i) is int for i in ids))
    ):
        return {"error": "a deep capture needs a pid and timer IDs", "kind": "bad-request"}
    child = _child(exe)
    assert child.stdin is not None and child.stdout is not None
    try:
        asked = {"pid": pid, "ids": ids, "itimers": bool(request.get("itimers"))}
        child.stdin.write(wire.frame(asked))
        child.stdin.flush()
        reply = wire.read_frame(child.stdout)
    except (OSError, EOFError, wire.WireError):
        return {"error": _ended(exe), "kind": "failed"}
    if not isinstance(reply, dict):
        return {"error": f"{exe} deep-values answered {str(reply)[:60]!r}", "kind": "failed"}
    return reply


def end() -> dict[str, Any]:
    """End the kept children (the app's `v` went off): each reads end of file and exits,
    after a capture under way, so none idles here until the connection closes."""
    kept = len(_kept)
    for exe in list(_kept):
        _ended(exe)
    return {"ok": kept}


def _child(exe: str) -> subprocess.Popen[bytes]:
    child = _kept.get(exe)
    if child is not None and child.poll() is None:
        return child
    for other in list(_kept):
        _ended(other)
    child = subprocess.Popen(
        [exe, "deep-values"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # nothing sent to the agent's group reaches a ptrace window
        preexec_fn=functools.partial(die_with_agent, signal.SIGTERM),  # noqa: PLW1509 - no threads
    )
    _kept[exe] = child
    return child


def _ended(exe: str) -> str:
    """Close the child's input, wait for it, and say why it stopped answering."""
    child = _kept.pop(exe)
    assert child.stdin is not None and child.stderr is not None
    with contextlib.suppress(OSError):
        child.stdin.close()
    try:
        status = child.wait(_WAIT_S)
    except subprocess.TimeoutExpired:
        return f"{exe} deep-values stopped answering"
    said = [line for line in child.stderr.read().decode("utf-8", "replace").splitlines() if line]
    last = said[-1].strip()[:200] if said else f"exit status {status}"
    old = " (that timertui is older than deep capture over ssh)" if "invalid choice" in last else ""
    return f"{exe} deep-values ended: {last}{old}"
