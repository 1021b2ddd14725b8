"""`timertui verify` against a real CRIU: a process whose periodic timerfd fired unread before
`criu dump` comes back from `criu restore` with that timerfd disarmed and its tick pending; once
the process reads the tick the timerfd never fires again (criu #3162), and verify says so: that
timerfd dead, nothing else, exit 1. The same workload, never dumped, against its own deep
snapshot exits 0.

CRIU and the workload: tests/criu_runs.py (its fixtures are the root conftest's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from command_line import timertui
from criu_runs import FD, fdinfo, stalled, wait_for

pytestmark = pytest.mark.usefixtures("needs_proc_timers", "needs_ptrace")


def verified(*args: str) -> tuple[int, dict[str, Any]]:
    out = timertui("verify", *args, "--json")
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (process,) = report["processes"]
    assert process["problems"] == [], report
    return {f["label"]: f for f in process["findings"]}


def test_a_timerfd_criu_restored_with_its_tick_is_dead_once_read(
    criu_restored: tuple[int, Path, Path],
) -> None:
    pid, images, out = criu_restored
    # CRIU brings it back as dumped, disarmed with its tick: alike until the process reads.
    assert stalled(pid), fdinfo(pid)
    status, report = verified(str(images), str(pid))
    fd = findings(report)[f"fd {FD}"]
    assert (status, fd["status"], fd["liveness"]) == (0, "equal", "stalled"), report
    os.kill(pid, signal.SIGUSR1)
    wait_for("the restored tick's read", lambda: out.read_text() == "ready\nread 1\n")
    status, report = verified(str(images), str(pid))
    assert status == 1, report
    found = findings(report)
    assert [label for label, f in found.items() if not f["ok"]] == [f"fd {FD}"], report
    fd = found[f"fd {FD}"]
    assert (fd["status"], fd["liveness"], fd["criu_issue"]) == ("equal", "dead", "#3162"), fd
    assert fd["diffs"] == []
    # The kernel's side of it: disarmed, nothing pending, never fired again during the watch.
    info = fdinfo(pid)
    assert (info["ticks"].strip(), info["it_value"].strip()) == ("0", "(0, 0)"), info
    assert out.read_text() == "ready\nread 1\n"


def test_the_workload_against_its_own_deep_snapshot_is_clean(
    criu_workload: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, out = criu_workload
    snap = tmp_path / "self.ttsnap"
    made = timertui("snapshot", str(proc.pid), "--deep", "-o", str(snap))
    assert made.returncode == 0, made.stderr
    proc.send_signal(signal.SIGUSR1)
    wait_for("a read", lambda: "read 1\n" in out.read_text())
    status, report = verified(str(snap))
    assert status == 0, report
    found = findings(report)
    assert list(found) == [f"fd {FD}"]
    assert (found[f"fd {FD}"]["status"], found[f"fd {FD}"]["liveness"]) == ("equal", "alive")
