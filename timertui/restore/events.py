"""The restore event stream: one schema for every backend (native worker, simulator).

Every event is a frozen record (timertui.records.record: a dataclass to every caller) with a
`kind` and `t_ns`, nanoseconds of CLOCK_MONOTONIC since the run started. On the wire each event
is one map (`{"kind": ..., "t_ns": ..., ...}`), a frame each on the native worker's pipe
(native/frames.py); `to_json` gives the same map as one JSON line.

Decision codes are stable (tools may match on them); DECISION_CODES lists them all. Reasons
quote CRIU's own messages word for word where CRIU has one (`criu/pie/restorer.c`), so a user
can search for them.
"""

from __future__ import annotations

import _json

from timertui.records import record
from timertui.restore.wire import WireError, from_wire, to_wire

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, ClassVar, Literal

    Severity = Literal["info", "warning", "error", "fatal"]
    TimerStateName = Literal["created", "armed", "failed"]
    TimerKind = Literal["posix", "timerfd", "itimer"]
else:
    # Plain strings to the wire's decoder, which reads annotations as text (no typing).
    Severity = TimerStateName = TimerKind = str
# Severity: info: how the restore goes; warning: it differs from the snapshot on purpose (a
# remap); error: a timer failed, the restore will not verify; fatal: the restore stopped here.

# The stable decision codes, and what each means.
DECISION_CODES: dict[str, str] = {
    "exact-mode": "the kernel creates each timer at its ID (PR_TIMER_CREATE_RESTORE_IDS)",
    "walk-mode": "timers are recreated by the create/delete walk",
    "exact-unsupported": "exact mode was asked for, the kernel refused the prctl with EINVAL",
    "prctl-failed": "the prctl gave an errno other than EINVAL: the restore stops (as CRIU)",
    "prctl-off-failed": "turning exact-ID mode off again failed",
    "id-busy": "a wanted ID is already taken in the target (EBUSY)",
    "create-failed": "timer_create failed for a timer",
    "unexpected-id": "exact mode created a timer at another ID than asked",
    "walk-overshoot": "the walk got an ID above the wanted one: the wanted ID is taken",
    "wrap-needed": "the target's ID counter is past a wanted ID: the walk must wrap past INT_MAX",
    "delete-failed": "deleting a temporary timer of the walk failed",
    "arm-failed": "timer_settime failed for a timer",
    "thread-mapped": "a notify thread of the snapshot is recreated as a thread of the target",
    "thread-remapped": "a SIGEV_THREAD_ID target thread is gone: the main thread is notified",
    "thread-to-none": "a SIGEV_THREAD_ID target thread is gone: the timer is made SIGEV_NONE",
    "cpu-clock-remapped": "a CPU clock naming the old pid/tid is rebuilt for the target",
    "cpu-clock-foreign": "a CPU clock names another process: kept as it is",
    "alarm-unsupported": "an alarm clock timer cannot be created here (EOPNOTSUPP)",
    "rlimit-headroom": "RLIMIT_SIGPENDING leaves less room than the timers need",
    "signal-unblockable": "a timer signals SIGKILL/SIGSTOP: created but left disarmed",
    "value-from-interval": "remaining time was 0: armed with the interval (as CRIU does)",
    "no-values": "the snapshot has no timer values: timers are created disarmed",
    "target-prepared": "the target was given taken IDs / a start counter before the restore",
    "target-failed": "the target could not be prepared as asked",
    "timerfd-rearmed": "a periodic timerfd dumped with ticks > 0 and it_value 0 is re-armed "
    "at its period (CRIU restores it disarmed: #3162)",
    "timerfd-fd-busy": "a timerfd's fd number is taken in the target",
    "timerfd-failed": "timerfd_create, dup3 or timerfd_settime failed for a timerfd",
    "ticks-not-restored": "TFD_IOC_SET_TICKS is not there: a timerfd's pending ticks are lost",
    "itimer-invalid": "an interval timer's value is out of range (CRIU: Invalid timer value, "
    "#3001): not restored",
    "itimer-one-shot": "a one-shot interval timer, which CRIU does not restore (#2559)",
    "itimer-failed": "setitimer failed for an interval timer",
}

