"""Fuzzing of the decoders of outside input: the snapshot file, CRIU images / crit JSON (timerfd
and fdinfo entries among them), /proc/PID/timers text and timerfd fdinfo text.

- The fuzz runner (stress/fuzz.py) catches what it is there to catch; its 10,000 mutated real
  samples per target, live processes among them: tests/kernel/test_fuzz_samples.py.
- Hypothesis builds inputs of the right shape with wrong values, for the field decoders.
- Length fields claiming 4 GiB, and files that are huge, sparse or endless, under tracemalloc.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stress import fuzz
from timertui import criu, snapshot_file, sources
from timertui.capture.proc_timers import TimersParseError, parse_timers
from timertui.capture.timerfds import parse_timerfd
from timertui.errors import InputError
from timertui.model import INT_MAX, CaptureTimes, Snapshot
from timertui.restore.plan import PlanError, build_plan

HYPOTHESIS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GIB4 = 2**32


def test_the_runner_reports_what_it_is_there_to_catch(tmp_path: Path) -> None:
    """Not vacuous: a decoder that crashes, hangs, allocates or says too little is caught."""

    class Broken(fuzz.Target):
        name = "broken"
        error = InputError

        def case(self, rng: Any, mutator: fuzz.Mutator) -> fuzz.Case:
            def run() -> None:
                kind = rng.randrange(4)
                if kind == 0:
                    raise KeyError("oops")
                if kind == 1:
                    raise InputError("x: ?")
                if kind == 2:
                    return bytes(3 << 30)  # type: ignore[return-value]
                while True:
                    pass

            return fuzz.Case(run, "x: ", "any", b"")

    tally = fuzz.run(Broken(), 12, 1, limit_s=0.2)
    assert {f.kind for f in tally.failures} == {"crash", "message", "memory", "hang"}
    assert tally.accepted == tally.rejected == 0


# --- structure from hypothesis ------------------------------------------------------------------

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-3, 3), max_size=2),
)
_JSON_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(-3, 3), max_size=2),
)
_INT64 = st.one_of(
    st.integers(-5, 70), st.sampled_from([INT_MAX, 2**31, -(2**31) - 1, 2**63 - 1, 2**64 - 1])
)


def _mostly(
    valid: st.SearchStrategy[Any], junk: st.SearchStrategy[Any] = _JUNK
) -> st.SearchStrategy[Any]:
    """The valid value three times in four, anything else the fourth."""
    return st.one_of(valid, valid, valid, junk)


def _json(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return _mostly(valid, _JSON_JUNK)


def _columns(n: int) -> st.SearchStrategy[dict[str, Any]]:
    def column(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return _mostly(st.lists(values, min_size=n, max_size=n))

    base = {k: column(_INT64) for k in ("id", "clock", "notify", "target", "signo", "sigval")}
    deep = {
        k: column(st.one_of(st.none(), _INT64)) for k in ("remaining_ns", "interval_ns", "overrun")
    }
    return st.fixed_dictionaries(base, optional=deep)


_PROCESS = st.fixed_dictionaries(
    {
        "pid": _mostly(_INT64),
        "ppid": _mostly(_INT64),
        "comm": _mostly(st.text(max_size=8)),
        "cmdline": _mostly(st.lists(st.text(max_size=4), max_size=2)),
        "uid": _mostly(_INT64),
        "user": _mostly(st.text(max_size=4)),
        "status": _mostly(st.sampled_from(["sleeping", "zombie", ""])),
        "tids": _mostly(st.lists(_INT64, max_size=3)),
        "access": _mostly(st.sampled_from(["ok", "gone", "no access", "no timers file", "x"])),
        "timers": _mostly(st.integers(0, 4).flatmap(_columns)),
    },
    optional={"sigpending": _mostly(st.lists(_INT64, max_size=3)), "later": _JUNK},
)
_HOST = {
    "kernel_release": st.text(max_size=6),
    "boot_id": st.text(max_size=6),
    "hostname": st.text(max_size=6),
    "machine": st.text(max_size=6),
    "exact_ids": st.one_of(st.none(), st.booleans()),
    "sigpending_soft": _INT64,
    "sigpending_hard": _INT64,
}
_PAYLOAD = st.fixed_dictionaries(
    {
        "source": _mostly(st.text(max_size=6)),
        "host": _mostly(st.fixed_dictionaries({k: _mostly(v) for k, v in _HOST.items()})),
        "times": _mostly(
            st.fixed_dictionaries(
                {f"{k}_ns": _mostly(_INT64) for k in ("realtime", "monotonic")}
            ).map(lambda t: {**t, "boottime_ns": 5})
        ),
        "processes": _mostly(st.lists(_PROCESS, max_size=3)),
    }
)


def _refused(
    error: type[Exception] | tuple[type[Exception], ...], names: str, call: Callable[[], Any]
) -> Any:
    """call(); None when it refused with `error` in one line starting with `names`."""
    try:
        return call()
    except error as exc:
        problem = fuzz.message_problem(str(exc), names)
        assert problem is None, f"{problem}: {exc}"
        return None


@HYPOTHESIS
@given(_PAYLOAD)
def test_snapshot_fields_of_any_type_and_value(tree: dict[str, Any]) -> None:
    data = fuzz.seal(msgpack.packb(tree))
    snap = _refused(
        snapshot_file.SnapshotError, "h.ttsnap: ", lambda: snapshot_file.decode(data, "h.ttsnap")
    )
    if snap is None:
        return
    for problem in snapshot_file.validate(snap):
        assert problem.path.startswith("processes[") and problem.message
    fuzz.plan_each(snap)
    try:
        again = snapshot_file.encode(snap)
    except snapshot_file.SnapshotError:
        return
    assert snapshot_file.decode(again) == snap


_POSIX = st.fixed_dictionaries(
    {
        k: _json(v)
        for k, v in {
            "it_id": _INT64, "clock_id": _INT64, "si_signo": _INT64, "it_sigev_notify": _INT64,
            "sival_ptr": _INT64, "overrun": _INT64, "isec": _INT64, "insec": _INT64,
            "vsec": _INT64, "vnsec": _INT64,
        }.items()
    },
    optional={"notify_thread_id": _json(_INT64)},
)  # fmt: skip
_CORE_JSON = st.fixed_dictionaries(
    {
        "magic": _json(st.just("CORE")),
        "entries": _json(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "mtype": _json(st.sampled_from(["X86_64", "AARCH64", 1, 99])),
                        "tc": _json(
                            st.fixed_dictionaries(
                                {
                                    "task_state": _json(st.sampled_from(["Alive", 3, 9])),
                                    "comm": _json(st.text(max_size=6)),
                                    "timers": _json(
                                        st.fixed_dictionaries(
                                            {"posix": _json(st.lists(_POSIX, max_size=3))}
                                        )
                                    ),
                                }
                            )
                        ),
                    },
                    optional={"thread_core": st.fixed_dictionaries({"creds": _JSON_JUNK})},
                ),
                min_size=1,
                max_size=2,
            )
        ),
    }
)


# Well-formed core entries whose values go anywhere the field's type allows: these are accepted,
# so what comes after an import (validate, the planner) meets IDs past INT_MAX or given twice,
# clocks and signals no kernel takes, thread targets that are not there.
_U32 = st.one_of(st.integers(0, 40), st.integers(0, 2**32 - 1))
_IT_ID = st.one_of(st.integers(0, 3), st.integers(INT_MAX - 1, INT_MAX + 2), _U32)  # around INT_MAX
_SOUND_POSIX = st.fixed_dictionaries(
    {
        "it_id": _IT_ID,
        "clock_id": _U32,
        "si_signo": _U32,
        "it_sigev_notify": st.sampled_from([0, 1, 2, 4, 5]),
        "sival_ptr": st.integers(0, 2**64 - 1),
        "overrun": _U32,
        "isec": st.integers(0, 10**6),
        "insec": st.integers(0, 10**9 - 1),
        "vsec": st.integers(0, 10**6),
        "vnsec": st.integers(0, 10**9 - 1),
    },
    optional={"notify_thread_id": st.integers(0, 2**31 - 1)},
)
_SOUND_CORE_JSON = st.fixed_dictionaries(
    {
        "magic": st.just("CORE"),
        "entries": st.lists(
            st.fixed_dictionaries(
                {
                    "mtype": st.sampled_from(["X86_64", "AARCH64"]),
                    "tc": st.fixed_dictionaries(
                        {
                            "task_state": st.just("Alive"),
                            "comm": st.text(max_size=6),
                            "timers": st.fixed_dictionaries(
                                {"posix": st.lists(_SOUND_POSIX, min_size=1, max_size=4)}
                            ),
                        }
                    ),
                }
            ),
            min_size=1,
            max_size=1,
        ),
    }
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with fuzz_dir() as path:
        yield path


def fuzz_dir() -> Any:
    from stress.procs import scratch_dir

    return scratch_dir(on_disk=False)


# A CRIU import (images or crit JSON) that was accepted, as `inspect` and `restore` go on to use it.
_PROBLEM_PATH = re.compile(
    r"processes\[(\d+)\]\.(?:pid|timers\[(\d+)\]\.([a-z_.]+)|(?:timerfds|itimers)\[\d+\]\.[a-z_]+)"
)
# What the CRIU decoders range-check themselves: validate() never has to flag these.
_DECODER_CHECKED = {"sigval", "values.remaining_ns", "values.interval_ns"}


def _check_import(snap: Snapshot) -> None:
    """Each problem validate() finds names a process or timer that is there, never a field the
    decoder already checked; and the planner refuses a process exactly when validate() flags one
    of its timer IDs (out of range or twice), which `inspect` reports and `restore` cannot do."""
    problems = snapshot_file.validate(snap)
    flagged = set()
    for problem in problems:
        where = _PROBLEM_PATH.fullmatch(problem.path)
        assert where is not None and problem.message, problem
        index = int(where[1])
        assert index < len(snap.processes), problem
        if where[2] is not None:
            assert int(where[2]) < len(snap.processes[index].timers), problem
            assert where[3] not in _DECODER_CHECKED, problem
            if where[3] == "id":
                flagged.add(index)
    for index, proc in enumerate(snap.processes):
        try:
            build_plan(proc)
        except PlanError as exc:
            assert index in flagged, f"planner refused what validate() passed: {exc}"
        else:
            assert index not in flagged, f"planner took timer IDs validate() flags: {problems}"


@HYPOTHESIS
@given(st.one_of(_CORE_JSON, _SOUND_CORE_JSON))
def test_crit_json_of_any_shape(scratch: Path, doc: dict[str, Any]) -> None:
    path = scratch / "core-77.crit.json"
    path.write_text(json.dumps(doc))
    snap = _refused(fuzz.CritJsonTarget.error, str(path), lambda: sources.open_source(path))
    if snap is not None:
        _check_import(snap)


_TFD_VALUE = st.one_of(st.integers(-1, 2**65), st.sampled_from(["0x2", "x", "", None]))
_TFD_KEYS = ("id", "flags", "clockid", "ticks", "settime_flags", "vsec", "vnsec", "isec", "insec")
_FILE_ENTRY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["TIMERFD", "REG", 17, "NOPE", -1]),
        "id": _TFD_VALUE,
        "tfd": st.one_of(st.dictionaries(st.sampled_from(_TFD_KEYS), _TFD_VALUE), st.integers()),
    }
)
_FDINFO_ENTRY = st.fixed_dictionaries(
    {
        "id": _TFD_VALUE,
        "flags": _TFD_VALUE,
        "type": st.sampled_from(["TIMERFD", "REG", 17]),
        "fd": _TFD_VALUE,
    }
)


@HYPOTHESIS
@given(st.lists(_FILE_ENTRY, max_size=4), st.lists(_FDINFO_ENTRY, max_size=4))
def test_timerfd_entries_of_any_shape(
    scratch: Path, files: list[dict[str, Any]], fdinfo: list[dict[str, Any]]
) -> None:
    """files.json and fdinfo-2.json beside a sound core: a snapshot with problems, or one line."""
    d = scratch / "timerfds"
    d.mkdir(exist_ok=True)
    real = {"isec": 0, "iusec": 0, "vsec": 0, "vusec": 0}
    tc = {"task_state": 1, "comm": "x", "timers": {"real": real}}
    core = {"magic": "CORE", "entries": [{"mtype": "X86_64", "tc": tc}]}
    for name, doc in (
        ("core-77.json", core),
        ("files.json", {"magic": "FILES", "entries": files}),
        ("fdinfo-2.json", {"magic": "FDINFO", "entries": fdinfo}),
    ):
        (d / name).write_text(json.dumps(doc))
    snap = _refused(fuzz.CritJsonTarget.error, str(d), lambda: sources.open_source(d))
    if snap is not None:
        _check_import(snap)
        for proc in snap.processes:
            assert all(p and "\n" not in p for p in proc.problems)
            assert len({t.fd for t in proc.timerfds}) <= len(fdinfo)


_VARINT = st.integers(0, 2**64 - 1)


@st.composite
def _core_image(draw: st.DrawFn) -> bytes:
    """A core image built field by field; each field may be missing, repeated or mistyped."""

    sound = draw(st.booleans())  # each field once, of its type: accepted, values anywhere

    def fields(spec: dict[int, Any]) -> list[fuzz.Field]:
        out: list[fuzz.Field] = []
        for num, value in spec.items():
            for _ in range(1 if sound else draw(st.sampled_from([1, 1, 1, 0, 2]))):
                if not sound and draw(st.integers(0, 9)) == 0:
                    out.append((num, 2, draw(st.binary(max_size=6))))  # the wrong wire type
                elif isinstance(value, bytes):
                    out.append((num, 2, value))
                else:
                    out.append((num, 0, draw(value)))
        return out

    # it_id, clock_id, si_signo, it_sigev_notify, sival_ptr, overrun, isec, insec, vsec, vnsec,
    # notify_thread_id; a sound image keeps the nanoseconds below a second and times in range.
    sound_timer = {2: _U32, 3: _U32, 4: st.sampled_from([0, 1, 2, 4, 5])}
    sound_timer |= {1: _IT_ID, 5: _VARINT, 6: _U32}
    sound_timer |= {7: st.integers(0, 10**6), 8: st.integers(0, 10**9 - 1)}
    sound_timer |= {9: st.integers(0, 10**6), 10: st.integers(0, 10**9 - 1), 11: _U32}
    spec = sound_timer if sound else dict.fromkeys(range(1, 12), _VARINT)
    posix = [
        fuzz.pb_bytes(fields(dict(sorted(spec.items()))))
        for _ in range(draw(st.integers(1 if sound else 0, 3)))
    ]
    timers = fuzz.pb_bytes([(4, 2, p) for p in posix])
    comm = b"w" if sound else draw(st.binary(max_size=8))
    tc = fuzz.pb_bytes(fields({1: st.integers(0, 7), 6: comm, 7: timers}))
    core = fuzz.pb_bytes(fields({1: st.integers(0, 9), 3: tc}))
    return struct.pack("<II", criu.IMG_COMMON_MAGIC, criu.CORE_MAGIC) + fuzz.image_bytes(
        b"", [core]
    )


@HYPOTHESIS
@given(_core_image())
def test_core_images_of_any_fields(scratch: Path, core: bytes) -> None:
    directory = scratch / "img"
    directory.mkdir(exist_ok=True)
    pstree = fuzz.pb_bytes([(1, 0, 77), (2, 0, 0), (3, 0, 77), (4, 0, 77), (5, 0, 77)])
    head = struct.pack("<II", criu.IMG_COMMON_MAGIC, criu.PSTREE_MAGIC)
    (directory / "pstree.img").write_bytes(fuzz.image_bytes(head, [pstree]))
    (directory / "core-77.img").write_bytes(core)
    snap = _refused(
        fuzz.CriuImagesTarget.error, str(directory), lambda: sources.open_source(directory)
    )
    if snap is not None:
        _check_import(snap)


_NUMBER = st.one_of(
    st.integers(-(2**70), 2**70).map(str), st.sampled_from(["", "-", "0x1", "1e3", " 7", "(null)"])
)
_LINE = st.one_of(
    st.tuples(st.sampled_from(["ID: ", "ClockID: ", "Id: ", "ID:"]), _NUMBER).map("".join),
    st.tuples(_NUMBER, st.sampled_from(["", "0", "ffffffffffffffff", "1" * 17, "          (null)"]))
    .map(lambda p: f"signal: {p[0]}/{p[1]}"),
    st.tuples(st.sampled_from(["signal", "thread", "none", "both"]),
              st.sampled_from(["pid", "tid", "gid"]), _NUMBER)
    .map(lambda p: f"notify: {p[0]}/{p[1]}.{p[2]}"),
    st.text(st.characters(max_codepoint=255), max_size=12),
)  # fmt: skip


@HYPOTHESIS
@given(st.lists(_LINE, max_size=14), st.sampled_from(["\n", ""]))
def test_timers_text_of_any_lines(lines: list[str], ending: str) -> None:
    text = "\n".join(lines) + ending
    timers = _refused(TimersParseError, "t line ", lambda: parse_timers(text, "t"))
    if timers is not None:
        ids = [t.id for t in timers]
        assert len(set(ids)) == len(ids) and all(0 <= i <= INT_MAX for i in ids)
        assert len(timers) * 4 == len(text.split("\n")) - (text.endswith("\n") or text == "")


_FDINFO_KEYS = ["flags:\t", "clockid: ", "ticks: ", "settime flags: ", "it_value: ",
                "it_interval: "]  # fmt: skip
_FDINFO_LINE = st.one_of(
    st.tuples(st.sampled_from(_FDINFO_KEYS), _NUMBER).map("".join),
    st.tuples(st.sampled_from(_FDINFO_KEYS[4:]), _NUMBER, _NUMBER)
    .map(lambda p: f"{p[0]}({p[1]}, {p[2]})"),
    st.text(st.characters(max_codepoint=255), max_size=16),
)  # fmt: skip


@HYPOTHESIS
@given(st.lists(_FDINFO_LINE, max_size=10), st.integers(0, 2**20))
def test_timerfd_fdinfo_of_any_lines(lines: list[str], fd: int) -> None:
    """A timerfd, or one problem naming fdinfo/FD and the field, never an exception."""
    got = parse_timerfd("\n".join(lines), fd)
    if isinstance(got, str):
        assert got.startswith(f"fdinfo/{fd}.") and "\n" not in got
    else:
        assert got.fd == fd and got.remaining_ns >= 0 and got.interval_ns >= 0 and got.ticks >= 0


# --- lengths that claim 4 GiB, files that never end ----------------------------------------------


def _peak(call: Callable[[], Any]) -> tuple[BaseException | None, int]:
    """(what call() raised, the peak bytes it allocated)."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except Exception as exc:
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak


