"""Shared fixtures, and the markers by folder: every test under tests/unit is `unit`, under
tests/kernel `kernel`, under tests/tui `tui` (and `kernel` where it says so), so `-m "not kernel"`
runs no timer, prctl or ptrace. Kernel-feature tests skip with the probe's reason, never pass
vacuously (the probes are session fixtures: module fixtures may need them too)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import criu_runs
import pytest
import recorded

from bench import loopback_sshd
from bench.loopback_sshd import LoopbackSshd
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


def _need(probe: host.ProbeResult, what: str) -> None:
    if not probe.ok:
        pytest.skip(f"{what}: {probe.detail}")


@pytest.fixture(scope="session")
def needs_proc_timers() -> None:
    _need(host.probe_proc_timers(), "/proc/PID/timers not readable here")


@pytest.fixture(scope="session")
def needs_exact_ids(needs_proc_timers: None) -> None:
    _need(host.probe_exact_ids(), "kernel lacks PR_TIMER_CREATE_RESTORE_IDS (Linux 6.15+)")


@pytest.fixture(scope="session")
def needs_ptrace() -> None:
    _need(host.probe_ptrace(), "ptrace not allowed here")


@pytest.fixture
def stress_ng_dir() -> Path:
    return recorded.stress_ng()


@pytest.fixture
def timerfd_itimer_dir() -> Path:
    return recorded.timerfd_itimer()


@pytest.fixture(scope="session")
def criu() -> str:
    """A CRIU that works here (tests/criu_runs.py), or a skip (a failure under CI)."""
    return criu_runs.find_criu()


@pytest.fixture(scope="session")
def criu_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return criu_runs.build_target(tmp_path_factory.mktemp("criu"))


@pytest.fixture
def criu_workload(
    criu_target: Path, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    yield from criu_runs.workload(criu_target, tmp_path)


@pytest.fixture
def criu_restored(
    criu: str, criu_workload: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> Iterator[tuple[int, Path, Path]]:
    yield from criu_runs.restored(criu, criu_workload, tmp_path)


@pytest.fixture
def costs_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The simulator's calibrations go under tmp_path: the folder they are stored in."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "timertui" / "costs"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSshd]:
    """A throwaway sshd on 127.0.0.1 for a module's remote tests (bench/loopback_sshd.py)."""
    why = loopback_sshd.available()
    if why is not None:
        pytest.skip(why)
    with loopback_sshd.running(tmp_path_factory.mktemp("sshd")) as server:
        yield server
