"""A process source of thousands of synthetic processes that change a little at every scan, for the
app benchmark: the polls of a big host without needing one. `bench.scripted_app` runs the real
app on it in its own process (a pty cannot hand the app a Python object).

Processes are pids FIRST_PID.. named `synthN`; the first `with_timers` hold one to four timers,
the others none (shown only with `a`). Each scan changes one process in a hundred (its state, and
the timer count of those that hold timers) and replaces one process by a new pid (one without
timers, when some have none).
"""

from __future__ import annotations

from collections.abc import Sequence

from timertui.capture.host import capture_times
from timertui.model import SIGEV_SIGNAL, HostFacts, ProcessTimers, Snapshot, Timer
from timertui.tui.process_sources import Captured

FIRST_PID = 100_000
CHANGED = 0.01  # the share of processes changed by a scan
_STEP = 7919  # a prime: the changed processes spread over the table
_HOST = HostFacts("6.18.0-scripted", "0" * 32, "scripted", "x86_64", True, 96_362, 96_362)
_STATES = ("sleeping", "running")


def _process(pid: int, timers: int, turn: int) -> ProcessTimers:
    held = tuple(
        Timer(i, 1, SIGEV_SIGNAL, pid, 34, 0xC0FFEE00 + i) for i in range(1 + (pid + turn) % 4)
    )
    return ProcessTimers(
        pid,
        1,
        f"synth{pid - FIRST_PID}",
        (f"/usr/bin/synth{pid - FIRST_PID}", "--serve"),
        1000,
        "bench",
        _STATES[turn % 2],
        (pid,),
        held if timers else (),
    )


class ScriptedSource:
    """`count` synthetic processes, the first `with_timers` of them holding timers."""

    label = "scripted"
    live = True

    def __init__(self, count: int, with_timers: int) -> None:
        self.scans = 0
        # Processes without timers come and go; those with timers too when all have them.
        self._stable = with_timers if with_timers < count else 0
        self._processes = {
            pid: _process(pid, pid < FIRST_PID + with_timers, 0)
            for pid in range(FIRST_PID, FIRST_PID + count)
        }

    def host(self) -> HostFacts:
        return _HOST

    def scan(self, include_all: bool) -> list[ProcessTimers]:
        self.scans += 1
        self._change()
        return [p for p in self._processes.values() if include_all or p.timers]

    def _change(self) -> None:
        pids = list(self._processes)
        changed = max(1, int(len(pids) * CHANGED))
        for n in range(changed):
            pid = pids[(self.scans * changed + n) * _STEP % len(pids)]
            self._processes[pid] = _process(pid, bool(self._processes[pid].timers), self.scans)
        # One process exits and a new one (a higher pid: rows stay in pid order) takes its place.
        mortal = len(pids) - self._stable
        gone = self._processes.pop(pids[self._stable + self.scans * _STEP % mortal])
        new = max(pids) + 1
        self._processes[new] = _process(new, bool(gone.timers), self.scans)

    def capture(self, pids: Sequence[int], deep: bool = False) -> Captured:
        kept = tuple(self._processes[pid] for pid in pids if pid in self._processes)
        return Captured(Snapshot(_HOST, capture_times(), kept))
