"""`timertui verify` on the real kernel: a timerfd brought back the way CRIU's restorer does it
(criu #3162) is called dead once its tick is read, with the process blocked reading it; our own
native restore of the same checkpoint verifies clean; a process against its own fresh deep
snapshot is clean; a process we may not read is bad input.

The target (tests/kernel/verify_target.c, built here with gcc) is the process before its
checkpoint (`timerfd`, `all`) and the process as CRIU restores it (`criu FD INTERVAL TICKS`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from command_line import ROOT, timertui
from nobody import Nobody, as_nobody, find_nobody

from timertui.sources import open_source
from timertui.verify.age import checkpoint_age
from timertui.verify.engine import verify
from timertui.verify.findings import Liveness
from timertui.verify.pairing import pair_processes

SOURCE = Path(__file__).with_name("verify_target.c")
PERIOD_NS = 100_000_000

pytestmark = pytest.mark.usefixtures("needs_proc_timers", "needs_ptrace")


@pytest.fixture(scope="module")
def target_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not found: the target is a C program")
    out = tmp_path_factory.mktemp("verify") / "verify_target"
    subprocess.run([gcc, "-O1", "-Wall", "-o", str(out), str(SOURCE)], check=True)
    return out


def start(binary: Path, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [str(binary), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.kill()
    proc.wait()


def checkpoint(pid: int, path: Path) -> Path:
    """A deep snapshot of `pid`, as the checkpoint."""
    made = timertui("snapshot", str(pid), "--deep", "-o", str(path))
    assert made.returncode == 0, made.stderr
    return path


def verified(*args: str) -> tuple[int, dict[str, Any]]:
    out = timertui("verify", *args, "--json")
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def by_label(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (process,) = report["processes"]
    return {f["label"]: f for f in process["findings"]}


@pytest.fixture
def stalled_checkpoint(target_bin: Path, tmp_path: Path) -> Path:
    """The checkpoint of a process whose periodic timerfd (fd 17) fired once and was not read:
    fdinfo shows ticks 1 and it_value (0, 0), as CRIU dumps it."""
    original = start(target_bin, "timerfd")
    try:
        time.sleep(0.15)  # past the first expiry
        return checkpoint(original.pid, tmp_path / "stalled.ttsnap")
    finally:
        stop(original)


@pytest.fixture
def criu_restored(target_bin: Path) -> Iterator[subprocess.Popen[str]]:
    """The process of `stalled_checkpoint` as CRIU's restorer brings it back: fd 17 set with
    it_value 0 and its interval, its 1 tick put back with TFD_IOC_SET_TICKS."""
    restored = start(target_bin, "criu", "17", str(PERIOD_NS), "1")
    yield restored
    stop(restored)


def test_a_timerfd_restored_as_criu_does_is_dead_once_its_tick_is_read(
    criu_restored: subprocess.Popen[str], stalled_checkpoint: Path
) -> None:
    pid = str(criu_restored.pid)
    unwatched = by_label(verified(str(stalled_checkpoint), pid, "--watch", "0")[1])["fd 17"]
    assert unwatched["liveness"] == "unknown"
    assert unwatched["notes"].endswith("; not watched (--watch 0)")
    # Before the read it looks like the original, which the kernel would re-arm on a read.
    status, report = verified(str(stalled_checkpoint), pid, "--watch", "0.3")
    fd = by_label(report)["fd 17"]
    assert (status, fd["status"], fd["liveness"]) == (0, "equal", "stalled"), report
    assert "verify again once the process has read it" in fd["notes"]
    assert criu_restored.stdin is not None and criu_restored.stdout is not None
    criu_restored.stdin.write("go\n")
    criu_restored.stdin.flush()
    assert criu_restored.stdout.readline() == "read 1\n"  # the restored tick; then it blocks
    status, report = verified(str(stalled_checkpoint), pid, "--watch", "0.3")
    assert status == 1
    (process,) = report["processes"]
    assert [f["label"] for f in process["findings"] if not f["ok"]] == ["fd 17"]
    fd = by_label(report)["fd 17"]
    assert (fd["status"], fd["liveness"], fd["criu_issue"]) == ("equal", "dead", "#3162")
    assert f"thread {pid} is blocked reading it (read" in fd["notes"]
    text = timertui("verify", str(stalled_checkpoint), pid, "--watch", "0.2")
    assert text.returncode == 1
    assert "1 dead" in text.stdout and "criu #3162" in text.stdout


def test_our_native_restore_of_the_same_checkpoint_verifies_clean(
    stalled_checkpoint: Path,
) -> None:
    held = subprocess.Popen(
        [sys.executable, "-m", "timertui", "restore", str(stalled_checkpoint), "--hold", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert held.stdout is not None
        events = []
        for line in held.stdout:
            events.append(json.loads(line))
            if events[-1]["kind"] == "done":
                break
        assert events[-1]["ok"] and events[-1]["holding"], events
        target = next(e["pid"] for e in events if e["kind"] == "start")
        status, report = verified(str(stalled_checkpoint), str(target), "--watch", "0.3")
        assert status == 0, report
        fd = by_label(report)["fd 17"]
        # Re-armed at its period: it runs, or fired again and waits for a read.
        assert fd["status"] == "equal" and fd["liveness"] in ("alive", "stalled")
    finally:
        held.terminate()
        held.wait(timeout=30)


def test_a_process_against_its_own_fresh_deep_snapshot_is_clean(
    target_bin: Path, tmp_path: Path
) -> None:
    proc = start(target_bin, "all")
    try:
        snap = checkpoint(proc.pid, tmp_path / "self.ttsnap")
        time.sleep(0.2)  # fd 18's one-shot (150 ms) runs out meanwhile
        status, report = verified(str(snap), "--watch", "0.5")
        assert status == 0 and report["ok"], report
        assert set(report) >= {"checkpoint", "checkpoint_age_ns", "watch_ns", "processes"}
        assert report["checkpoint_age_source"] == "CLOCK_MONOTONIC at capture"
        assert report["checkpoint_age_ns"] >= 200_000_000
        (process,) = report["processes"]
        assert process["checkpoint_pid"] == process["live_pid"] == proc.pid
        found = by_label(report)
        assert set(found) == {"timer 0", "fd 17", "fd 18", "ITIMER_REAL"}
        assert found["fd 18"]["status"] == "expired"
        assert found["timer 0"]["liveness"] == found["ITIMER_REAL"]["liveness"] == "alive"
        assert found["fd 17"]["liveness"] == "stalled"  # fired, never read by the program
        assert all(f["ok"] and f["diffs"] == [] for f in found.values())
        text = timertui("verify", str(snap), "--watch", "0")
        assert text.returncode == 0 and "all equal" in text.stdout.splitlines()[0]
    finally:
        stop(proc)


def test_a_checkpoint_of_another_process_gives_findings_not_a_crash(
    target_bin: Path, stalled_checkpoint: Path
) -> None:
    other = start(target_bin, "all")
    try:
        status, report = verified(str(stalled_checkpoint), str(other.pid), "--watch", "0")
        assert status == 1
        found = by_label(report)
        assert found["fd 18"]["status"] == "extra" and found["timer 0"]["status"] == "extra"
        assert found["fd 17"]["status"] == "equal"
    finally:
        stop(other)


@pytest.fixture(scope="module")
def nobody() -> Iterator[Nobody]:
    yield from find_nobody()


def test_a_process_we_may_not_read_is_one_line_and_exit_2(
    nobody: Nobody, target_bin: Path, stalled_checkpoint: Path
) -> None:
    shared = Path(tempfile.mkdtemp(prefix="timertui-verify-"))
    try:
        shared.chmod(0o755)
        snap = shared / "stalled.ttsnap"
        shutil.copy(stalled_checkpoint, snap)
        snap.chmod(0o644)
        roots = start(target_bin, "timerfd")
        try:
            out = as_nobody(nobody, ["verify", str(snap), str(roots.pid)])
        finally:
            stop(roots)
        assert out.returncode == 2, out.stderr
        assert out.stderr.splitlines() == [
            f"timertui: process {roots.pid}: its timers are not readable (no access)"
        ]
    finally:
        shutil.rmtree(shared)


def test_the_engine_reports_as_the_watch_goes_and_says_when_the_process_exits(
    criu_restored: subprocess.Popen[str], stalled_checkpoint: Path
) -> None:
    snapshot = open_source(stalled_checkpoint)
    pid = criu_restored.pid
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        time.sleep(seconds)

    reports = verify(pair_processes(snapshot, [pid]), checkpoint_age(snapshot), sleep=nap)
    first = next(reports)
    assert not first.done and first.watch_ns == 2 * PERIOD_NS
    (finding,) = first.processes[0].findings
    assert finding.liveness is Liveness.WATCHING
    stop(criu_restored)  # before the watch's first look
    *_, last = reports
    assert last.done and not last.ok
    (verdict,) = last.processes
    assert verdict.problems == (f"process {pid} exited during the watch",)
    assert verdict.findings[0].liveness is Liveness.UNKNOWN
    # It waited between looks through the sleep it was given, a quarter period at a time.
    assert naps and all(0 < n <= PERIOD_NS / 4e9 for n in naps)
