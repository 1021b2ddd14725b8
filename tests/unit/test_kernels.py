"""The kernel ID-allocator models: profiles and their parameters, the ID set, the create errors
and the walks of each model. Their replay against the real kernel: test_kernels_replay.py."""

from __future__ import annotations

import errno

import pytest
from builders import SIGEVENTS, allocator
from hypothesis import given
from hypothesis import strategies as st

from timertui.model import INT_MAX, SIGEV_NONE, SIGEV_SIGNAL
from timertui.restore.sim.allocator import IdSet, create_errors
from timertui.restore.sim.profiles import (
    PROFILES,
    KernelError,
    KernelParams,
    format_ids,
    host_profile,
    parse_id_ranges,
    parse_kernel,
)

# -- profiles and parameters -----------------------------------------------------------------


def test_profile_names_and_host_profile() -> None:
    assert tuple(PROFILES) == ("6.15+", "3.10-6.14", "pre-3.10", "lowest-free")
    assert host_profile("6.18.44-fc") == "6.15+"
    assert host_profile("6.15.0") == "6.15+"
    assert host_profile("6.14.11-300.fc42.x86_64") == "3.10-6.14"
    assert host_profile("3.10.0-1160.el7") == "3.10-6.14"
    assert host_profile("2.6.32") == "pre-3.10"
    assert parse_kernel("").name == host_profile()


def test_parameters_parse_and_read_back() -> None:
    text = "3.10-6.14:counter=5000000,taken=7+10-12,sigpending=64,in-use=3,alarm=yes"
    kernel = parse_kernel(text)
    assert kernel.params == KernelParams(5_000_000, (7, 10, 11, 12), 64, 3, True)
    assert kernel.label == text
    assert parse_kernel(kernel.label) == kernel
    old = parse_kernel("pre-3.10:others=0-2+9,fillers=yes,sigpending=unlimited")
    assert old.params.others == (0, 1, 2, 9)
    assert old.params.sigpending == -1
    assert old.lowest_free and not old.exact_ids
    assert parse_kernel(old.label) == old


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5.4", "unknown kernel profile '5.4'"),
        ("6.15+:counter", "expected KEY=VALUE"),
        ("6.15+:speed=3", "unknown kernel parameter 'speed'"),
        ("6.15+:counter=-1", "is negative"),
        ("6.15+:counter=2147483648", "outside 0..2147483647"),
        ("6.15+:taken=9-3", "runs backwards"),
        ("6.15+:taken=0-2000000", "more than 1,000,000 IDs"),
        ("6.15+:taken=3+3", "listed twice"),
        ("6.15+:alarm=maybe", "expected yes or no"),
        ("6.15+:others=4", "only pre-3.10 shares IDs"),
        ("3.10-6.14:fillers=yes", "it needs no fillers"),
        ("lowest-free:counter=5", "has no ID counter"),
        ("pre-3.10:taken=4,others=4", "both taken and others'"),
    ],
)
def test_bad_profiles_are_one_line_input_errors(text: str, message: str) -> None:
    with pytest.raises(KernelError, match=message.replace("+", r"\+")):
        parse_kernel(text)


@given(st.lists(st.integers(0, 300), unique=True).map(sorted))
def test_id_lists_round_trip(ids: list[int]) -> None:
    assert parse_id_ranges(format_ids(ids)) == tuple(ids)


# -- the ID set ------------------------------------------------------------------------------


@given(
    st.sets(st.integers(0, 60), max_size=40),
    st.integers(0, 30),
    st.integers(0, 70),
    st.integers(0, 70),
)
def test_id_set_counts_like_a_plain_set(members: set[int], floor: int, a: int, b: int) -> None:
    ids = IdSet(members)
    ids.floor = floor
    full = members | set(range(floor))
    low, high = min(a, b), max(a, b)
    assert ids.count(low, high) == len([x for x in full if low <= x <= high])
    assert ids.free(low, high) == high - low + 1 - ids.count(low, high)
    assert ids.next_free(a) == min(x for x in range(a, 200) if x not in full)
    below = [x for x in range(a + 1) if x not in full]
    assert ids.prev_free(a) == (max(below) if below else None)
    assert all((x in ids) == (x in full) for x in range(80))
    if below:
        assert ids.nth_free(len(below)) == max(below)


def test_id_set_at_the_top_of_the_id_space() -> None:
    ids = IdSet([INT_MAX - 1, INT_MAX])
    assert ids.next_free(INT_MAX - 1) is None
    assert ids.prev_free(INT_MAX) == INT_MAX - 2
    assert ids.free(0, INT_MAX) == INT_MAX - 1


