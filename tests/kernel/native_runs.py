"""What the native backend's tests share: the zoo plan for this host, and the checks that a run
verified and that a worker is gone. Imported by test modules, never a test module itself."""

from __future__ import annotations

from pathlib import Path

from builders import HELPER, PID, armed, done, of, process, timer

from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import SIGEV_NONE, SIGEV_THREAD_ID, TimerValues
from timertui.restore import events as ev
from timertui.restore.native.runner import local_facts
from timertui.restore.plan import RestorePlan, build_plan


def assert_gone(pid: int) -> None:
    """Reaped: no /proc entry at all (a zombie would still have one)."""
    assert not Path(f"/proc/{pid}").exists()


def zoo() -> RestorePlan:
    """Signal, none, a helper-thread target, a CPU clock of the old pid, values everywhere."""
    return build_plan(
        process(
            [
                timer(0, values=armed(5000, 1000)),
                timer(3, notify=SIGEV_NONE, values=armed(7000)),
                timer(4, notify=SIGEV_THREAD_ID, target=HELPER, values=armed(9000, 2000)),
                timer(17, clock=make_cpu_clock(PID, CpuClockType.SCHED), values=armed(3000)),
                timer(40, clock=0, signo=10, values=TimerValues(0, 0, 0)),
            ],
            tids=(PID, HELPER),
        ),
        facts=local_facts(),
    )


def assert_verified(events: list[ev.Event], mode: str) -> None:
    end = done(events)
    (verify,) = of(ev.Verify, events)
    assert [c.diffs for c in verify.checks] == [()] * len(verify.checks)
    assert end.ok, [d.reason for d in of(ev.Decision, events)]
    assert end.mode == mode
    assert end.verified == len(verify.equal_ids) + len(verify.checks)
    assert of(ev.Error, events) == []
