"""CRIU import: the real stress-ng images agree with crit's JSON and with /proc at dump time;
hand-built images exercise the wire decoder; damaged input gives CriuError, never a crash."""

from __future__ import annotations

import os
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from timertui import criu, snapshot_file
from timertui.capture.proc_timers import parse_timers
from timertui.criu import CriuError
from timertui.errors import InputError
from timertui.model import SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID, Snapshot, Timer, TimerValues
from timertui.sources import SourceError, open_source

WORKER, PARENT = 19876, 19874

# --- a protobuf writer of our own, to build images the fixture does not cover -------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _u(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value)


def _msg(num: int, body: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(body)) + body


def _image(magic: int, *entries: bytes) -> bytes:
    framed = b"".join(struct.pack("<I", len(e)) + e for e in entries)
    return struct.pack("<II", criu.IMG_COMMON_MAGIC, magic) + framed


def _posix(it_id: int, clock: int, signo: int, notify: int, sival: int, *rest: bytes) -> bytes:
    """A posix_timer_entry: 2 overruns, interval 500 ns, 3.999999999 s remaining."""
    head = [_u(1, it_id), _u(2, clock), _u(3, signo), _u(4, notify), _u(5, sival)]
    values = [_u(6, 2), _u(7, 0), _u(8, 500), _u(9, 3), _u(10, 999_999_999)]
    return b"".join([*head, *values, *rest])


def _rlimits(sigpending_cur: int) -> bytes:
    """task_rlimits_entry: RLIMIT_SIGPENDING (index 11) = (sigpending_cur, infinity)."""
    others = [_msg(1, _u(1, 1) + _u(2, 2))] * 11
    return _msg(8, b"".join([*others, _msg(1, _u(1, sigpending_cur) + _u(2, 2**64 - 1))]))


def _core(comm: str, posix: list[bytes], uid: int = 1000) -> bytes:
    itimer = _u(1, 0) + _u(2, 0) + _u(3, 0) + _u(4, 0)
    timers = (
        _msg(1, itimer) + _msg(2, itimer) + _msg(3, itimer) + b"".join(_msg(4, p) for p in posix)
    )
    tc = _u(1, 3) + _u(2, 0) + _u(3, 0) + _u(4, 0) + _u(5, 0) + _msg(6, comm.encode())
    tc += _msg(7, timers) + _rlimits(77)
    thread_core = _u(1, 0) + _u(2, 0) + _msg(10, _u(1, uid) + _u(2, uid))
    return _u(1, 3) + _msg(3, tc) + _msg(5, thread_core)


def _write_dir(directory: Path, pstree: bytes, cores: dict[int, bytes]) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "pstree.img").write_bytes(pstree)
    for pid, core in cores.items():
        (directory / f"core-{pid}.img").write_bytes(core)
    return directory


# --- the real fixture ---------------------------------------------------------------------------


def _proc_view(path: Path) -> dict[int, tuple[Timer, ...]]:
    """proc-PID-timers.txt: `== PID` header lines, each followed by that process's timers."""
    views: dict[int, list[str]] = {}
    lines: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("== "):
            lines = views.setdefault(int(line[3:]), [])
        else:
            lines.append(line)
    return {
        pid: parse_timers("".join(f"{t}\n" for t in text), str(path)) for pid, text in views.items()
    }


def _identity(timer: Timer) -> tuple[int, int, int, int, int, int]:
    """What /proc shows of a timer (it has no values)."""
    return (timer.id, timer.clock, timer.signo, timer.sigval, timer.notify, timer.target)


def test_fixture_images_hold_what_was_dumped(stress_ng_dir: Path) -> None:
    snap = criu.import_criu(stress_ng_dir)
    assert snap.source == f"criu:{stress_ng_dir}"
    assert [p.pid for p in snap.processes] == [PARENT, WORKER]
    worker = snap.process(WORKER)
    assert worker is not None
    assert (worker.ppid, worker.tids, worker.comm, worker.uid) == (
        PARENT,
        (WORKER,),
        "stress-ng-timer",
        0,
    )
    assert worker.status == "alive"
    assert worker.sigpending == (96365, 96365)
    # stress-ng --timer-freq 100: a 10 ms period, SIGRTMIN to the process, sigval a pointer.
    assert worker.timers == (
        Timer(
            0, 0, SIGEV_SIGNAL, WORKER, 34, 0x55C50224F728, TimerValues(9_223_027, 10_000_000, 0)
        ),
    )
    parent = snap.process(PARENT)
    assert parent is not None and parent.timers == () and parent.tids == (PARENT,)
    # The images tell the architecture and nothing else about the host or the time.
    assert snap.host.machine == "x86_64"
    assert (snap.host.kernel_release, snap.host.hostname, snap.host.boot_id) == ("", "", "")
    assert snap.host.exact_ids is None
    assert snap.times.realtime_ns == snap.times.boottime_ns == 0
    assert snapshot_file.validate(snap) == []


