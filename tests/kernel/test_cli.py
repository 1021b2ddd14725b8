"""The CLI end to end, against the real kernel: the demo workload's timers as `show` prints them,
a snapshot's round trip, and one-line errors with exit 2 for bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from command_line import timertui

from timertui import cli, demo, snapshot_file
from timertui.capture.proc_timers import parse_timers
from timertui.choices import DEMO_IDS
from timertui.clocks import decode_clock
from timertui.signals import signal_name


@pytest.fixture(scope="module")
def workload() -> Iterator[int]:
    from timertui.capture import host

    for probe in (host.probe_proc_timers(), host.probe_exact_ids()):
        if not probe.ok:
            pytest.skip(f"kernel feature missing: {probe.detail}")
    proc = demo.spawn_workload(DEMO_IDS, zoo=True)
    try:
        yield demo.read_ready_pid(proc)
    finally:
        demo.stop_workload(proc)


def test_show_json_matches_proc_exactly(workload: int) -> None:
    raw = Path(f"/proc/{workload}/timers").read_text()
    kernel = {t.id: t for t in parse_timers(raw)}
    out = timertui("show", str(workload), "--json")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["pid"] == workload
    assert len(view["tids"]) == 2
    shown = {t["id"]: t for t in view["timers"]}
    assert shown.keys() == kernel.keys()
    assert {0, 1_000_000, 2_000_000} <= shown.keys()
    for tid, t in kernel.items():
        s = shown[tid]
        assert s["clock"]["raw"] == t.clock
        assert s["clock"]["name"] == decode_clock(t.clock).name
        assert (s["notify"]["raw"], s["notify"]["target"]) == (t.notify, t.target)
        assert (s["signal"]["signo"], s["signal"]["name"]) == (t.signo, signal_name(t.signo))
        assert s["sigval"]["int"] == t.sigval
    assert view["gaps"]["walk"]["creates"] == 2_000_001


def test_show_text_decodes_every_timer(workload: int) -> None:
    out = timertui("show", str(workload))
    assert out.returncode == 0, out.stderr
    for needle in (
        "PROCESS_CPUTIME_ID",
        "THREAD_CPUTIME_ID",
        f"CPU SCHED of pid {workload}",
        "thread-id → tid",
        "SIGRTMIN+3",
        "0xc0ffee0b",
        "2,000,001 creates",
    ):
        assert needle in out.stdout
    listed = json.loads(timertui("ps", "--json").stdout)
    assert workload in {p["pid"] for p in listed}


def test_snapshot_round_trips(workload: int, tmp_path: Path) -> None:
    path = tmp_path / "demo.tts"
    out = timertui("snapshot", str(workload), "-o", str(path))
    assert out.returncode == 0, out.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    snap = snapshot_file.load(path)
    (proc,) = snap.processes
    kernel = sorted(parse_timers(Path(f"/proc/{workload}/timers").read_text()), key=lambda t: t.id)
    assert list(proc.timers) == kernel
    assert snapshot_file.validate(snap) == []
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap
    assert snap.host.exact_ids is True
    shown = json.loads(timertui("inspect", str(path), "--json").stdout)
    assert [t["id"] for t in shown["processes"][0]["timers"]] == [t.id for t in kernel]


def test_corrupted_snapshot_is_one_line_exit_2(workload: int, tmp_path: Path) -> None:
    path = tmp_path / "demo.tts"
    assert timertui("snapshot", str(workload), "-o", str(path)).returncode == 0
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    out = timertui("inspect", str(path))
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1
    assert str(path) in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("show", "999999999"), "no such process: 999999999"),
        (("show", "abc"), "invalid int value"),
        (("snapshot", "999999999", "-o", "/tmp/never-written.tts"), "no such process"),
        (("inspect", "/nonexistent/file"), "no such file or directory"),
        (("inspect", "/etc/hostname"), "not a timertui snapshot"),
        (("nosuchcommand",), "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    out = timertui(*args)
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert needle in out.stderr
    assert not Path("/tmp/never-written.tts").exists()


def test_inspect_criu_fixture(stress_ng_dir: Path) -> None:
    out = timertui("inspect", str(stress_ng_dir), "--json")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    procs = {p["pid"]: p for p in view["processes"]}
    assert set(procs) == {19874, 19876}
    (timer,) = procs[19876]["timers"]
    assert (timer["id"], timer["signal"]["name"], timer["notify"]["target"]) == (
        0,
        "SIGRTMIN",
        19876,
    )
    assert timer["values"]["interval_ns"] == 10_000_000


def test_show_deep_gives_the_armed_intervals(workload: int, needs_ptrace: None) -> None:
    out = timertui("show", str(workload), "--deep", "--json")
    assert out.returncode == 0, out.stderr
    view = json.loads(out.stdout)
    assert view["deep"] == {"refused": None}
    planned = {p.timer.id: p for p in demo.plan_timers(DEMO_IDS, True, workload)}
    for t in view["timers"]:
        values = t["values"]
        assert values is not None, t["id"]
        assert values["interval_ns"] == planned[t["id"]].interval_ns
        # CPU clocks of a sleeper barely advance, so their remaining time can be long.
        assert 0 <= values["remaining_ns"] <= max(values["interval_ns"], 10**10)


def test_snapshot_deep_saves_values(workload: int, needs_ptrace: None, tmp_path: Path) -> None:
    path = tmp_path / "deep.tts"
    out = timertui("snapshot", str(workload), "--deep", "-o", str(path))
    assert out.returncode == 0, out.stderr
    (proc,) = snapshot_file.load(path).processes
    assert all(t.values is not None and t.values.interval_ns > 0 for t in proc.timers)


def test_show_unreadable_process_says_so() -> None:
    out = timertui("show", "1")
    if "no access" not in out.stdout:
        pytest.skip("pid 1's timers are readable here; no unreadable process to show")
    assert out.returncode == 1
    assert "timers unreadable: no access" in out.stdout


def test_a_path_with_a_line_break_stays_one_line() -> None:
    out = timertui("inspect", "/tmp/no\nsuch")
    assert out.returncode == 2
    assert out.stderr == "timertui: /tmp/no\\nsuch: no such file or directory\n"


def test_deep_on_an_unreadable_process_names_the_refusal() -> None:
    out = timertui("show", "1", "--deep", "--json")
    view = json.loads(out.stdout)
    if view["access"] == "ok":
        pytest.skip("pid 1's timers are readable here; no unreadable process to show")
    assert out.returncode == 1
    assert view["deep"]["refused"]


@pytest.mark.parametrize(
    "argv",
    [
        ["snap"],
        ["--json", "snap"],
        ["snap", "--mode", "walk", "--hold", "--pid", "12", "--sigpending", "40"],
        ["--backend", "sim", "--kernel", "3.10-6.14", "--pace", "x10", "--json", "snap"],
        ["--dead-threads", "none", "--start", "spawn", "--allow-wrap", "--mode", "exact", "s"],
    ],
)
def test_restore_quick_args_are_what_argparse_gives(argv: list[str]) -> None:
    from timertui.commands import restore
    from timertui.commands.parsing import build_parser

    quick = restore.quick_args(argv)
    assert quick is not None
    assert vars(quick) == vars(build_parser(cli.COMMANDS, "restore").parse_args(["restore", *argv]))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["a", "b"],
        ["-h"],
        ["--help"],
        ["--js", "snap"],
        ["--json=1", "snap"],
        ["--mode", "bogus", "snap"],
        ["--pid", "x", "snap"],
        ["--pid", "-3", "snap"],
        ["snap", "--mode"],
        ["--", "snap"],
    ],
)
def test_restore_quick_args_leave_the_rest_to_argparse(argv: list[str]) -> None:
    from timertui.commands import restore

    assert restore.quick_args(argv) is None
