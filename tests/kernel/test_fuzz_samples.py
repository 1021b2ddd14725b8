"""10,000 mutated real samples per decoder of outside input (stress/fuzz.py, the same code
`make stress` runs with 100,000), in two processes side by side. The samples are the CRIU
fixture and this host's live processes, the demo workload's zoo among them (so: the kernel).
Each case is accepted (and survives `inspect` and the restore planner) or refused with the
target's InputError subclass in one line naming the input; no other exception, no hang, no
allocation past RLIMIT_AS (mapped + 1 GiB)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import recorded
from command_line import ROOT

from stress import fuzz

CASES = 10_000
# Two processes, the slow CRIU images beside the rest.
GROUPS = (("images", "timers"), ("json", "snapshot"))


@pytest.fixture(scope="module")
def tallies() -> dict[str, dict[str, Any]]:
    recorded.stress_ng()
    command = [sys.executable, "-m", "stress", "--json", "fuzz", "--cases", str(CASES), "--only"]
    runs = [
        subprocess.Popen(
            [*command, ",".join(group)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for group in GROUPS
    ]
    found = {}
    for proc in runs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1) and out, err
        for tally in json.loads(out):
            found[tally["name"]] = tally
    return found


@pytest.mark.parametrize("key", ["snapshot", "images", "json", "timers"])
def test_ten_thousand_mutated_samples(tallies: dict[str, dict[str, Any]], key: str) -> None:
    from stress.__main__ import FUZZ_KEYS

    tally = tallies[FUZZ_KEYS[key]]
    shown = [(f["kind"], f["label"], f["detail"]) for f in tally["failures"][:5]]
    assert tally["failures"] == [], shown
    assert tally["cases"] == CASES
    # Both ways out were taken many times: the mutations reach past the first check.
    assert tally["accepted"] > CASES // 50 and tally["rejected"] > CASES // 2, tally
    assert tally["slowest_ns"] < fuzz.CASE_LIMIT_S * 1e9