# What a timer event's `timer_kind` names, and what its IDs are: POSIX timer IDs, timerfd fd
# numbers, interval timers' `which` (0 ITIMER_REAL, 1 ITIMER_VIRTUAL, 2 ITIMER_PROF).
TIMER_KINDS: tuple[TimerKind, ...] = ("posix", "timerfd", "itimer")


@record
class Event:
    """Base of every event: `kind` names it on the wire, `t_ns` is when it happened."""

    kind: ClassVar[str] = ""
    t_ns: int


@record
class Start(Event):
    """The restore target exists (`pid`; the simulator's is fictitious) and is about to start.
    `monotonic_ns` is CLOCK_MONOTONIC at the run's start, which every `t_ns` counts from."""

    kind: ClassVar[str] = "start"
    backend: str
    pid: int
    source_pid: int
    comm: str
    mode: str  # as asked: auto, exact or walk
    timers: int
    max_id: int
    hold: bool
    kernel: str
    monotonic_ns: int = 0  # 0: not given


@record
class Probe(Event):
    """The PR_TIMER_CREATE_RESTORE_IDS probe: exact IDs available, or the errno it gave."""

    kind: ClassVar[str] = "probe"
    exact_ids: bool
    errno: int
    detail: str


@record
class Decision(Event):
    """A choice the restore made or a problem it met: a stable `code` (DECISION_CODES) and the
    human `reason`; `timer_id` when it concerns one timer."""

    kind: ClassVar[str] = "decision"
    code: str
    reason: str
    severity: Severity
    timer_id: int | None = None
    timer_kind: TimerKind = "posix"  # what timer_id names


@record
class Progress(Event):
    """Create-phase progress. `current_id` is the last ID the kernel handed out; the walk has
    covered the ID space up to it. `rate` is creates per second; `eta_ns` -1 when unknown."""

    kind: ClassVar[str] = "progress"
    phase: str
    timers_done: int
    timers_total: int
    current_id: int
    max_id: int
    creates: int
    deletes: int
    rate: float
    eta_ns: int


@record
class TimerState(Event):
    """Timers (`ids`, batched) reached a state; `failed` carries the errno. `timer_kind`
    says what the ids are (TIMER_KINDS)."""

    kind: ClassVar[str] = "timer"
    state: TimerStateName
    ids: tuple[int, ...]
    errno: int = 0
    detail: str = ""
    timer_kind: TimerKind = "posix"


# The phases of a restore in order; a Phase event comes when one ends. prctl-off only in exact
# mode, create/arm only when there is something to create/arm, timerfds and itimers only when
# the plan has some.
PHASES = ("spawn", "setup", "probe", "create", "arm", "prctl-off", "timerfds", "itimers", "verify")


@record
class Phase(Event):
    """Phase `name` ended after `ns` nanoseconds (spawn: from the run's start to the worker)."""

    kind: ClassVar[str] = "phase"
    name: str
    ns: int


@record
class FieldDiff:
    """One field of a restored timer that differs from the plan (after remapping)."""

    # id, clock, notify, target, signo, sigval, present, remaining_ns, interval_ns; timerfds
    # also settime_flags, flags, ticks; interval timers value_us, interval_us
    field: str
    expected: int
    actual: int

    def text(self) -> str:
        """In words, for people: "missing after the restore", "signo: want 34, got 35"."""
        if self.field == "present":
            return "missing after the restore" if self.expected else "there, but not planned"
        return f"{self.field}: want {self.expected}, got {self.actual}"


@record
class TimerCheck:
    """Verification of one timer: equal when no field differs."""

    timer_id: int
    diffs: tuple[FieldDiff, ...] = ()
    timer_kind: TimerKind = "posix"

    @property
    def equal(self) -> bool:
        return not self.diffs


