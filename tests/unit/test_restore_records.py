"""The restore path's data classes (model, events, plan, snapshot_file.Problem) are timertui.model
records: frozen dataclasses to every caller, defined without dataclasses' start-up cost."""

from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from builders import PID, armed, process, timer

from timertui import snapshot_file
from timertui.capture.host import capture_times, host_facts
from timertui.clocks import CpuClockType, make_cpu_clock
from timertui.model import Snapshot, Timer, TimerValues
from timertui.records import column, columns, record, record_tuple
from timertui.restore import events as ev
from timertui.restore.plan import RestorePlan, TargetSpec, build_plan
from timertui.restore.wire import WireError, from_wire, to_wire


def test_construction_defaults_and_the_errors_a_call_gives() -> None:
    t = Timer(1, 2, 3, 4, 5, 6)
    assert t.values is None
    assert t == Timer(id=1, clock=2, notify=3, target=4, signo=5, sigval=6, values=None)
    assert Timer(1, 2, 3, 4, 5, 6, values=TimerValues(7, 8, 9)).values == TimerValues(7, 8, 9)
    with pytest.raises(TypeError, match="missing required arguments: 'signo', 'sigval'"):
        Timer(1, 2, 3, 4)
    with pytest.raises(TypeError, match="takes 8 positional arguments but 9 were given"):
        Timer(1, 2, 3, 4, 5, 6, None, 8)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Timer(1, 2, 3, 4, 5, 6, bogus=1)
    with pytest.raises(TypeError, match="multiple values for argument 'id'"):
        Timer(1, 2, 3, 4, 5, 6, id=1)
    with pytest.raises(TypeError, match="non-default field 'b' after a default"):

        @record
        class _Bad:
            a: int = 0
            b: int


def test_equality_hash_and_repr_as_a_dataclass_gives_them() -> None:
    a, b = ev.Phase(5, "create", 7), ev.Phase(5, "create", 7)
    assert a == b and hash(a) == hash(b)
    assert a != ev.Phase(5, "create", 8)
    # Same values, other class: never equal (a tuple or namedtuple would be).
    assert ev.Error(1, "x", 2) != ev.Phase(1, "x", 2)  # type: ignore[arg-type]
    assert a != (5, "create", 7)
    assert repr(a) == "Phase(t_ns=5, name='create', ns=7)"
    done = ev.Done(1, True, "exact", 2, 0, 8, {"create": 3}, 9, 2, 0, False)
    with pytest.raises(TypeError, match="unhashable"):
        hash(done)  # a dict field, as with dataclass(frozen=True)


