"""One restore run as the screens show it, folded from its event stream. Pure (no textual): the
restore screen and each column of the race view feed it events and draw what it holds, whichever
backend produced them."""

from __future__ import annotations

from dataclasses import dataclass, field

from timertui.restore import events as ev

_STATE_OF = {"created": "created", "armed": "armed", "failed": "failed"}


@dataclass
class RunView:
    ids: tuple[int, ...]
    states: dict[int, str] = field(default_factory=dict)
    details: dict[int, str] = field(default_factory=dict)
    decisions: list[ev.Decision] = field(default_factory=list)
    phases: dict[str, int] = field(default_factory=dict)
    # The verification: POSIX timer IDs equal, and the checks of those that differ.
    equal_ids: tuple[int, ...] = ()
    differing: dict[int, ev.TimerCheck] = field(default_factory=dict)
    # and the checks of the timerfds and interval timers, equal or not
    other_checks: tuple[ev.TimerCheck, ...] = ()
    expirations: dict[int, int] = field(default_factory=dict)
    start: ev.Start | None = None
    probe: ev.Probe | None = None
    progress: ev.Progress | None = None
    done: ev.Done | None = None
    error: ev.Error | None = None
    elapsed_ns: int = 0

    def __post_init__(self) -> None:
        self.states = dict.fromkeys(self.ids, "pending")

    def apply(self, event: ev.Event) -> set[int]:
        """Fold one event in; returns the timer IDs whose state changed."""
        self.elapsed_ns = max(self.elapsed_ns, event.t_ns)
        changed: set[int] = set()
        match event:
            case ev.Start():
                self.start = event
            case ev.Probe():
                self.probe = event
            case ev.Decision():
                self.decisions.append(event)
            case ev.Progress():
                self.progress = event
            case ev.TimerState() if event.timer_kind == "posix":  # the gap map: POSIX IDs
                for tid in event.ids:
                    self.states[tid] = _STATE_OF[event.state]
                    if event.state == "failed":
                        self.details[tid] = event.detail or f"errno {event.errno}"
                changed.update(event.ids)
            case ev.Phase():
                self.phases[event.name] = event.ns
            case ev.Verify():
                self.equal_ids = event.equal_ids
                self.other_checks = tuple(c for c in event.checks if c.timer_kind != "posix")
                self.differing = {
                    c.timer_id: c for c in event.checks if c.timer_kind == "posix" and not c.equal
                }
                states = self.states
                for tid in event.equal_ids:
                    if states.get(tid) != "failed":
                        states[tid] = "verified"
                        changed.add(tid)
                for tid, check in self.differing.items():
                    if states.get(tid) != "failed":
                        states[tid] = "differs"
                        self.details[tid] = diff_text(check)
                        changed.add(tid)
            case ev.Done():
                self.done = event
                self.elapsed_ns = max(self.elapsed_ns, event.wall_ns)
            case ev.Expiration() if event.timer_kind == "posix":
                self.expirations[event.timer_id] = event.total
                if self.states.get(event.timer_id) != "failed":
                    self.details[event.timer_id] = f"fired {event.total:,} times"
                    changed.add(event.timer_id)
            case ev.Error():
                self.error = event
        return changed

    @property
    def finished(self) -> bool:
        return self.error is not None or (self.done is not None and not self.done.holding)

    @property
    def holding(self) -> bool:
        return self.done is not None and self.done.holding and self.error is None

    @property
    def released(self) -> bool:
        """A held target was let go (its run "cancelled" after it had restored)."""
        held = self.done is not None and self.done.holding
        return held and self.error is not None and self.error.code == "cancelled"

    @property
    def ok(self) -> bool:
        return self.done is not None and self.done.ok and (self.error is None or self.released)

    @property
    def mode(self) -> str:
        """exact or walk once the run has chosen, else what was asked."""
        if self.done is not None and self.done.mode:
            return self.done.mode
        for decision in self.decisions:
            if decision.code in ("exact-mode", "walk-mode"):
                return decision.code.removesuffix("-mode")
        return self.start.mode if self.start else ""

    @property
    def reached(self) -> int:
        """The highest ID the create phase has reached (-1 before it starts)."""
        if self.done is not None and self.done.ok:
            return self.ids[-1] if self.ids else -1
        return self.progress.current_id if self.progress else -1

    @property
    def walked(self) -> int:
        """The highest ID the walk has run the kernel's counter through; exact mode jumps
        straight to each ID and walks nothing (-1)."""
        return -1 if self.mode == "exact" else self.reached

    @property
    def fraction(self) -> float:
        """How far the create phase is, 0..1: through the ID space for a walk, through the
        timers in exact mode."""
        if not self.ids:
            return 1.0 if self.done else 0.0
        if self.mode == "exact":
            if self.done is not None and self.done.ok:
                return 1.0
            done = self.progress.timers_done if self.progress else 0
            return done / len(self.ids)
        return min(1.0, max(0, self.reached + 1) / (self.ids[-1] + 1))

    @property
    def creates(self) -> int:
        if self.done is not None:
            return self.done.creates
        return self.progress.creates if self.progress else 0

    @property
    def deletes(self) -> int:
        if self.done is not None:
            return self.done.deletes
        return self.progress.deletes if self.progress else 0

    @property
    def outcome(self) -> str:
        if self.released:
            return "✓ released" if self.ok else "✗ released"
        if self.error is not None:
            return f"✗ {self.error.code}"
        if self.done is None:
            return "running" if self.start else "starting"
        if self.done.holding:
            return "✓ holding" if self.done.ok else "✗ holding"
        return "✓ verified" if self.done.ok else "✗ failed"


def diff_text(check: ev.TimerCheck) -> str:
    return "; ".join(d.text() for d in check.diffs)