def test_fixture_images_agree_with_the_proc_view(stress_ng_dir: Path) -> None:
    snap = criu.import_criu(stress_ng_dir)
    view = _proc_view(stress_ng_dir / "proc-19876-timers.txt")
    assert set(view) == {PARENT, WORKER}
    for pid, timers in view.items():
        proc = snap.process(pid)
        assert proc is not None
        assert sorted(map(_identity, proc.timers)) == sorted(map(_identity, timers))
    assert len(view[WORKER]) == 1


def test_fixture_images_agree_with_crit_json(stress_ng_dir: Path, tmp_path: Path) -> None:
    images = criu.import_criu(stress_ng_dir)
    json_dir = tmp_path / "crit"
    json_dir.mkdir()
    for path in stress_ng_dir.glob("*.crit.json"):
        shutil.copy(path, json_dir)
    from_dir = criu.import_criu(json_dir)
    single = criu.import_criu(stress_ng_dir / "core-19876.crit.json")
    assert single.source == f"criu:{stress_ng_dir / 'core-19876.crit.json'}"
    for snap in (from_dir, single):
        assert snap.host == images.host
        for proc in snap.processes:
            image_proc = images.process(proc.pid)
            assert image_proc is not None
            # Without pstree JSON the parent is unknown; the rest must match field by field.
            assert proc.ppid == 0
            assert proc == replace(image_proc, ppid=0)
    assert [p.pid for p in from_dir.processes] == [PARENT, WORKER]
    assert [p.pid for p in single.processes] == [WORKER]


def test_crit_json_with_pstree_matches_images_exactly(stress_ng_dir: Path, tmp_path: Path) -> None:
    for path in stress_ng_dir.glob("*.crit.json"):
        shutil.copy(path, tmp_path)
    (tmp_path / "pstree.crit.json").write_text(
        '{"magic": "PSTREE", "entries": ['
        '{"pid": 19874, "ppid": 0, "pgid": 19874, "sid": 19874, "threads": [19874]},'
        '{"pid": 19876, "ppid": 19874, "pgid": 19874, "sid": 19874, "threads": [19876]}]}'
    )
    images = criu.import_criu(stress_ng_dir)
    assert criu.import_criu(tmp_path).processes == images.processes


def test_fixture_magics_are_criu_s(stress_ng_dir: Path) -> None:
    """The two magics at the head of every image, as criu/include/magic.h defines them."""
    head = (stress_ng_dir / "core-19876.img").read_bytes()[:8]
    assert struct.unpack("<II", head) == (0x54564319, 0x55053847)
    assert (criu.IMG_COMMON_MAGIC, criu.CORE_MAGIC) == (0x54564319, 0x55053847)
    pstree = (stress_ng_dir / "pstree.img").read_bytes()[:8]
    assert struct.unpack("<II", pstree) == (criu.IMG_COMMON_MAGIC, criu.PSTREE_MAGIC)
    inventory = (stress_ng_dir / "inventory.img").read_bytes()[:4]  # inventory: one magic only
    assert struct.unpack("<I", inventory) == (criu.INVENTORY_MAGIC,)


# --- damage -------------------------------------------------------------------------------------


def _damaged_dir(stress_ng_dir: Path, tmp_path: Path, name: str, data: bytes) -> Path:
    target = tmp_path / "img"
    if not target.exists():
        target.mkdir()
        for path in stress_ng_dir.glob("*.img"):
            shutil.copy(path, target)
    (target / name).write_bytes(data)
    return target


@pytest.mark.parametrize("name", ["core-19876.img", "pstree.img", "core-19874.img"])
def test_every_truncation_is_a_criu_error(stress_ng_dir: Path, tmp_path: Path, name: str) -> None:
    data = (stress_ng_dir / name).read_bytes()
    for size in range(len(data)):
        directory = _damaged_dir(stress_ng_dir, tmp_path, name, data[:size])
        with pytest.raises(CriuError) as info:
            criu.import_criu(directory)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["core-19876.img", "pstree.img"])
def test_flipped_bytes_never_crash(stress_ng_dir: Path, tmp_path: Path, name: str) -> None:
    """Protobuf has no checksum, so a flip may still decode; what it must never do is raise
    anything but CriuError. Flips in the magics and the entry length are always caught."""
    data = (stress_ng_dir / name).read_bytes()
    errors = 0
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        directory = _damaged_dir(stress_ng_dir, tmp_path, name, bytes(bad))
        try:
            result = criu.import_criu(directory)
        except CriuError:
            errors += 1
            continue
        assert pos >= 12, f"a flip at byte {pos} of the framing went unnoticed"
        assert isinstance(result, Snapshot)
    assert errors >= 12


