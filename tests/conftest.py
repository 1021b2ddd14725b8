"""Shared fixtures. Kernel-feature tests skip with the probe's reason, never pass vacuously."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from timertui.capture import host

FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
STRESS_NG = FIXTURES / "criu-stress-ng"


@functools.cache
def _exact_ids() -> host.ProbeResult:
    return host.probe_exact_ids()


@functools.cache
def _proc_timers() -> host.ProbeResult:
    return host.probe_proc_timers()


@functools.cache
def _ptrace() -> host.ProbeResult:
    return host.probe_ptrace()


@pytest.fixture
def needs_proc_timers() -> None:
    res = _proc_timers()
    if not res.ok:
        pytest.skip(f"/proc/PID/timers not readable here: {res.detail}")


@pytest.fixture
def needs_exact_ids(needs_proc_timers: None) -> None:
    res = _exact_ids()
    if not res.ok:
        pytest.skip(f"kernel lacks PR_TIMER_CREATE_RESTORE_IDS (Linux 6.15+): {res.detail}")


@pytest.fixture
def needs_ptrace() -> None:
    res = _ptrace()
    if not res.ok:
        pytest.skip(f"ptrace not allowed here: {res.detail}")


@pytest.fixture
def stress_ng_dir() -> Path:
    if not (STRESS_NG / "pstree.img").exists():
        pytest.skip(f"CRIU fixture missing: {STRESS_NG} (../shared beside the checkout)")
    return STRESS_NG
