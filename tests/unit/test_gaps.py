"""Gap analysis and the legacy walk's cost, checked by hand and against a step-by-step model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timertui import gaps
from timertui.errors import InputError
from timertui.model import INT_MAX


def test_seed_case_from_counter_zero() -> None:
    report = gaps.analyze([2_000_000, 1_000_000])
    assert report.ids == (1_000_000, 2_000_000)
    assert report.walk.creates == 2_000_001
    assert report.walk.deletes == 1_999_999
    assert not report.walk.wrap_needed
    assert report.walk.wrap_extra_creates == 0
    assert report.walk.end_counter == 2_000_001
    assert report.gaps == (gaps.Gap(0, 1_000_000), gaps.Gap(1_000_001, 999_999))
    assert report.largest_gap == gaps.Gap(0, 1_000_000)
    assert report.largest_gap.end == 999_999
    assert report.density == pytest.approx(2 / 2_000_001)


def test_dense_ids_have_no_gaps_and_no_deletes() -> None:
    report = gaps.analyze([0, 1, 2, 3])
    assert report.gaps == ()
    assert report.largest_gap is None
    assert report.density == 1.0
    assert (report.walk.creates, report.walk.deletes) == (4, 0)


def test_gap_before_the_first_id_and_between() -> None:
    report = gaps.analyze([3, 4, 9])
    assert report.gaps == (gaps.Gap(0, 3), gaps.Gap(5, 4))
    assert report.largest_gap == gaps.Gap(5, 4)
    assert report.density == pytest.approx(3 / 10)


def test_counter_ahead_of_nothing_costs_only_the_distance() -> None:
    walk = gaps.analyze([10, 12], start_counter=7).walk
    # creates at 7, 8, 9, 10 (kept), 11, 12 (kept)
    assert (walk.creates, walk.deletes, walk.wrap_needed) == (6, 4, False)


def test_first_id_below_the_counter_needs_a_wrap() -> None:
    walk = gaps.analyze([5, 100], start_counter=50).walk
    assert walk.wrap_needed
    # 50..INT_MAX, then 0..5 for the first timer, then 6..100 for the second
    assert walk.wrap_extra_creates == INT_MAX + 1 - 50
    assert walk.creates == (INT_MAX + 1 - 50) + 101
    assert walk.deletes == walk.creates - 2
    assert walk.creates - walk.wrap_extra_creates == gaps.analyze([5, 100]).walk.creates


def test_counter_is_masked_like_the_kernel() -> None:
    walk = gaps.analyze([3], start_counter=(INT_MAX + 1) + 2).walk
    assert walk.start_counter == 2
    assert (walk.creates, walk.wrap_needed) == (2, False)


def test_id_at_int_max_wraps_the_end_counter() -> None:
    walk = gaps.analyze([INT_MAX], start_counter=INT_MAX).walk
    assert (walk.creates, walk.deletes, walk.end_counter) == (1, 0, 0)


def test_no_ids() -> None:
    report = gaps.analyze([], start_counter=5)
    assert report.gaps == () and report.density == 0.0
    assert report.walk == gaps.WalkCost(5, 0, 0, False, 0, 5)


@pytest.mark.parametrize(
    ("ids", "message"),
    [([1, 1], "duplicate timer ID 1"), ([-1, 3], "timer ID -1"), ([INT_MAX + 1], "outside")],
)
def test_bad_ids_are_input_errors(ids: list[int], message: str) -> None:
    with pytest.raises(InputError, match=message):
        gaps.analyze(ids)


def _step_walk(ids: set[int], counter: int, id_max: int) -> tuple[int, int, bool]:
    """CRIU's walk against the kernel's allocator, one timer_create at a time: creates,
    deletes, and whether the counter ran past id_max."""
    space = id_max + 1
    start = counter
    in_use: set[int] = set()
    creates = deletes = 0
    for want in sorted(ids):
        while True:
            got = counter % space
            counter += 1
            if got in in_use:
                continue  # the kernel skips IDs in use without creating
            creates += 1
            if got == want:
                in_use.add(got)
                break
            deletes += 1
    wrapped = counter > start and (counter - 1) // space > start // space
    return creates, deletes, wrapped


@settings(max_examples=300, deadline=None)
@given(data=st.data(), id_max=st.integers(min_value=0, max_value=40))
def test_closed_form_equals_step_simulation(data: st.DataObject, id_max: int) -> None:
    ids = data.draw(st.sets(st.integers(0, id_max), max_size=id_max + 1), label="ids")
    counter = data.draw(st.integers(0, 3 * (id_max + 1)), label="counter")
    walk = gaps.analyze(ids, counter, id_max=id_max).walk
    creates, deletes, wrapped = _step_walk(ids, counter, id_max)
    assert (walk.creates, walk.deletes, walk.wrap_needed) == (creates, deletes, wrapped)
    from_zero, _, _ = _step_walk(ids, 0, id_max)
    assert walk.wrap_extra_creates == (creates - from_zero if wrapped else 0)


def test_bucketize_counts_per_bucket() -> None:
    assert gaps.bucketize([0, 1, 9, 10, 25], 10) == [3, 1, 1]
    assert gaps.bucketize([], 10) == []
    assert gaps.bucketize([4], 1) == [0, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="width"):
        gaps.bucketize([1], 0)


def test_bucket_width_fits_columns() -> None:
    assert gaps.bucket_width(99, 10) == 10
    assert gaps.bucket_width(100, 10) == 11
    assert gaps.bucket_width(3, 80) == 1


def test_gap_map_marks_every_occupied_bucket() -> None:
    picture = gaps.gap_map([0, 1_000_000, 2_000_000], columns=20)
    assert len(picture) == 20
    occupied = [i for i, ch in enumerate(picture) if ch != " "]
    assert occupied == [0, 9, 19]
    assert gaps.gap_map([0, 1, 2, 3], columns=4) == "████"
    assert gaps.gap_map([]) == ""
