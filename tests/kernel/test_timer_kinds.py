"""Every timer kind CRIU restores, read from a live process: timerfds from /proc/PID/fdinfo (no
ptrace), interval timers by deep capture (getitimer in the injected window).

The target (tests/kernel/kinds_target.c, built here with gcc) holds timerfds at fds 17, 42 and
43, the three interval timers and one POSIX timer."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from command_line import timertui
from kinds import build_kinds_target, running_kinds_target
from recorded import TIMERFD_ITIMER

from timertui.capture.inject import attach_values, capture_values
from timertui.capture.processes import read_process, scan
from timertui.model import (
    ITIMER_PROF,
    ITIMER_REAL,
    ITIMER_VIRTUAL,
    O_CLOEXEC,
    O_NONBLOCK,
    TFD_TIMER_ABSTIME,
    TFD_TIMER_CANCEL_ON_SET,
)

S = 1_000_000_000


@pytest.fixture(scope="module")
def kinds_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kinds_target(tmp_path_factory.mktemp("kinds") / "kinds_target")


@pytest.fixture
def kinds_pid(kinds_bin: Path) -> Iterator[int]:
    with running_kinds_target(kinds_bin) as pid:
        yield pid


def test_timerfds_are_read_at_their_fd_numbers_with_clock_and_flags(kinds_pid: int) -> None:
    proc = read_process(kinds_pid)
    assert proc.problems == ()
    assert [t.fd for t in proc.timerfds] == [17, 42, 43]
    mono, real, boot = proc.timerfds
    assert (mono.clock, mono.interval_ns, mono.settime_flags) == (1, S // 10, 0)
    assert mono.flags & O_CLOEXEC and not mono.flags & O_NONBLOCK
    assert real.clock == 0 and real.flags & O_NONBLOCK and not real.flags & O_CLOEXEC
    assert real.settime_flags == TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
    assert 3500 * S < real.remaining_ns <= 3600 * S
    assert real.deadline_ns > 0  # the absolute expiry, from the clock read beside fdinfo
    assert (boot.clock, boot.remaining_ns, boot.interval_ns, boot.ticks) == (7, 0, 0, 0)
    assert proc.itimers is None  # they take a deep capture


def test_a_periodic_timerfd_never_read_is_stalled_with_a_pending_tick(kinds_pid: int) -> None:
    time.sleep(0.15)
    mono = read_process(kinds_pid).timerfds[0]
    assert mono.ticks == 1 and mono.remaining_ns == 0 and mono.stalled_periodic


def test_deep_capture_reads_the_interval_timers(kinds_pid: int, needs_ptrace: None) -> None:
    proc, refused = attach_values(read_process(kinds_pid))
    assert refused is None
    assert proc.itimers is not None
    by_which = {t.which: t for t in proc.itimers}
    assert set(by_which) == {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}
    real = by_which[ITIMER_REAL]
    assert (real.interval_s, real.interval_us) == (0, 500_000)
    assert 0 < real.value_total_us <= 500_000
    virt, prof = by_which[ITIMER_VIRTUAL], by_which[ITIMER_PROF]
    assert (virt.interval_s, prof.interval_s) == (10, 20)
    assert 29 <= virt.value_s <= 30 and 59 <= prof.value_s <= 60
    assert len(proc.timers) == 1 and proc.timers[0].values is not None


def test_interval_timers_alone_are_read_without_posix_timers(
    kinds_pid: int, needs_ptrace: None
) -> None:
    capture = capture_values(kinds_pid, [], itimers=True)
    assert capture.refused is None and capture.itimers is not None
    assert len(capture.itimers) == 3 and capture.stops == 1


def test_show_and_ps_list_every_kind(kinds_pid: int, needs_ptrace: None) -> None:
    time.sleep(0.15)  # fd 17's first expiry: stalled from then on
    out = timertui("show", str(kinds_pid), "--deep")
    assert out.returncode == 0, out.stderr
    for word in ("timerfds: 3", "ABSTIME|CANCEL_ON_SET|NONBLOCK", "CRIU #3162", "ITIMER_PROF"):
        assert word in out.stdout
    view = json.loads(timertui("show", str(kinds_pid), "--json").stdout)
    assert [t["fd"] for t in view["timerfds"]] == [17, 42, 43] and view["itimers"] is None
    ps = timertui("ps")
    header, *rows = ps.stdout.splitlines()
    assert "TIMERFDS" in header.split()
    row = next(r.split() for r in rows if r.split()[0] == str(kinds_pid))
    assert row[3:5] == ["1", "3"]
    assert any(p.pid == kinds_pid and len(p.timerfds) == 3 for p in scan())


# --- restore: the one driver, native ------------------------------------------------------------

FIXTURE = TIMERFD_ITIMER


def _events(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_deep_snapshot_restores_natively_and_verifies_every_kind(
    kinds_pid: int, needs_ptrace: None, tmp_path: Path
) -> None:
    time.sleep(0.15)  # fd 17 stalled: its restore re-arms it
    path = tmp_path / "kinds.ttsnap"
    made = timertui("snapshot", str(kinds_pid), "--deep", "-o", str(path))
    assert made.returncode == 0, made.stderr
    out = timertui("restore", str(path), "--json")
    events = _events(out.stdout)
    done = events[-1]
    assert done["kind"] == "done" and done["ok"], out.stdout
    verify = next(e for e in events if e["kind"] == "verify")
    kinds = sorted((c["timer_kind"], c["timer_id"]) for c in verify["checks"])  # type: ignore[attr-defined,index]
    kinds += [("posix", i) for i in verify["equal_ids"]]  # type: ignore[attr-defined,index]
    kinds.sort()
    assert kinds == [*(("itimer", w) for w in (0, 1, 2)), ("posix", 0),
                     *(("timerfd", fd) for fd in (17, 42, 43))]  # fmt: skip
    codes = {e["code"] for e in events if e["kind"] == "decision"}
    assert "timerfd-rearmed" in codes
    assert done["verified"] == 7


def _fdinfo(pid: int, fd: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


@pytest.mark.usefixtures("timerfd_itimer_dir")
def test_a_held_restore_of_the_fixture_keeps_the_stalled_timerfd_periodic(
    needs_proc_timers: None,
) -> None:
    """CRIU restores fd 3 with it_value 0: disarmed, its ticks stay at 1 (criu #3162). Ours is
    armed at its period and goes on expiring in the held process."""
    import sys

    from command_line import ROOT

    proc = subprocess.Popen(
        [sys.executable, "-m", "timertui", "restore", str(FIXTURE / "images"), "--hold", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        start = done = None
        for line in proc.stdout:
            event = json.loads(line)
            start = event if event["kind"] == "start" else start
            if event["kind"] == "done":
                done = event
                break
        assert start is not None and done is not None and done["ok"] and done["holding"]
        target = int(start["pid"])
        first = _fdinfo(target, 3)
        assert first["it_interval"] == "(0, 100000000)" and first["clockid"] == "1"
        assert first["flags"].startswith("02")  # O_CLOEXEC kept
        time.sleep(0.35)
        later = _fdinfo(target, 3)
        assert int(later["ticks"]) >= 2, later  # it fired again after the restore
        assert later["it_interval"] == "(0, 100000000)"
        real = _fdinfo(target, 4)
        assert real["settime flags"] == "01" and real["flags"].endswith("4002")
        assert 3500 < int(real["it_value"].strip("()").split(",")[0]) <= 3600
    finally:
        proc.terminate()
        proc.wait(timeout=30)