def _sample_file() -> bytes:
    return snapshot_file.encode(Snapshot(fuzz.NO_HOST, CaptureTimes(0, 0, 0), ()))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda d: d[:16] + struct.pack(">Q", GIB4) + d[24:], "header says 4294967296 payload"),
        (lambda d: d[:16] + b"\xff" * 8 + d[24:], "header says 18446744073709551615 payload"),
        (lambda d: fuzz.seal(b"\xdd\xff\xff\xff\xff"), "not valid msgpack"),  # array32
        (lambda d: fuzz.seal(b"\xdb\xff\xff\xff\xff"), "not valid msgpack"),  # str32
        (lambda d: fuzz.seal(b"\xc6\xff\xff\xff\xff"), "not valid msgpack"),  # bin32
        (lambda d: fuzz.seal(b"\xdf\xff\xff\xff\xff"), "not valid msgpack"),  # map32
        (lambda d: fuzz.seal(b"\x91" * 100_000), "not valid msgpack"),  # nested 100,000 deep
    ],
)
def test_snapshot_lengths_claiming_4_gib(build: Callable[[bytes], bytes], message: str) -> None:
    data = build(_sample_file())
    raised, peak = _peak(lambda: snapshot_file.decode(data, "f"))
    assert isinstance(raised, snapshot_file.SnapshotError) and message in str(raised), raised
    assert peak < len(data) + (1 << 20)