def test_frozen() -> None:
    phase = ev.Phase(5, "create", 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        phase.ns = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del phase.name  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        phase.other = 1  # type: ignore[attr-defined]


def test_dataclasses_functions_work_on_records() -> None:
    decision = ev.Decision(0, "walk-mode", "why", "info")
    assert dataclasses.is_dataclass(decision) and dataclasses.is_dataclass(ev.Decision)
    names = [f.name for f in dataclasses.fields(ev.Decision)]
    # kind is a ClassVar
    assert names == ["t_ns", "code", "reason", "severity", "timer_id", "timer_kind"]
    assert dataclasses.replace(decision, t_ns=9) == ev.Decision(9, "walk-mode", "why", "info")
    t = Timer(1, 2, 3, 4, 5, 6, TimerValues(7, 8, 9))
    assert dataclasses.asdict(t)["values"] == {"remaining_ns": 7, "interval_ns": 8, "overrun": 9}


def test_columns_are_the_fields_in_order_however_the_records_were_made() -> None:
    made = [
        Timer(1, 2, 3, 4, 5, 6),  # a default filled in
        Timer(values=None, sigval=6, target=5, signo=4, notify=3, clock=2, id=7),  # keywords
        pickle.loads(pickle.dumps(Timer(8, 2, 3, 4, 5, 6, TimerValues(1, 2, 3)))),
        dataclasses.replace(Timer(9, 2, 3, 4, 5, 6), sigval=0),
    ]
    plan = build_plan(process([timer(1, values=armed(5000)), timer(9)]))
    assert plan.ids == (1, 9)  # a derived value stored after the fields is not a column
    got = columns(Timer, made)
    assert got == [tuple(getattr(t, f.name) for t in made) for f in dataclasses.fields(Timer)]
    assert columns(RestorePlan, [plan]) == [(getattr(plan, n),) for n in plan.__match_args__]
    assert columns(Timer, []) == [()] * len(dataclasses.fields(Timer))
    with pytest.raises(TypeError, match="another class"):
        columns(Timer, [made[0], TimerValues(1, 2, 3)])  # type: ignore[list-item]


def test_match_pickle_and_the_events_kind() -> None:
    match ev.Progress(1, "create", 2, 3, 4, 5, 6, 0, 1.5, -1):
        case ev.Progress(1, "create", timers_done=2):
            pass
        case _:
            pytest.fail("no match on positional and keyword patterns")
    start = ev.Start(1, "native", 2, 3, "comm", "auto", 4, 5, False, "6.18")
    assert pickle.loads(pickle.dumps(start)) == start
    assert start.kind == "start" and "kind" not in dataclasses.asdict(start)


def test_plan_records_equal_after_the_wire_and_a_cached_property() -> None:
    plan = build_plan(
        process([timer(1, values=armed(5000)), timer(9)]), target=TargetSpec(taken_ids=(3,))
    )
    again = from_wire(RestorePlan, to_wire(plan))
    assert plan.ids == (1, 9)  # cached in the instance: equality still compares fields only
    assert again == plan and plan == again
    assert RestorePlan(1, "x", (), (1,), ()).target == TargetSpec()


START_PATH = """
import sys
import timertui.commands.restore, timertui.restore.native.runner
from timertui import sources
from timertui.restore import events as ev
from timertui.restore.native.handover import encode_plan
from timertui.restore.plan import build_plan
snap = sources.open_source(sys.argv[1])
encode_plan(build_plan(snap.processes[0]))  # as it goes to the prestarted worker
ev.decode(ev.encode(ev.Verify(1, (), (0, 1))))  # the event decoders, built
heavy = ("pathlib", "_hashlib", "tempfile", "threading", "timertui.capture.host",
         "dataclasses", "inspect", "typing", "re", "enum", "contextlib", "_pickle", "functools",
         "msgpack", "datetime")
found = sorted(m for m in heavy if m in sys.modules)
import json  # only now: it loads re
print(json.dumps(found))
"""


def test_the_restore_start_path_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    """What `timertui restore FILE` imports before its worker runs: loading a snapshot,
    planning, handing a small plan over and reading events need no pathlib, OpenSSL, tempfile,
    threading or capture.host, no typing, re, enum or contextlib (mypy sees the annotations
    through TYPE_CHECKING blocks; the records' Choice stands in for enum), no pickle, and no
    msgpack (nor the datetime module it loads) for a small snapshot or the worker's events."""
    path = tmp_path / "two.ttsnap"
    proc = process([timer(1, values=armed(5000)), timer(2)])
    snapshot_file.save(Snapshot(host_facts(probe=False), capture_times(), (proc,)), path)
    out = subprocess.run(
        [sys.executable, "-c", START_PATH, str(path)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


DECODE = """
import json, sys
from timertui.restore.plan import RestorePlan
from timertui.restore.wire import from_wire
plan = from_wire(RestorePlan, json.load(sys.stdin))
remap = plan.timers[0].clock_remap
print(json.dumps([type(remap.type).__name__, int(remap.type)]))
"""


def test_a_plan_with_a_cpu_clock_decodes_in_a_fresh_process() -> None:
    plan = build_plan(process([timer(1, clock=make_cpu_clock(PID, CpuClockType.VIRT))]))
    out = subprocess.run(
        [sys.executable, "-c", DECODE],
        input=json.dumps(to_wire(plan)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == ["CpuClockType", int(CpuClockType.VIRT)]


def test_build_records_makes_what_the_constructor_makes() -> None:
    from timertui.records import build_records, records_from_rows

    values = build_records(TimerValues, [5, 6], [0, 10], [0, 1])
    assert values == [TimerValues(5, 0, 0), TimerValues(6, 10, 1)]
    timers = build_records(Timer, [1, 2], [0, 1], [0, 0], [9, 9], [34, 35], [0, 7], values)
    assert timers == [Timer(1, 0, 0, 9, 34, 0, values[0]), Timer(2, 1, 0, 9, 35, 7, values[1])]
    assert hash(timers[0]) == hash(Timer(1, 0, 0, 9, 34, 0, values[0]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        timers[0].id = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="2 columns for 3 fields"):
        build_records(TimerValues, [1], [2])
    with pytest.raises(ValueError, match="zip"):
        build_records(TimerValues, [1], [2], [])
    with pytest.raises(TypeError, match="a row without exactly 3 fields"):
        records_from_rows(TimerValues, [(1, 2, 3), (1, 2)])


def test_event_json_is_what_json_dumps_writes() -> None:
    events: list[ev.Event] = [
        ev.Start(1, "native", 2, 3, "prog ü\n", "auto", 2, 7, False, "6.18", 9),
        ev.Decision(4, "id-busy", "timer 7: «taken»", "error", None),
        ev.Progress(5, "create", 1, 2, 3, 7, 3, 2, float("inf"), -1),
        ev.Progress(6, "create", 1, 2, 3, 7, 3, 2, 1.5e6, 10),
        ev.Verify(7, (ev.TimerCheck(1, (ev.FieldDiff("signo", 34, 35),)),), (7,)),
        ev.Done(8, True, "exact", 2, 0, 9, {"create": 5, "verify": 6}, 11, 2, 0, False),
    ]
    for event in events:
        assert ev.to_json(event) == json.dumps(ev.encode(event), separators=(",", ":"))
    with pytest.raises(TypeError, match="not JSON serializable"):
        ev.to_json(ev.Error(1, "cancelled", object()))  # type: ignore[arg-type]


def test_choice_is_what_enum_is_to_its_callers() -> None:
    """model.Access (a Choice) and clocks.CpuClockType (an IntChoice) act as the enums they
    stand for, without the enum module."""
    import copy
    import pickle

    from timertui.model import Access

    assert list(Access) == [Access.OK, Access.GONE, Access.NO_ACCESS, Access.NO_TIMERS_FILE]
    assert len(Access) == 4 and Access("gone") is Access.GONE and Access(Access.OK) is Access.OK
    assert (Access.NO_ACCESS.name, Access.NO_ACCESS.value) == ("NO_ACCESS", "no access")
    assert repr(Access.OK) == "<Access.OK: 'ok'>" and str(Access.OK) == "Access.OK"
    assert Access.OK != "ok" and {Access.OK: 1}[Access.OK] == 1
    with pytest.raises(ValueError, match="'nope' is not a valid Access"):
        Access("nope")
    for member in (Access.GONE, CpuClockType.SCHED):
        assert pickle.loads(pickle.dumps(member)) is member
        assert copy.deepcopy(member) is member and copy.copy(member) is member
    assert (
        CpuClockType.SCHED == 2 and int(CpuClockType.PROF) == 0 and CpuClockType(1).name == "VIRT"
    )
    assert f"{CpuClockType.VIRT}|{CpuClockType.VIRT:>3}" == "1|  1"
    with pytest.raises(ValueError):
        CpuClockType(3)


def test_a_tuple_of_scalars_decodes_in_one_pass_and_names_a_wrong_item() -> None:
    state = ev.TimerState(1, "created", tuple(range(10_000)))
    wire = json.loads(json.dumps(to_wire(state)))  # lists, as msgpack and JSON give them
    decoded = from_wire(ev.TimerState, wire)
    assert decoded == state and type(decoded.ids) is tuple
    with pytest.raises(WireError, match="expected int, got 'x'"):
        from_wire(ev.TimerState, {**wire, "ids": [1, "x"]})
    with pytest.raises(WireError, match="expected tuple"):
        from_wire(ev.TimerState, {**wire, "ids": 5})


def test_a_record_tuple_is_a_tuple_that_keeps_its_columns() -> None:
    ids, remaining = [3, 1], (5, 6)
    values = record_tuple(TimerValues, remaining, [0, 0], [0, 0])
    made = record_tuple(Timer, ids, [1, 1], [0, 0], [9, 9], [34, 34], [0, 0], values)
    assert made == (Timer(3, 1, 0, 9, 34, 0, values[0]), Timer(1, 1, 0, 9, 34, 0, values[1]))
    assert hash(made) == hash(tuple(made)) and made[:1] == (made[0],)
    assert columns(Timer, made)[0] == (3, 1) and columns(Timer, made)[6] is values
    assert columns(TimerValues, values)[0] is remaining  # kept, not made again
    assert column(TimerValues, values, "remaining_ns") is remaining
    assert column(TimerValues, tuple(values), "remaining_ns") == [5, 6]  # made by a pass
    assert type(pickle.loads(pickle.dumps(made))) is tuple  # the columns stay behind
    assert pickle.loads(pickle.dumps(made)) == made
    assert to_wire(made) == to_wire(tuple(made))
