"""`timertui check`: the real probes agree with what this kernel and user can do; a failing
required probe fails the command and is named; an optional one only warns."""

from __future__ import annotations

import argparse
import json
import os
import resource
from pathlib import Path

import pytest
from command_line import timertui

from timertui import host_checks as check
from timertui.capture import host
from timertui.commands import check as check_command

NAMES = ["proc-timers", "exact-ids", "ptrace", "sigpending", "alarm-clocks"]


@pytest.fixture(scope="module")
def results() -> list[check.CheckResult]:
    return check.run_checks()


def by_name(results: list[check.CheckResult]) -> dict[str, check.CheckResult]:
    return {r.name: r for r in results}


def _release() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int(minor)


def test_probes_agree_with_this_kernel(results: list[check.CheckResult]) -> None:
    got = by_name(results)
    assert [r.name for r in results] == NAMES
    assert got["proc-timers"].ok == Path("/proc/self/timers").exists()
    if got["proc-timers"].ok:
        # Exact-ID mode arrived in 6.15 and needs the same CONFIG_CHECKPOINT_RESTORE.
        assert got["exact-ids"].ok == (_release() >= (6, 15))
    scope = host.ptrace_scope()
    if os.geteuid() == 0 and scope in (None, 0, 1, 2):
        assert got["ptrace"].ok, got["ptrace"].detail
    assert ("ptrace_scope=" in got["ptrace"].detail) == (scope is not None)
    if not list(Path("/sys/class/rtc").glob("rtc*")):
        # No RTC, so no alarm timers: the kernel says EOPNOTSUPP, and that only warns.
        alarm = got["alarm-clocks"]
        assert (alarm.ok, alarm.status) == (False, "warn")
        assert "EOPNOTSUPP" in alarm.detail
        assert "does not fail check" in alarm.hint


def test_sigpending_detail_counts_from_the_real_limit(results: list[check.CheckResult]) -> None:
    sig = by_name(results)["sigpending"]
    soft = resource.getrlimit(resource.RLIMIT_SIGPENDING)[0]
    if soft == resource.RLIM_INFINITY:
        assert "unlimited" in sig.detail
        return
    assert sig.detail.startswith(f"RLIMIT_SIGPENDING {soft}, ")
    used = int(sig.detail.split(", ")[1].split()[0])
    assert 0 <= used <= soft
    assert f": {soft - used} more timers can be created" in sig.detail
    assert sig.ok == (soft - used >= check.MIN_SIGPENDING_HEADROOM)


def test_text_output(results: list[check.CheckResult]) -> None:
    out = timertui("check")
    lines = out.stdout.splitlines()
    status_lines = [line for line in lines if not line.startswith(" ")][:-1]
    assert [line.split()[0] for line in status_lines] == [r.status for r in results]
    assert [line.split()[1] for line in status_lines] == NAMES
    if check.passed(results):
        assert (out.returncode, lines[-1]) == (0, "Looks good.")
    else:
        failed = [r.name for r in results if r.status == "FAIL"]
        assert (out.returncode, lines[-1]) == (1, f"Missing: {', '.join(failed)}")
    assert out.stderr == ""


def test_looks_good_on_this_machine(
    needs_proc_timers: None, needs_exact_ids: None, needs_ptrace: None
) -> None:
    out = timertui("check")
    assert out.returncode == 0, out.stdout
    assert out.stdout.endswith("\nLooks good.\n")


def test_json_shape(results: list[check.CheckResult]) -> None:
    out = timertui("check", "--json")
    doc = json.loads(out.stdout)
    assert set(doc) == {"ok", "checks"}
    assert doc["ok"] is check.passed(results)
    assert out.returncode == (0 if doc["ok"] else 1)
    assert [c["name"] for c in doc["checks"]] == NAMES
    for c in doc["checks"]:
        assert set(c) == {"name", "status", "ok", "required", "detail", "hint"}
        assert c["status"] == ("ok" if c["ok"] else "FAIL" if c["required"] else "warn")
    assert [c["required"] for c in doc["checks"]] == [True, True, True, True, False]


def _all_probes_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    for probe in ("probe_proc_timers", "probe_exact_ids", "probe_ptrace", "probe_alarm_timers"):
        monkeypatch.setattr(host, probe, lambda: host.ProbeResult(True))
    monkeypatch.setattr(host, "sigpending_limits", lambda: (1000, 1000))
    monkeypatch.setattr(host, "sigpending_in_use", lambda: 10)


def _run(capsys: pytest.CaptureFixture[str], as_json: bool = False) -> tuple[int, str]:
    status = check_command.run(argparse.Namespace(json=as_json))
    return status, capsys.readouterr().out


def test_failing_probe_gives_exit_1_and_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _all_probes_ok(monkeypatch)
    monkeypatch.setattr(
        host, "probe_ptrace", lambda: host.ProbeResult(False, 1, "PTRACE_SEIZE: EPERM: denied")
    )
    status, out = _run(capsys)
    assert status == 1
    assert "FAIL  ptrace" in out
    assert "PTRACE_SEIZE: EPERM: denied" in out
    assert "Looks good." not in out
    assert out.splitlines()[-1] == "Missing: ptrace"
    status, out = _run(capsys, as_json=True)
    assert status == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert [c["name"] for c in doc["checks"] if c["status"] == "FAIL"] == ["ptrace"]


def test_low_sigpending_headroom_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _all_probes_ok(monkeypatch)
    monkeypatch.setattr(host, "sigpending_in_use", lambda: 1000 - 63)
    status, out = _run(capsys)
    assert status == 1
    assert "63 more timers can be created" in out
    assert out.splitlines()[-1] == "Missing: sigpending"
    monkeypatch.setattr(host, "sigpending_in_use", lambda: 1000 - 64)
    assert _run(capsys)[0] == 0


def test_warning_alone_still_looks_good(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _all_probes_ok(monkeypatch)
    monkeypatch.setattr(
        host,
        "probe_alarm_timers",
        lambda: host.ProbeResult(False, 95, "EOPNOTSUPP: Operation not supported"),
    )
    status, out = _run(capsys)
    assert status == 0
    assert "warn  alarm-clocks" in out
    assert out.splitlines()[-1] == "Looks good."
