"""10,000 mutated CRIU logs (stress/fuzz_logs.py): each is read (and its report printed as text
and JSON) or refused with LogError in one line naming the file; never another exception, a
hang or an allocation past RLIMIT_AS."""

from __future__ import annotations

from pathlib import Path

import recorded

from stress import fuzz
from stress.fuzz_logs import LOGS, LogTarget

CASES = 10_000


def test_ten_thousand_mutated_logs(tmp_path: Path) -> None:
    if not LOGS[0].is_file():
        recorded.missing("CRIU log", LOGS[0])
    tally = fuzz.run(LogTarget(tmp_path), CASES, seed=14)
    shown = [(f.kind, f.label, f.detail) for f in tally.failures[:5]]
    assert tally.failures == [], shown
    assert tally.accepted > CASES // 2 and tally.rejected > 0, tally
