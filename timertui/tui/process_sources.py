"""Where the app's processes come from: this host's /proc, or a frozen snapshot.

The app only talks to a `ProcessSource`, so Pilot tests and SVG snapshots run on deterministic data
and `timertui --snapshot FILE` browses a file with the same screens (a snapshot is a frozen source).
Every method may block (it reads /proc or forks a probe): the app calls them from thread workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from timertui.model import Access, HostFacts, ProcessTimers, Snapshot

if TYPE_CHECKING:
    from timertui.capture.inject import DeepCapture


@dataclass(frozen=True)
class Captured:
    """A snapshot taken for saving, and what the user should know about it (one line each)."""

    snapshot: Snapshot
    notes: tuple[str, ...] = ()


class ProcessSource(Protocol):
    """What the processes screen polls."""

    @property
    def label(self) -> str:
        """Where the processes come from, for the header ("live", or a file name)."""
        ...

    @property
    def live(self) -> bool:
        """True when the data changes between scans (polling, pause and rate apply)."""
        ...

    def host(self) -> HostFacts: ...

    def scan(self, include_all: bool) -> list[ProcessTimers]:
        """Processes with timers, or every process with `include_all`, in pid order."""
        ...

    def capture(self, pids: Sequence[int], deep: bool = False) -> Captured:
        """A snapshot of these processes, read afresh where the source is live; with `deep`,
        each timer's armed values too (a live source only)."""
        ...

    def capture_values(self, pid: int, ids: Sequence[int]) -> DeepCapture:
        """The armed values of timers `ids` of process `pid` now (the app's `v`; a live
        source only). InputError (one line) when they cannot be asked for at all."""
        ...

    def values_off(self) -> None:
        """The app's `v` went off: let go of what reads values (another host's reader)."""
        ...


def unreadable_notes(processes: Sequence[ProcessTimers]) -> tuple[str, ...]:
    """A line for each process saved without its timers (the command line says the same)."""
    return tuple(
        f"pid {p.pid}: {p.access.value} (saved without timers)"
        for p in processes
        if p.access is not Access.OK
    )


def attach_deep(
    kept: list[ProcessTimers], capture_with: Callable[..., DeepCapture] | None = None
) -> list[str]:
    """Fill in `kept`'s deep values (inject.attach_values, `capture_with` capturing); a note
    for each process refused."""
    from timertui.capture.inject import attach_values

    notes = []
    for index, proc in enumerate(kept):
        kept[index], refused = attach_values(proc, capture_with)
        if refused is not None:
            notes.append(f"pid {proc.pid}: no deep values: {refused}")
    return notes


# The share of a core re-reading each long timer listing may take: a process with 10,000 timers
# is listed again every 2 s rather than every refresh (its listing costs the kernel ~20 ms).
REREAD_DUTY = 0.01


class LiveSource:
    """This host, read through the capture layer."""

    label = "live"
    live = True

    def __init__(self) -> None:
        self._host: HostFacts | None = None

    def host(self) -> HostFacts:
        from timertui.capture.host import host_facts

        # The facts do not change while the app runs, and the exact-ID probe forks a child.
        if self._host is None:
            self._host = host_facts()
        return self._host

    def scan(self, include_all: bool) -> list[ProcessTimers]:
        from timertui.capture import processes

        return processes.scan(include_all, include_unreadable=True, duty=REREAD_DUTY)

    def capture(self, pids: Sequence[int], deep: bool = False) -> Captured:
        from timertui.capture import processes
        from timertui.capture.host import capture_times

        times = capture_times()
        read = (processes.read_process(pid) for pid in pids)
        kept = [p for p in read if p.access is not Access.GONE]
        notes = [
            f"pid {pid}: gone before the snapshot" for pid in set(pids) - {p.pid for p in kept}
        ]
        if deep:
            notes += attach_deep(kept)
        snap = Snapshot(host=self.host(), times=times, processes=tuple(kept))
        return Captured(snap, tuple(sorted([*notes, *unreadable_notes(kept)])))

    def capture_values(self, pid: int, ids: Sequence[int]) -> DeepCapture:
        from timertui.capture.inject import capture_values

        return capture_values(pid, ids)

    def values_off(self) -> None:
        """Nothing is kept: each capture is its own ptrace window."""


class FrozenSource:
    """A snapshot (a file, a CRIU image, or data built by a test) browsed offline."""

    live = False

    def __init__(self, snapshot: Snapshot, label: str) -> None:
        self.snapshot = snapshot
        self.label = label

    def host(self) -> HostFacts:
        return self.snapshot.host

    def scan(self, include_all: bool) -> list[ProcessTimers]:
        procs = sorted(self.snapshot.processes, key=lambda p: p.pid)
        return [p for p in procs if include_all or p.holds_timers or p.access is not Access.OK]

    def capture(self, pids: Sequence[int], deep: bool = False) -> Captured:
        # A frozen source has only the values it was saved with; `deep` adds none.
        wanted = set(pids)
        kept = tuple(p for p in self.snapshot.processes if p.pid in wanted)
        return Captured(replace(self.snapshot, processes=kept), unreadable_notes(kept))

    def capture_values(self, pid: int, ids: Sequence[int]) -> DeepCapture:
        from timertui.errors import InputError

        raise InputError(f"{self.label}: a snapshot holds the values it was saved with only")

    def values_off(self) -> None:
        """No values are read from a snapshot."""