def _criu_copy(stress_ng_dir: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "img"
    shutil.copytree(stress_ng_dir, directory)
    for path in [directory, *directory.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return directory


def test_criu_lengths_claiming_4_gib(stress_ng_dir: Path, tmp_path: Path) -> None:
    directory = _criu_copy(stress_ng_dir, tmp_path)
    core = directory / "core-19876.img"
    head, (entry,) = fuzz.image_parts(core.read_bytes())
    claim = b"\x08\x01\x1a\x80\x80\x80\x80\x10"  # mtype 1, then tc claiming 4 GiB
    cases = [
        (head + b"\xff\xff\xff\xff" + entry, "claims 4294967295 bytes"),
        (fuzz.image_bytes(head, [claim + entry]), "claims 4294967296 bytes"),
    ]
    for data, message in cases:
        core.write_bytes(data)
        raised, peak = _peak(lambda: sources.open_source(directory))
        assert isinstance(raised, criu.CriuError), raised
        assert str(raised).startswith(f"{core}: ") and message in str(raised)
        assert peak < (1 << 20)


def test_deep_json_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "core-1.crit.json"
    path.write_text('{"magic": "CORE", "entries": ' + "[" * 200_000)
    raised, peak = _peak(lambda: sources.open_source(path))
    assert isinstance(raised, criu.CriuError) and "not valid JSON" in str(raised)
    assert "\n" not in str(raised) and peak < (64 << 20)


def test_a_huge_sparse_snapshot_is_refused_unread(tmp_path: Path) -> None:
    """Found by this suite: load() read the whole file before looking at its header, so an
    8 GiB sparse file ended in MemoryError (a traceback from the CLI)."""
    path = tmp_path / "big.ttsnap"
    path.write_bytes(_sample_file())
    with path.open("r+b") as f:
        f.truncate(8 << 30)
    raised, peak = _peak(lambda: snapshot_file.load(path))
    assert isinstance(raised, snapshot_file.SnapshotError)
    assert str(raised) == (
        f"{path}: damaged or truncated: the header says {len(_sample_file()) - 56} payload "
        f"bytes, the file holds {(8 << 30) - 56}"
    )
    assert peak < (1 << 20)


@pytest.mark.parametrize("kind", ["dev-zero", "sparse"])
def test_endless_or_huge_criu_files_are_refused(
    stress_ng_dir: Path, tmp_path: Path, kind: str
) -> None:
    """Found by this suite: an image directory with pstree.img -> /dev/zero (or an 8 GiB sparse
    core image) was read until memory ran out."""
    directory = _criu_copy(stress_ng_dir, tmp_path)
    if kind == "dev-zero":
        victim = directory / "pstree.img"
        victim.unlink()
        victim.symlink_to("/dev/zero")
    else:
        victim = directory / "core-19876.img"
        with victim.open("r+b") as f:
            f.truncate(8 << 30)
    raised, peak = _peak(lambda: sources.open_source(directory))
    if kind == "dev-zero":  # a device is refused before it is opened
        assert isinstance(raised, InputError)
        assert str(raised) == f"{victim}: not a regular file or directory"
    else:
        assert isinstance(raised, criu.CriuError)
        assert str(raised).startswith(f"{victim}: larger than 64 MiB")
    assert peak < (65 << 20)


def test_guarded_limits_address_space_and_restores_it() -> None:
    before = fuzz.resource.getrlimit(fuzz.resource.RLIMIT_AS)
    with fuzz.guarded(headroom=256 << 20), pytest.raises(MemoryError):
        bytearray(1 << 30)
    assert fuzz.resource.getrlimit(fuzz.resource.RLIMIT_AS) == before
    assert os.getpid()  # still here


def test_a_line_break_in_a_crit_magic_stays_one_line(tmp_path: Path) -> None:
    """Found by hypothesis: `"magic": "\\n"` put a line break into the one-line message."""
    path = tmp_path / "core-1.crit.json"
    path.write_text('{"magic": "A\\nB", "entries": []}')
    with pytest.raises(criu.CriuError) as info:
        sources.open_source(path)
    assert str(info.value) == f"{path}: crit JSON of a 'A\\nB' image; expected CORE or PSTREE"
