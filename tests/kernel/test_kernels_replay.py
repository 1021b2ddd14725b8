"""The counter allocator model replayed op by op against the real kernel (in a forked child;
never here): the same results, the same IDs held and the same counter after."""

from __future__ import annotations

import errno
import json
import os
from typing import Any

import pytest
from builders import SIGEVENTS, allocator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timertui.capture.host import probe_alarm_timers

WALK_BUDGET = 200_000  # real walks stop here; the generated IDs keep them far below it

# --------------------------------------------

Op = tuple[Any, ...]


def replay_in_model(ops: list[Op], alarm: bool) -> dict[str, Any]:
    a = allocator(alarm=alarm)
    results: list[Any] = []
    for op in ops:
        if op[0] == "prctl":
            results.append(a.prctl(op[1]))
        elif op[0] == "create":
            results.append(a.create(*SIGEVENTS[op[2]], want=op[1]))
        elif op[0] == "delete":
            results.append(a.delete(op[1]))
        else:
            w = a.walk(*SIGEVENTS[op[2]], want=op[1])
            last = -1 if w.last_id is None else w.last_id
            if w.result == "stuck":  # the real walk goes round until its budget runs out
                results.append([1, WALK_BUDGET, WALK_BUDGET, last])
            else:
                code = {"done": 0, "above": 2}.get(w.result, -w.errno)
                results.append([code, w.creates, w.deletes, last if code >= 0 else None])
    a.prctl(0)
    next_id = a.create(*SIGEVENTS["ok"])
    return {"results": results, "ids": sorted(a.ids), "next": next_id}


def replay_in_kernel(ops: list[Op]) -> dict[str, Any]:
    """The same ops in a forked child, on the real kernel."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(read_end)
            data = json.dumps(_replay_here(ops)).encode()
            while data:
                data = data[os.write(write_end, data) :]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    result: dict[str, Any] = json.loads(b"".join(chunks))
    return result


def _replay_here(ops: list[Op]) -> dict[str, Any]:  # pragma: no cover - runs in the child
    from timertui import _native
    from timertui._native import PR_TIMER_CREATE_RESTORE_IDS, ffi, lib
    from timertui.capture.proc_timers import read_timers

    def spec(want: int, kind: str) -> Any:
        return _native.make_spec(*SIGEVENTS[kind], 0, want_id=want)

    results: list[Any] = []
    for op in ops:
        if op[0] == "prctl":
            results.append(int(lib.tt_prctl(PR_TIMER_CREATE_RESTORE_IDS, op[1])))
        elif op[0] == "create":
            slot = ffi.new("int *", op[1])
            ret = int(lib.tt_timer_create(spec(op[1], op[2]), slot))
            results.append(ret if ret else int(slot[0]))
        elif op[0] == "delete":
            results.append(int(lib.tt_timer_delete(op[1])))
        else:
            state = ffi.new("struct tt_walk_state *")
            state.last_id = -1
            ret = int(lib.tt_walk(spec(op[1], op[2]), WALK_BUDGET, state))
            last = int(state.last_id) if ret >= 0 else None
            results.append([ret, int(state.creates), int(state.deletes), last])
    lib.tt_prctl(PR_TIMER_CREATE_RESTORE_IDS, 0)
    slot = ffi.new("int *")
    ret = int(lib.tt_timer_create(spec(0, "ok"), slot))
    ids = sorted(t.id for t in read_timers(os.getpid()).timers)
    return {"results": results, "ids": ids, "next": ret if ret else int(slot[0])}


small_id = st.integers(0, 3000)
kind = st.sampled_from(sorted(SIGEVENTS))
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("prctl"), st.sampled_from([0, 1, 1, 2, 3])),
        st.tuples(st.just("create"), st.one_of(small_id, st.just(-1)), kind),
        st.tuples(st.just("delete"), small_id),
        st.tuples(st.just("walk"), small_id, st.sampled_from(["ok", "ok", "ok", "alarm", "raw"])),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops_strategy)
def test_counter_allocator_matches_the_kernel_op_by_op(
    needs_exact_ids: None, ops: list[Op]
) -> None:
    """Creates (plain and exact, failing before and after the ID is taken), deletes, the
    prctl and whole walks: the same results, the same IDs held and the same counter after."""
    alarm = probe_alarm_timers().ok
    assert replay_in_model(ops, alarm) == replay_in_kernel(ops)


def test_error_order_measured_on_this_kernel(needs_exact_ids: None) -> None:
    """The replay above sees these too; spelled out: which failures use up a counter value."""
    if probe_alarm_timers().ok:
        pytest.skip("alarm clocks work here: the after-the-ID EOPNOTSUPP case does not occur")
    ops: list[Op] = [("create", 0, k) for k in ("ok", "alarm", "raw", "badsig", "badclock")]
    real = replay_in_kernel(ops)
    assert real["results"] == [0, -errno.EOPNOTSUPP, -errno.EOPNOTSUPP, -errno.EINVAL, -22]
    assert real["next"] == 3  # 0 kept; alarm used 1 and badsig 2; raw and badclock none
    assert replay_in_model(ops, alarm=False) == real
