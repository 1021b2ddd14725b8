"""A real CRIU run for tests (tests/kernel/test_verify_criu.py, and the app's verify screen in
tests/tui/test_tui_verify_live.py): CRIU is $TIMERTUI_CRIU, else `criu` on PATH (.ci/run builds
4.2 from ../shared/third-party); without one whose `criu check` passes a test skips, under CI it
fails. The workload is tests/kernel/criu_target.c: fd 3 a timerfd firing every 300 ms, left
unread until SIGUSR1, then read in a loop ("read N" to its output file). The fixtures are the
root conftest's: criu, criu_workload, criu_restored."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import c_programs
import pytest
import recorded

FD = "3"


def find_criu() -> str:
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


def restored(
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


def build_target(folder: Path) -> Path:
    return c_programs.build("criu_target", folder)