def test_a_lone_image_file_asks_for_the_directory(stress_ng_dir: Path) -> None:
    with pytest.raises(CriuError, match="a single CRIU image; give the directory"):
        criu.import_criu(stress_ng_dir / "core-19876.img")


def test_wrong_image_kind_names_the_magics(stress_ng_dir: Path, tmp_path: Path) -> None:
    core = (stress_ng_dir / "core-19876.img").read_bytes()
    directory = _damaged_dir(stress_ng_dir, tmp_path, "pstree.img", core)
    with pytest.raises(
        CriuError, match=r"not a CRIU pstree image \(magic 0x55053847, expected 0x50273030\)"
    ):
        criu.import_criu(directory)


def test_missing_core_and_stray_core(stress_ng_dir: Path, tmp_path: Path) -> None:
    directory = _damaged_dir(
        stress_ng_dir, tmp_path, "pstree.img", (stress_ng_dir / "pstree.img").read_bytes()
    )
    (directory / "core-19876.img").unlink()
    with pytest.raises(CriuError, match="no core image for pid 19876"):
        criu.import_criu(directory)
    shutil.copy(stress_ng_dir / "core-19876.img", directory / "core-555.img")
    with pytest.raises(CriuError, match=r"core-555\.img: task 555 is missing from the pstree"):
        criu.import_criu(directory)


