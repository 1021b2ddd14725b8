"""`timertui verify` against a real CRIU: a process whose periodic timerfd fired unread before
`criu dump` comes back from `criu restore` with that timerfd disarmed and its tick pending; once
the process reads the tick the timerfd never fires again (criu #3162), and verify says so: that
timerfd dead, nothing else, exit 1. The same workload, never dumped, against its own deep
snapshot exits 0.

CRIU is $TIMERTUI_CRIU, else `criu` on PATH (.ci/run builds 4.2 from ../shared/third-party);
without one whose `criu check` passes the tests skip, under CI they fail. The workload is
tests/kernel/criu_target.c, built here with gcc, started with setsid and no terminal as CRIU
wants to dump it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import c_programs
import pytest
import recorded
from command_line import timertui

FD = "3"

pytestmark = pytest.mark.usefixtures("needs_proc_timers", "needs_ptrace")


@pytest.fixture(scope="module")
def criu() -> str:
    """The criu binary; a skip naming what is missing (a failure under CI)."""
    found = os.environ.get("TIMERTUI_CRIU") or shutil.which("criu")
    reason = ""
    if not found:
        reason = "CRIU not found: set TIMERTUI_CRIU or put criu on PATH"
    elif not os.access(found, os.X_OK):
        reason = f"CRIU not executable: {found}"
    elif os.geteuid() != 0:
        reason = "CRIU dumps and restores as root only"
    else:
        # Debian's 3.17 is on PATH here but fails on this kernel (its vDSO): `criu check` says.
        check = subprocess.run([found, "check"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            said = (check.stderr.strip().splitlines() or ["no output"])[-1]
            reason = (
                f"`{found} check` exit {check.returncode} ({said}): set TIMERTUI_CRIU to "
                "a CRIU that works here (../shared/third-party/build-criu.sh)"
            )
    if reason:
        if recorded.under_ci():
            pytest.fail(f"{reason}; under CI (CI={os.environ['CI']}) it must run", pytrace=False)
        pytest.skip(reason)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def target_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return c_programs.build("criu_target", tmp_path_factory.mktemp("criu"))


def wait_for(what: str, done: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"still waiting for {what} after {timeout} s"
        time.sleep(0.02)


def fdinfo(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/fdinfo/{FD}").read_text()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def stalled(pid: int) -> bool:
    """fd 3 fired and was not read: ticks 1, it_value (0, 0)."""
    info = fdinfo(pid)
    return info["ticks"].strip() == "1" and info["it_value"].strip() == "(0, 0)"


@pytest.fixture
def workload(target_bin: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The workload armed, in its own session with no terminal, and the file of its output."""
    out = tmp_path / "out.txt"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [str(target_bin)],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=tmp_path,
        )
    try:
        wait_for("the workload's ready", lambda: out.read_text() == "ready\n")
        yield proc, out
    finally:
        proc.kill()
        proc.wait()


def criu_run(criu: str, images: Path, *args: str) -> None:
    log = f"{args[0]}.log"
    done = subprocess.run(
        [criu, *args, "-D", str(images), "-v4", "-o", log],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        tail = (images / log).read_text().splitlines()[-30:]
        pytest.fail(f"criu {args[0]} exit {done.returncode}:\n" + "\n".join(tail), pytrace=False)


@pytest.fixture
def criu_restored(
    criu: str, workload: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> Iterator[tuple[int, Path, Path]]:
    """The workload dumped by `criu dump` once fd 3 has fired unread, and brought back by
    `criu restore -d` (the same pid, no longer our child): its pid, images and output file."""
    proc, out = workload
    wait_for("fd 3 to fire unread", lambda: stalled(proc.pid))
    images = tmp_path / "images"
    images.mkdir()
    criu_run(criu, images, "dump", "-t", str(proc.pid))
    proc.wait(timeout=10)  # the dump killed it: reaped, its pid is free for the restore
    wait_for(f"/proc/{proc.pid} to go", lambda: not Path(f"/proc/{proc.pid}").exists())
    criu_run(criu, images, "restore", "-d")
    try:
        yield proc.pid, images, out
    finally:
        os.kill(proc.pid, signal.SIGKILL)


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
    workload: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, out = workload
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
