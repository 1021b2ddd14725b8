"""Folding a restore's events into what the screens show (pure, no app)."""

from __future__ import annotations

from builders import demo_process, walk_events

from timertui.restore import events as ev
from timertui.tui.run_view import RunView


def fold(events: list[ev.Event]) -> RunView:
    view = RunView(tuple(sorted(t.id for t in demo_process().timers)))
    for event in events:
        view.apply(event)
    return view


def test_mid_walk_view() -> None:
    view = fold(walk_events(demo_process(), 0.4, finish=False))
    assert view.mode == "walk" and view.outcome == "running" and not view.finished
    assert view.reached == 800_000 == view.walked
    assert 0.39 < view.fraction < 0.41
    assert view.states[17] == "created" and view.states[1_000_000] == "pending"
    assert view.creates == 800_001


def test_finished_walk_view() -> None:
    view = fold(walk_events(demo_process(), 1.0, finish=True))
    assert view.finished and view.outcome == "✓ verified" and view.fraction == 1.0
    assert set(view.states.values()) == {"verified"}
    assert view.creates == 2_000_001 and view.deletes == 2_000_001 - 12


def test_failures_differences_cancel_and_exact() -> None:
    ids = (0, 5, 9)
    view = RunView(ids)
    view.apply(ev.Decision(1, "exact-mode", "exact", "info"))
    view.apply(ev.Progress(2, "create", 1, 3, 9, 9, 1, 0, 0.0, -1))
    assert view.walked == -1  # exact mode walks nothing
    assert view.fraction == 1 / 3  # through the timers, not the ID space
    view.apply(ev.TimerState(3, "failed", (5,), 16, "EBUSY"))
    diff = ev.TimerCheck(9, (ev.FieldDiff("sigval", 1, 2),))
    changed = view.apply(ev.Verify(4, (diff,), (0, 5)))
    assert changed == {0, 9}  # a failed timer stays failed
    assert view.states == {0: "verified", 5: "failed", 9: "differs"}
    assert view.details == {5: "EBUSY", 9: "sigval: want 1, got 2"}
    view.apply(ev.Error(5, "cancelled", "restore cancelled"))
    assert view.finished and view.outcome == "✗ cancelled"


def test_hold_is_not_finished_until_released() -> None:
    view = RunView((0,))
    view.apply(ev.Done(1, True, "exact", 1, 0, 3, {}, 1, 1, 0, True))
    assert view.holding and not view.finished and view.outcome == "✓ holding"
    assert view.apply(ev.Expiration(2, 0, 3, 3, 0)) == {0}
    assert view.expirations == {0: 3} and view.details[0] == "fired 3 times"
    view.apply(ev.Error(3, "cancelled", "restore cancelled in the hold phase"))
    assert view.finished and view.released and view.ok and view.outcome == "✓ released"
