"""Shared fixtures, and the markers by folder: every test under tests/unit is `unit`, under
tests/kernel `kernel`, under tests/tui `tui` (and `kernel` where it says so), so `-m "not kernel"`
runs no timer, prctl or ptrace. Kernel-feature tests skip with the probe's reason, never pass
vacuously."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import recorded

from timertui.capture import host

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "kernel", "tui")
# Fixtures that mean the kernel: a test asking for one outside tests/kernel is misplaced.
KERNEL_FIXTURES = frozenset({"needs_proc_timers", "needs_exact_ids", "needs_ptrace"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced = []
    for item in items:
        parts = item.path.resolve().relative_to(TESTS).parts
        kind = parts[0] if len(parts) > 1 else ""
        if kind not in KINDS:
            misplaced.append(f"{item.nodeid}: not in tests/unit, tests/kernel or tests/tui")
            continue
        item.add_marker(kind)
        wants_kernel = KERNEL_FIXTURES & set(getattr(item, "fixturenames", ()))
        if wants_kernel and item.get_closest_marker("kernel") is None:
            misplaced.append(
                f"{item.nodeid}: uses {', '.join(sorted(wants_kernel))} without the kernel "
                "marker (move it to tests/kernel, or mark a TUI test @pytest.mark.kernel)"
            )
    if misplaced:
        raise pytest.UsageError("tests in the wrong folder:\n" + "\n".join(misplaced))


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
    return recorded.stress_ng()


@pytest.fixture
def costs_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The simulator's calibrations go under tmp_path: the folder they are stored in."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "timertui" / "costs"
