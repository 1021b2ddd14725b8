"""10,000 mutated checkpoint archives (stress/fuzz_archives.py, the same target `make stress`
runs with 100,000): each is accepted (and survives the restore planner) or refused with the
archive's, the source's or CRIU's InputError in one line naming the archive; never another
exception, a hang or an allocation past RLIMIT_AS."""

from __future__ import annotations

from pathlib import Path

from archives import PODMAN_ARCHIVE, fixture

from stress import fuzz
from stress.fuzz_archives import ArchiveTarget

CASES = 10_000


def test_ten_thousand_mutated_archives(tmp_path: Path) -> None:
    tally = fuzz.run(ArchiveTarget(tmp_path, fixture(PODMAN_ARCHIVE)), CASES, seed=12)
    shown = [(f.kind, f.label, f.detail) for f in tally.failures[:5]]
    assert tally.failures == [], shown
    # Both ways out were taken many times: the mutations reach past the first check.
    assert tally.accepted > CASES // 50 and tally.rejected > CASES // 2, tally
    assert tally.slowest_ns < fuzz.CASE_LIMIT_S * 1e9
