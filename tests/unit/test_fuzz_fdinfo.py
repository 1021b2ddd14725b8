"""10,000 mutated timerfd fdinfo texts (stress/fuzz_fdinfo.py, the same target `make stress`
runs with 100,000): each is a timerfd in range that the planner takes, not a timerfd's, or one
problem naming fdinfo/FD and its field; never an exception, a hang or a big allocation."""

from __future__ import annotations

from stress import fuzz
from stress.fuzz_fdinfo import FdinfoTarget

CASES = 10_000


def test_ten_thousand_mutated_fdinfo_texts() -> None:
    tally = fuzz.run(FdinfoTarget(), CASES, seed=13)
    shown = [(f.kind, f.label, f.detail) for f in tally.failures[:5]]
    assert tally.failures == [], shown
    assert tally.accepted > CASES // 50 and tally.rejected > CASES // 50, tally
    assert tally.slowest_ns < fuzz.CASE_LIMIT_S * 1e9
