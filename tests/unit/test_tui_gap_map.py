"""The gap map's worst state per cell, kept up to date from the timers that changed, agrees with
working it out afresh."""

from __future__ import annotations

import random

from timertui.tui.widgets.gap_map import _RANK, _rank, _WorstStates


def afresh(ids: list[int], states: dict[int, str], width: int) -> dict[int, int]:
    worst: dict[int, int] = {}
    for tid in ids:
        bucket = tid // width
        worst[bucket] = min(worst.get(bucket, len(_RANK)), _rank(states, tid))
    return worst


def test_updates_agree_with_a_full_count() -> None:
    rng = random.Random(7)
    ids = sorted(rng.sample(range(100_000), 3_000))
    states: dict[int, str] = dict.fromkeys(ids, "pending")
    worst = _WorstStates(ids, states)
    totals = [0] * (max(ids) // 997 + 1)
    for tid in ids:
        totals[tid // 997] += 1
    worst.rebin(997, totals, states)
    for _ in range(200):
        changed = set(rng.sample(ids, rng.randint(1, 50)))
        for tid in changed:
            states[tid] = rng.choice(_RANK)
        worst.update(states, changed)
        assert dict(worst.cells()) == afresh(ids, states, 997)
    worst.update(states, {123_456_789})  # an ID not in the plan changes nothing
    assert dict(worst.cells()) == afresh(ids, states, 997)
