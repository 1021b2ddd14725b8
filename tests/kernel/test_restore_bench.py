"""bench/restore.py runs: its C reference builds, both sides restore the same IDs, and the table
prints the ratios. Small IDs and one repeat, so it takes about a second."""

from __future__ import annotations

from pathlib import Path

from bench import restore as bench
from timertui import cli


def test_bench_measures_both_sides_and_reports(needs_exact_ids: None) -> None:
    assert "restore" in cli.COMMANDS, "timertui.commands.restore is not wired into the CLI"
    rows, floors = bench.measure([bench.Case("small", (3, 2_000), 1, 1)])
    measures = [r.measure for r in rows]
    assert measures == [
        "exact create phase",
        "walk per iteration",
        "command start to verified, median",
        "command start to exit, median",
    ]
    walk = rows[1]
    assert walk.ours_ns > 0 and walk.ref_ns > 0
    assert walk.met is not None
    verified, exited = rows[2], rows[3]
    assert 0 < verified.ours_ns < exited.ours_ns
    marks = list(bench.BREAKDOWNS["small"].values())
    assert 0 < marks[0] < marks[1] < marks[2] == verified.ours_ns
    text = bench.report(rows, floors)
    assert "walk per iteration" in text
    assert "python -c pass" in text
    assert "small end to end, medians from exec: run started" in text
    assert "python -I -S -c pass, in turns with the small command" in text
    assert bench.PAIRED_FLOORS["small"] > 0
    assert "x" in text.splitlines()[1]


def test_reference_walk_counts_like_the_kernel(tmp_path: Path) -> None:
    ref = bench.build_ref(tmp_path)
    result = bench.ref_run(ref, "walk", (5, 9))
    assert (result["creates"], result["deletes"], result["ok"]) == (10, 8, 1)
