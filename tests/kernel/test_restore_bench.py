"""bench/restore.py runs: its C reference builds, both sides restore the same IDs, and the table
prints the ratios. Small IDs and one repeat, so it takes about a second."""

from __future__ import annotations

from pathlib import Path

from bench import restore as bench
from timertui.words import duration_text


def test_bench_measures_both_sides_and_reports(needs_exact_ids: None) -> None:
    rows, floors = bench.measure([bench.Case("small", (3, 2_000), 1, 1)])
    assert [(r.case, r.measure) for r in rows] == [
        ("small", "exact create phase"),
        ("small", "walk per iteration"),
        ("small", "command start to verified, median"),
        ("small", "command start to exit, median"),
    ]
    exact, walk, verified, exited = rows
    assert all(r.ours_ns > 0 and r.ref_ns > 0 for r in rows)
    # The goals: none for a small case's exact phase; the walk's judged by its ratio to C; the
    # command's by CRIU's whole restore of the seed process.
    assert (exact.goal, exact.met) == ("", None)
    assert walk.met == (walk.ours_ns <= bench.WALK_GOAL * walk.ref_ns)
    assert verified.met == (verified.ours_ns < bench.CRIU_RESTORE_NS)
    assert 0 < verified.ours_ns < exited.ours_ns
    assert verified.ref_ns == exited.ref_ns  # both beside the C program's whole restore
    marks = list(bench.BREAKDOWNS["small"].values())
    assert 0 < marks[0] < marks[1] < marks[2] == verified.ours_ns
    # The bare interpreter, run in turns with the command, starts and ends before it does.
    floor = bench.PAIRED_FLOORS["small"]
    assert 0 < floor < exited.ours_ns
    assert set(floors) == {"python -c pass", bench.FLOOR}
    text = bench.report(rows, floors)
    (walk_line,) = [line for line in text.splitlines() if "walk per iteration" in line]
    assert f"{walk.ours_ns / walk.ref_ns:.2f}x" in walk_line.split()
    assert f"floor: {bench.FLOOR}, in turns with the small command: {duration_text(floor)}" in text
    assert "small end to end, medians from exec: run started" in text


def test_reference_walk_counts_like_the_kernel(tmp_path: Path) -> None:
    ref = bench.build_ref(tmp_path)
    result = bench.ref_run(ref, "walk", (5, 9))
    assert (result["creates"], result["deletes"], result["ok"]) == (10, 8, 1)