def test_bad_crit_json(tmp_path: Path) -> None:
    cases = {
        "core-1.crit.json": ("{not json", "not valid JSON"),
        "core-2.crit.json": ('["CORE"]', 'no "magic" name'),
        "core-3.crit.json": ('{"magic": "CORE", "entries": [{"mtype": "X86_64"}]}', "tc: missing"),
        "core-4.crit.json": (
            '{"magic": "CORE", "entries": [{"mtype": "X86_64", "tc": {"task_state": "Alive", '
            '"comm": "x", "timers": {"posix": [{"it_id": "seven", "clock_id": 0, "si_signo": 34, '
            '"it_sigev_notify": 0, "sival_ptr": 0, "overrun": 0, "isec": 0, "insec": 0, '
            '"vsec": 0, "vnsec": 0}]}}}]}',
            r"entries\[0\]\.tc\.timers\.posix\[0\]\.it_id: expected an integer, got 'seven'",
        ),
        "mm-5.crit.json": ('{"magic": "MM", "entries": []}', "crit JSON of a MM image"),
        "odd.crit.json": ('{"magic": "CORE", "entries": [{}]}', "cannot tell the pid"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(CriuError, match=message):
            criu.import_criu(path)


# --- hand-built images: the decoder's corners ---------------------------------------------------


def test_hand_built_images(tmp_path: Path) -> None:
    # pstree threads packed (proto3 style) in one entry, one by one in the other.
    packed = _varint(5 << 3 | 2) + _varint(2) + _varint(50) + _varint(51)
    pstree = _image(
        criu.PSTREE_MAGIC,
        _u(1, 50) + _u(2, 1) + _u(3, 50) + _u(4, 50) + packed,
        _u(1, 60) + _u(2, 50) + _u(3, 50) + _u(4, 50) + _u(5, 60),
    )
    unknown = (
        _varint(99 << 3 | 1) + b"\x01" * 8  # fixed64
        + _varint(98 << 3 | 5) + b"\x02" * 4  # fixed32
        + _msg(97, b"anything")
        + _u(96, 2**64 - 1)
    )  # fmt: skip
    posix = [
        _posix(1_000_000, 0xFFFFFFFA, 34, SIGEV_SIGNAL, 2**64 - 1, unknown),  # clock -6
        _posix(3, 1, 10, SIGEV_THREAD_ID, 7, _u(11, 51)),
        _posix(2, 7, 0, SIGEV_NONE, 0),
    ]
    directory = _write_dir(
        tmp_path / "img",
        pstree,
        {
            50: _image(criu.CORE_MAGIC, _core("wörker", posix) + unknown),
            60: _image(criu.CORE_MAGIC, _core("idle", [])),
        },
    )
    inventory = _u(1, 2) + _u(8, 123_456_789)  # dump_uptime in µs
    (directory / "inventory.img").write_bytes(
        struct.pack("<I", criu.INVENTORY_MAGIC) + struct.pack("<I", len(inventory)) + inventory
    )
    snap = criu.import_criu(directory)
    worker = snap.process(50)
    assert worker is not None
    assert (worker.tids, worker.comm, worker.uid, worker.status) == (
        (50, 51),
        "wörker",
        1000,
        "stopped",
    )
    assert worker.sigpending == (77, 2**64 - 1)
    values = TimerValues(3 * 10**9 + 999_999_999, 500, 2)
    assert worker.timers == (
        Timer(2, 7, SIGEV_NONE, 50, 0, 0, values),
        Timer(3, 1, SIGEV_THREAD_ID, 51, 10, 7, values),
        Timer(1_000_000, -6, SIGEV_SIGNAL, 50, 34, 2**64 - 1, values),
    )
    assert snap.process(60) is not None
    assert snap.host.machine == "aarch64"  # mtype 3
    assert snap.times.boottime_ns == 123_456_789_000
    assert snapshot_file.validate(snap) == []
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap


@pytest.mark.parametrize(
    ("core", "message"),
    [
        (_u(1, 3) + b"\x1a\x05\x0a", "field 3 claims 5 bytes, 1 remain"),
        (_u(1, 3) + b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (_u(1, 3) + b"\x08\xff\xff", "runs past the end"),
        (_u(1, 3) + b"\x0b", "wire type 3, unused by CRIU"),
        (_u(1, 3) + b"\x00\x01", "field number 0"),
        (_u(1, 2**40), "mtype: 1099511627776 does not fit uint32"),
        (_msg(1, b"x"), "mtype: wire type length-delimited, expected varint"),
        (_u(1, 3) + _u(3, 5), "tc: wire type varint, expected a message"),
        (_u(1, 3), "entries[0].tc: missing"),
        (_u(1, 3) + _msg(3, _u(1, 1)), "entries[0].tc.comm: required field missing"),
    ],
)
def test_malformed_core_entries(tmp_path: Path, core: bytes, message: str) -> None:
    pstree = _image(criu.PSTREE_MAGIC, _u(1, 50) + _u(2, 0) + _u(3, 50) + _u(4, 50) + _u(5, 50))
    directory = _write_dir(tmp_path / "img", pstree, {50: _image(criu.CORE_MAGIC, core)})
    with pytest.raises(CriuError) as info:
        criu.import_criu(directory)
    assert str(info.value).startswith(str(directory / "core-50.img") + ": ")
    assert message in str(info.value)


def test_out_of_range_timer_values(tmp_path: Path) -> None:
    pstree = _image(criu.PSTREE_MAGIC, _u(1, 50) + _u(2, 0) + _u(5, 50))
    bad_nsec = _posix(1, 0, 34, 0, 0) + _u(10, 10**9)
    huge = _posix(1, 0, 34, 0, 0) + _u(9, 2**63)
    for entry, message in (
        (bad_nsec, "vnsec: 1000000000 is not below one second"),
        (huge, "vsec: .* beyond"),
    ):
        directory = _write_dir(
            tmp_path / "img", pstree, {50: _image(criu.CORE_MAGIC, _core("x", [entry]))}
        )
        with pytest.raises(CriuError, match=message):
            criu.import_criu(directory)


# --- open_source --------------------------------------------------------------------------------


def test_open_source_dispatches_every_kind(stress_ng_dir: Path, tmp_path: Path) -> None:
    images = open_source(stress_ng_dir)
    assert images == criu.import_criu(stress_ng_dir)
    assert open_source(stress_ng_dir / "core-19876.crit.json").process(WORKER) == criu.import_criu(
        stress_ng_dir / "core-19876.crit.json"
    ).process(WORKER)
    json_dir = tmp_path / "json"
    json_dir.mkdir()
    shutil.copy(stress_ng_dir / "core-19876.crit.json", json_dir)
    assert [p.pid for p in open_source(json_dir).processes] == [WORKER]
    saved = tmp_path / "saved.anything"
    snapshot_file.save(images, saved)
    assert open_source(str(saved)) == images


def _open_error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        open_source(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path))
    return text


def test_open_source_bad_paths(stress_ng_dir: Path, tmp_path: Path) -> None:
    assert _open_error(tmp_path / "missing").endswith("no such file or directory")
    assert "no pstree.img" in _open_error(tmp_path)
    assert "a single CRIU image; give the directory" in _open_error(stress_ng_dir / "pstree.img")
    assert "not a timertui snapshot, a CRIU image directory or crit JSON" in _open_error(
        stress_ng_dir / "proc-19876-timers.txt"
    )
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert _open_error(empty).endswith("empty file")
    broken = tmp_path / "broken.ttsnap"
    broken.write_bytes(snapshot_file.MAGIC + b"\0" * 10)
    assert "truncated" in _open_error(broken)


def test_open_source_permission_denied(tmp_path: Path) -> None:
    secret = tmp_path / "secret.ttsnap"
    secret.write_bytes(b"x")
    secret.chmod(0)
    if os.geteuid() != 0:
        assert _open_error(secret).endswith("permission denied")
        return
    # root reads anything: ask as nobody, in a child, so the test process keeps its identity.
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            open_source(secret)
        except SourceError as exc:
            os.write(write_fd, str(exc).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert message == f"{secret}: permission denied"