@record
class Verify(Event):
    """The verification of every timer of the plan: `equal_ids`, the POSIX timer IDs that
    verified equal (in plan order), and `checks`, one for each other timer: every POSIX timer
    that differs (the fields that do, after remapping) and every timerfd and interval timer.
    10,000 equal timers are so 10,000 numbers, not 10,000 maps (~20 ms of a --json line)."""

    kind: ClassVar[str] = "verify"
    checks: tuple[TimerCheck, ...]
    equal_ids: tuple[int, ...] = ()

    def posix_checks(self) -> list[TimerCheck]:
        """A check for each POSIX timer, by ID (the equal ones made here: for small runs)."""
        made = [TimerCheck(i) for i in self.equal_ids]
        made += [c for c in self.checks if c.timer_kind == "posix"]
        return sorted(made, key=_check_id)


def _check_id(check: TimerCheck) -> int:
    return check.timer_id


def with_equal_ids(verify: Verify, ids: Sequence[int]) -> Verify:
    """A Verify as the driver emits it (checks for the POSIX timers that differ only) with the
    plan's other POSIX timer IDs (`ids`, in plan order) as its equal_ids."""
    differing = {c.timer_id for c in verify.checks if c.timer_kind == "posix"}
    equal = tuple(i for i in ids if i not in differing) if differing else tuple(ids)
    return Verify(verify.t_ns, verify.checks, equal)


@record
class Done(Event):
    """The restore finished: `ok` when every timer was created, armed and verified equal.
    Totals: creates, deletes, syscalls, ns per phase, wall ns since the run's start."""

    kind: ClassVar[str] = "done"
    ok: bool
    mode: str  # exact, walk, or "" when the restore stopped before choosing
    creates: int
    deletes: int
    syscalls: int
    phases: dict[str, int]
    wall_ns: int
    verified: int
    failed: int
    holding: bool


@record
class Expiration(Event):
    """--hold: a timer expired `count` times since its last report (`total` since holding)."""

    kind: ClassVar[str] = "expiration"
    timer_id: int
    count: int
    total: int
    overrun: int
    timer_kind: TimerKind = "posix"


@record
class Error(Event):
    """The run ended abnormally: `code` worker-killed, worker-died, worker-crashed or
    cancelled."""

    kind: ClassVar[str] = "error"
    code: str
    message: str


EVENT_TYPES: tuple[type[Event], ...] = (
    Start,
    Probe,
    Decision,
    Progress,
    TimerState,
    Phase,
    Verify,
    Done,
    Expiration,
    Error,
)
_BY_KIND = {cls.kind: cls for cls in EVENT_TYPES}


def encode(event: Event) -> dict[str, Any]:
    """The event as a plain map with its `kind` first."""
    data: dict[str, Any] = {"kind": event.kind}
    data.update(to_wire(event))
    return data


def decode(data: Any) -> Event:
    """Rebuild an event from its plain map; WireError when it is not one."""
    if not isinstance(data, dict):
        raise WireError(f"an event is a map, got {type(data).__name__}")
    cls = _BY_KIND.get(data.get("kind", ""))
    if cls is None:
        raise WireError(f"unknown event kind {data.get('kind')!r}")
    return from_wire(cls, data)


def _not_plain(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.JSONEncoder's arguments for dumps(separators=(",", ":")): no circular check (an event is
# a tree of plain values), ASCII output, NaN and infinities allowed.
_JSON_ENCODER = _json.make_encoder(
    None, _not_plain, _json.encode_basestring_ascii, None, ":", ",", False, False, True
)


def to_json(event: Event) -> str:
    """One JSON line (no newline), what json.dumps(encode(event), separators=(",", ":")) gives,
    from the json package's own C encoder: the package itself (its regular expressions) would
    take ~2 ms of a `timertui restore --json`, most of it after the worker is done."""
    return "".join(_JSON_ENCODER(encode(event), 0))
