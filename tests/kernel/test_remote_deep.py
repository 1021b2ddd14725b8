"""Deep capture over ssh: `show --deep --host` and `snapshot --deep --host` run the timertui
installed there (a wrapper given with --remote-timertui: the login's PATH holds none), which
reads the values by ptrace on that host and sends them back in the agent's frames; they match
a local deep capture of the same process. Without a timertui there: one line saying how to
install it. sshd killed during a capture: the target is left neither stopped nor traced."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from command_line import ROOT, remote_timertui, timertui
from kinds import build_kinds_target, running_kinds_target

from bench import loopback_sshd
from bench.loopback_sshd import LoopbackSshd
from timertui import snapshot_file
from timertui.capture.inject import attach_values, capture_values
from timertui.capture.processes import read_process
from timertui.demo import read_ready_pid, spawn_workload, stop_workload
from timertui.model import ITIMER_REAL, TimerValues
from timertui.remote.reading import RemoteHost
from timertui.remote.ssh import RemoteError

pytestmark = [
    pytest.mark.usefixtures("needs_exact_ids", "needs_ptrace"),
    pytest.mark.skipif(
        loopback_sshd.available() is not None, reason=str(loopback_sshd.available())
    ),
]
IDS = (0, 1000, 1000000)
DENSE = 10000
# How far apart two reads of one timer may land once counted to the same moment: the reply's
# travel on loopback and the reads' own spread.
TOLERANCE_NS = 50_000_000


@pytest.fixture(scope="module")
def there(tmp_path_factory: pytest.TempPathFactory) -> str:
    return remote_timertui(tmp_path_factory.mktemp("there"))


@pytest.fixture(scope="module")
def workload() -> Iterator[int]:
    proc = spawn_workload(IDS, zoo=False)
    try:
        yield read_ready_pid(proc)
    finally:
        stop_workload(proc)


def remaining_at(values: TimerValues, read_ns: int, at_ns: int) -> int:
    """The remaining time of a periodic timer read at `read_ns`, counted on to `at_ns`."""
    return (values.remaining_ns - (at_ns - read_ns)) % values.interval_ns


def apart(a: int, b: int, period: int) -> int:
    """How far apart two points of one period are (either way round)."""
    d = (a - b) % period
    return min(d, period - d)


def test_deep_values_over_ssh_are_a_local_capture_s(
    sshd: LoopbackSshd, there: str, workload: int
) -> None:
    with sshd.ssh_here(), RemoteHost(sshd.host, timertui=there) as host:
        remote = host.capture_values(workload, IDS, itimers=True)
        again = host.capture_values(workload, IDS)  # the kept child, asked again
    local = capture_values(workload, IDS, itimers=True)
    assert remote.refused is None and local.refused is None, (remote.reason, local.reason)
    assert set(remote.values) == set(local.values) == set(again.values) == set(IDS)
    assert remote.itimers == local.itimers
    for i in IDS:
        mine, theirs = local.values[i], remote.values[i]
        assert theirs.interval_ns == mine.interval_ns > 0
        at = max(remote.read_ns[i], local.read_ns[i])
        assert (
            apart(
                remaining_at(theirs, remote.read_ns[i], at),
                remaining_at(mine, local.read_ns[i], at),
                mine.interval_ns,
            )
            < TOLERANCE_NS
        )


def test_interval_timers_there_are_a_local_capture_s(
    sshd: LoopbackSshd, there: str, tmp_path: Path
) -> None:
    with (
        running_kinds_target(build_kinds_target(tmp_path / "kinds")) as pid,
        sshd.ssh_here(),
        RemoteHost(sshd.host, timertui=there) as host,
    ):
        remote = host.capture_values(pid, [], itimers=True)
        local = capture_values(pid, [], itimers=True)
    assert remote.itimers is not None and local.itimers is not None
    assert len(remote.itimers) == len(local.itimers) == 3
    for far, near in zip(remote.itimers, local.itimers, strict=True):
        assert (far.which, far.interval_s, far.interval_us) == (
            near.which, near.interval_s, near.interval_us,
        )  # fmt: skip
        if far.which == ITIMER_REAL:  # wall time, periodic: within its period, read apart
            period = near.interval_total_us
            assert apart(far.value_total_us, near.value_total_us, period) < period // 5
        else:  # the target's CPU time: it sleeps meanwhile
            assert abs(far.value_total_us - near.value_total_us) < TOLERANCE_NS // 1000


def test_show_deep_host_reads_the_values_there(
    sshd: LoopbackSshd, there: str, workload: int
) -> None:
    result = timertui(
        "show", str(workload), "--deep", "--json", "--host", sshd.host,
        "--remote-timertui", there, env=sshd.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["host"] == sshd.host and view["deep"] == {"refused": None}
    local, refused = attach_values(read_process(workload))
    assert refused is None
    intervals = {t.id: t.values.interval_ns for t in local.timers if t.values is not None}
    for timer in view["timers"]:
        values = timer["values"]
        assert values["interval_ns"] == intervals[timer["id"]]
        assert 0 < values["remaining_ns"] <= values["interval_ns"]
    assert [t["which"] for t in view["itimers"]] == [t.which for t in local.itimers or ()]


def test_snapshot_deep_host_saves_the_values_here_with_the_host(
    sshd: LoopbackSshd, there: str, workload: int, tmp_path: Path
) -> None:
    out = tmp_path / "deep.ttsnap"
    result = timertui(
        "snapshot", str(workload), "--deep", "-o", str(out), "--host", sshd.host,
        "--remote-timertui", there, env=sshd.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}: 1 process, 3 timers on {sshd.host}")
    saved = snapshot_file.load(out)
    assert saved.source == f"ssh:{sshd.host}"
    (proc,) = saved.processes
    local, _ = attach_values(read_process(workload))
    assert [t.id for t in proc.timers] == list(IDS)
    assert [t.values.interval_ns for t in proc.timers if t.values] == [
        t.values.interval_ns for t in local.timers if t.values
    ]
    assert len([t for t in proc.timers if t.values]) == len(IDS)
    assert proc.itimers == local.itimers


@pytest.mark.parametrize("command", ["show", "snapshot"])
def test_deep_host_without_timertui_there_says_how_to_install(
    sshd: LoopbackSshd, workload: int, tmp_path: Path, command: str
) -> None:
    out = ["-o", str(tmp_path / "no.ttsnap")] if command == "snapshot" else []
    result = timertui(command, str(workload), "--deep", *out, "--host", sshd.host, env=sshd.env())
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "no timertui on the remote PATH (deep capture" in line
    assert "pip install timertui" in line and "--remote-timertui" in line
    assert not (tmp_path / "no.ttsnap").exists()


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("/no/such/timertui", "--remote-timertui /no/such/timertui: not an executable file there"),
        ("/bin/false", "/bin/false deep-values ended: exit status 1"),
    ],
    ids=["missing", "not-timertui"],
)
def test_a_remote_timertui_that_cannot_capture_is_one_line(
    sshd: LoopbackSshd, workload: int, given: str, words: str
) -> None:
    result = timertui(
        "show", str(workload), "--deep", "--host", sshd.host, "--remote-timertui", given,
        env=sshd.env(),
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and words in line


def test_remote_timertui_without_host_is_refused(workload: int, there: str) -> None:
    result = timertui("show", str(workload), "--deep", "--remote-timertui", there)
    assert result.returncode == 2 and result.stderr.strip().endswith(
        "--remote-timertui goes with --host"
    )


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def test_sshd_killed_during_a_deep_capture_leaves_the_target_running(
    tmp_path: Path, there: str
) -> None:
    """Captures of 10,000 timers one after another (each stops the target ~300 times) until
    the target is seen traced, then sshd is killed: the capture ends here in one error, and
    the target is neither traced nor stopped, and its values read as before."""
    dense = spawn_workload(tuple(range(DENSE)), zoo=False)
    errors: list[RemoteError] = []
    try:
        pid = read_ready_pid(dense)
        with loopback_sshd.running(tmp_path / "sshd") as server, server.ssh_here():
            host = RemoteHost(server.host, timertui=there)
            host.connection.open()

            def capture_until_lost() -> None:
                try:
                    while True:
                        host.capture_values(pid)
                except RemoteError as exc:
                    errors.append(exc)

            worker = threading.Thread(target=capture_until_lost)
            worker.start()
            deadline = time.monotonic() + 60
            while _status(pid)["TracerPid"] == "0":
                assert time.monotonic() < deadline and worker.is_alive(), errors
            sessions = server.sessions()
            capturing = [p for p in sessions if "deep-values" in loopback_sshd.command_line(p)]
            server.kill()
            worker.join(60)
            assert not worker.is_alive()
            host.connection.close()
        assert len(errors) == 1 and "connection lost" in str(errors[0]), errors
        # The capture under way there ends (never killed in its ptrace window), then so does
        # the timertui that ran it, its agent gone.
        assert capturing
        _, alive = psutil.wait_procs(capturing, timeout=30)
        assert not alive
        status = _status(pid)
        assert status["TracerPid"] == "0" and status["State"][0] not in "tT", status
        after = capture_values(pid, [0, DENSE - 1])
        assert after.refused is None and after.values[DENSE - 1].interval_ns > 0, after
    finally:
        stop_workload(dense)


def test_deep_values_refuses_bytes_that_are_no_frame() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "timertui", "deep-values"],
        input=b"\x00\x00\x00\x02\xc1\xc1",  # a frame of two bytes msgpack never uses
        capture_output=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == b""
    line = result.stderr.decode().strip()
    assert "\n" not in line and "deep-values: not a request frame" in line