def test_create_errors_table() -> None:
    assert create_errors(1, SIGEV_NONE, 0, alarm=False) == (0, 0)
    assert create_errors(4, SIGEV_NONE, 0, alarm=True) == (errno.EOPNOTSUPP, 0)
    assert create_errors(10, SIGEV_NONE, 0, alarm=True) == (errno.EINVAL, 0)
    assert create_errors(1, SIGEV_SIGNAL, 65, alarm=True) == (0, errno.EINVAL)
    assert create_errors(1, 5, 0, alarm=True) == (0, errno.EINVAL)  # NONE | THREAD_ID
    assert create_errors(9, SIGEV_NONE, 0, alarm=False) == (0, errno.EOPNOTSUPP)
    assert create_errors(9, SIGEV_NONE, 0, alarm=True) == (0, 0)


# -- the computed walk -----------------------------------------------------------------------


def test_walk_is_computed_even_round_int_max() -> None:
    a = allocator("3.10-6.14")
    a.take(5)
    a.counter = 100
    above = a.walk(*SIGEVENTS["ok"], want=3)
    assert (above.result, above.creates, above.last_id) == ("above", 1, 100)
    cost = a.wrap_cost(100, 3)
    assert cost == (INT_MAX - 100) + 4  # 101..INT_MAX, then 0..3 (5 is not on the way)
    wrapped = a.walk(*SIGEVENTS["ok"], want=3, wrapping=True)
    assert (wrapped.result, wrapped.creates, wrapped.deletes) == ("done", cost, cost - 1)
    assert [(leg.first, leg.last) for leg in wrapped.legs] == [(101, INT_MAX), (0, 3)]
    assert a.ids == (3, 5)
    assert a.counter == 4


def test_walk_over_taken_ids_and_onto_one() -> None:
    a = allocator("3.10-6.14")
    for taken in (2, 3, 7):
        a.take(taken)
    walk = a.walk(*SIGEVENTS["ok"], want=6)
    assert (walk.result, walk.creates, walk.deletes) == ("done", 5, 4)  # 0 1 4 5 6
    onto = a.walk(*SIGEVENTS["ok"], want=7)
    assert (onto.result, onto.creates, onto.last_id) == ("above", 1, 8)


def test_rlimit_counts_every_held_timer() -> None:
    a = allocator("6.15+", limit=2)
    assert a.create(*SIGEVENTS["ok"]) == 0
    assert a.create(*SIGEVENTS["ok"]) == 1
    assert a.create(*SIGEVENTS["ok"]) == -errno.EAGAIN
    walk = a.walk(*SIGEVENTS["ok"], want=9)
    assert (walk.result, walk.errno, walk.creates) == ("failed", errno.EAGAIN, 0)


# -- lowest-free allocators ------------------------------------------------------------------


def test_lowest_free_walk_never_advances() -> None:
    """Why the walk cannot work there: a deleted ID is the lowest free one again."""
    a = allocator("lowest-free")
    first = a.create(*SIGEVENTS["ok"])
    assert a.delete(first) == 0
    assert a.create(*SIGEVENTS["ok"]) == first  # the same ID, every time
    a.delete(first)
    walk = a.walk(*SIGEVENTS["ok"], want=5)
    assert (walk.result, walk.last_id, a.ids) == ("stuck", 0, ())


def test_lowest_free_restore_needs_fillers_kept_alive() -> None:
    """What restoring needs instead: every free ID below the wanted one held by a filler,
    each taking a slot of RLIMIT_SIGPENDING until the end."""
    short = allocator("lowest-free", limit=4)
    failed = short.fill(*SIGEVENTS["ok"], want=5)
    assert (failed.result, failed.errno, failed.creates) == ("failed", errno.EAGAIN, 4)
    assert short.held == 4 and not short.room()
    enough = allocator("lowest-free", limit=6)
    done = enough.fill(*SIGEVENTS["ok"], want=5)
    assert (done.result, done.creates, done.deletes) == ("done", 6, 0)
    assert (enough.held, enough.fillers) == (6, 5)
    assert enough.drop_fillers() == 5
    assert enough.ids == (5,)
    assert enough.create(*SIGEVENTS["ok"]) == 0  # the fillers' IDs are free again


def test_pre_3_10_ids_are_shared_with_other_processes() -> None:
    a = allocator("pre-3.10", KernelParams(others=(0, 1, 3)))
    assert a.create(*SIGEVENTS["ok"]) == 2  # the lowest ID nobody on the system holds
    walk = a.walk(*SIGEVENTS["ok"], want=3)  # held by another process
    assert (walk.result, walk.last_id) == ("above", 4)
    assert a.prctl(1) == -errno.EINVAL
