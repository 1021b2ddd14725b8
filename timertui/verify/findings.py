"""What verifying a checkpoint against its live processes finds: one Finding per timer (its
comparison and its liveness), one ProcessVerdict per process, and the Report the engine yields
as the watch goes on. Frozen records, so a thread worker can hand each Report to the app as it
is."""

from __future__ import annotations

from timertui.model import IntervalTimer, Timer, TimerFd
from timertui.records import Choice, record


class Status(Choice):
    """A timer of the checkpoint against the live one with the same key."""

    EQUAL = "equal"
    EXPIRED = "expired"  # a one-shot that ran out since the checkpoint: expected, not lost
    DIFFERS = "differs"
    MISSING = "missing"  # in the checkpoint, not in the live process
    EXTRA = "extra"  # in the live process, not in the checkpoint
    UNREAD = "not read"  # the live value could not be read (deep capture refused)


class Liveness(Choice):
    """What watching a periodic timer showed."""

    NONE = ""  # not watched: not periodic, or not there
    WATCHING = "watching"
    ALIVE = "alive"
    STALLED = "stalled"  # a timerfd that fired and waits to be read: the kernel re-arms it then
    DEAD = "dead"
    UNKNOWN = "unknown"  # cannot be told without disturbing the process (CPU time, refused)


OK_STATUSES = frozenset({Status.EQUAL, Status.EXPIRED})
FAILED_LIVENESS = frozenset({Liveness.DEAD})

Kind = str  # "posix" (key: timer ID), "timerfd" (key: fd number), "itimer" (key: which)
KIND_WORDS = {"posix": "timer", "timerfd": "fd", "itimer": "itimer"}


@record
class FieldDiff:
    """One field that differs: the checkpoint's value (remapped to the live pids) and the
    live one."""

    name: str
    checkpoint: int
    live: int

    def text(self) -> str:
        """'interval 100.0 ms -> 0 ns', 'clock MONOTONIC -> REALTIME': for the command and
        the app alike."""
        from timertui.clocks import decode_clock
        from timertui.words import duration_text

        def shown(value: int) -> str:
            if self.name.endswith("_ns"):
                return duration_text(value)
            if self.name.endswith("_us"):
                return duration_text(value * 1000)
            if self.name == "clock":
                return decode_clock(value).name
            if self.name in ("flags", "settime_flags"):
                return f"0{value:o}"
            if self.name == "sigval":
                return f"0x{value:x}"
            return str(value)

        name = self.name.removesuffix("_ns").removesuffix("_us")
        return f"{name} {shown(self.checkpoint)} -> {shown(self.live)}"


@record
class Finding:
    """One timer: `status` of the comparison with its `diffs`, `liveness` from the watch,
    `note` saying why in words (the comparison's, then the watch's), `criu_issue` ("#3162")
    when it matches a known CRIU bug, and the timer as the checkpoint and the live process hold
    it (None where absent; `live` as first read)."""

    kind: Kind
    key: int
    status: Status
    diffs: tuple[FieldDiff, ...] = ()
    liveness: Liveness = Liveness.NONE
    note: str = ""
    criu_issue: str = ""
    checkpoint: Timer | TimerFd | IntervalTimer | None = None
    live: Timer | TimerFd | IntervalTimer | None = None
    watch_note: str = ""

    @property
    def notes(self) -> str:
        return "; ".join(n for n in (self.note, self.watch_note) if n)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES and self.liveness not in FAILED_LIVENESS

    @property
    def label(self) -> str:
        """'timer 3', 'fd 3', 'ITIMER_REAL'."""
        if self.kind == "itimer":
            timer = self.checkpoint or self.live
            return timer.name if isinstance(timer, IntervalTimer) else f"itimer {self.key}"
        return f"{KIND_WORDS.get(self.kind, self.kind)} {self.key}"


@record
class ProcessVerdict:
    """One checkpoint process against the live process it was restored as. `problems` are
    what could not be read or checked (each one line); `elapsed_ns` is the time since the
    checkpoint, None when unknown."""

    checkpoint_pid: int
    live_pid: int
    comm: str  # the checkpoint's
    findings: tuple[Finding, ...]
    elapsed_ns: int | None = None
    problems: tuple[str, ...] = ()
    live_comm: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and all(f.ok for f in self.findings)

    @property
    def differing(self) -> int:
        """Findings whose comparison failed (an expired one-shot is not one)."""
        return sum(f.status not in OK_STATUSES for f in self.findings)

    @property
    def dead(self) -> int:
        return sum(f.liveness is Liveness.DEAD for f in self.findings)


@record
class Report:
    """The state of a verification: every process's verdict, `watched_ns` of the `watch_ns`
    the liveness watch takes, and `done` on the last one."""

    processes: tuple[ProcessVerdict, ...]
    watched_ns: int = 0
    watch_ns: int = 0
    done: bool = False
    elapsed_source: str = ""  # how the time since the checkpoint was known, "" unknown

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.processes)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for p in self.processes for f in p.findings)
