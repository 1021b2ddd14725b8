"""--host over a real sshd on 127.0.0.1 (bench/loopback_sshd.py: a free port, throwaway host and
client keys, root login by key only, our own client config through an `ssh` wrapper). The remote
login's PATH holds python3 (3.9 unless a test says otherwise) and no timertui: the agent is
sent over the connection. Faults end in one line (exit 2 on the command line), never a hang."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from command_line import ROOT, timertui
from kinds import build_kinds_target, running_kinds_target

from bench import loopback_sshd
from bench.loopback_sshd import LoopbackSshd
from timertui import snapshot_file
from timertui.capture import processes
from timertui.cli import main
from timertui.demo import read_ready_pid, spawn_workload, stop_workload
from timertui.remote.reading import RemoteHost
from timertui.remote.ssh import Connection, RemoteError

pytestmark = [
    pytest.mark.usefixtures("needs_proc_timers"),
    pytest.mark.skipif(
        loopback_sshd.available() is not None, reason=str(loopback_sshd.available())
    ),
]
IDS = (0, 1000, 1000000)
SPREAD_NS = 2_000_000_000  # two reads of one timer, one over ssh: how far apart they may be
PYTHON36 = "/root/.pyenv/versions/3.6.15/bin/python3"


@pytest.fixture(scope="module")
def workload() -> Iterator[int]:
    proc = spawn_workload(IDS, zoo=True)
    try:
        yield read_ready_pid(proc)
    finally:
        stop_workload(proc)


@pytest.fixture
def wrapped(sshd: LoopbackSshd) -> Iterator[None]:
    with sshd.ssh_here():
        yield


def cli(server: LoopbackSshd, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return timertui(*args, env=server.env(), timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_zero_install_agent_on_python39_is_cached_by_hash(
    sshd: LoopbackSshd, wrapped: None
) -> None:
    """No timertui on the remote PATH; the agent is sent once, cached under the remote user's
    cache dir by its hash, and runs on Python 3.9."""
    remote_path = subprocess.run(
        ["ssh", "-p", str(sshd.port), "root@127.0.0.1", "command -v timertui; echo $PATH"],
        capture_output=True,
        text=True,
        timeout=30,
        env=sshd.env(),
        check=False,
    )
    assert remote_path.stdout.strip() == str(sshd.remote_bin), remote_path
    for cache in sshd.cache.glob("timertui/agent-*"):
        shutil.rmtree(cache)
    with RemoteHost(sshd.host) as first:
        assert first.connection.sent_agent
        assert first.connection.remote_python == "3.9.18"
        hello = first.connection.request("hello")
    cached = list(sshd.cache.glob("timertui/agent-*"))
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o077 == 0
    assert (cached[0] / "ttagent" / "serve.py").exists()
    with RemoteHost(sshd.host) as second:
        assert not second.connection.sent_agent
        assert second.connection.request("hello")["python"] == hello["python"] == "3.9.18"


def test_ps_host_lists_the_workload_as_local_ps_does(sshd: LoopbackSshd, workload: int) -> None:
    result = cli(sshd, "ps", "--json", "--host", sshd.host)
    assert result.returncode == 0, result.stderr
    listed = {p["pid"]: p for p in json.loads(result.stdout)}
    local = processes.read_process(workload)
    assert [t["id"] for t in listed[workload]["timers"]] == [t.id for t in local.timers]
    assert len(listed[workload]["timers"]) > len(IDS)  # the zoo's
    table = cli(sshd, "ps", "--host", sshd.host)
    assert table.returncode == 0 and str(workload) in table.stdout


def test_show_host_matches_local_show(sshd: LoopbackSshd, workload: int) -> None:
    remote = cli(sshd, "show", str(workload), "--json", "--host", sshd.host)
    local = cli(sshd, "show", str(workload), "--json")
    assert remote.returncode == local.returncode == 0, remote.stderr
    there, here = json.loads(remote.stdout), json.loads(local.stdout)
    assert there.pop("host") == sshd.host
    assert there == here
    text = cli(sshd, "show", str(workload), "--host", sshd.host)
    assert text.stdout.startswith(f"host {sshd.host}\n")


def test_timerfds_there_are_read_as_here(sshd: LoopbackSshd, tmp_path: Path, wrapped: None) -> None:
    """Every fd kind of the target: the same timerfds as a local read, an absolute one's
    deadline by the clock there (the same clock on loopback: within the reads' spread)."""
    with (
        running_kinds_target(build_kinds_target(tmp_path / "kinds")) as pid,
        RemoteHost(sshd.host) as there,
    ):
        remote = there.read_process(pid)
        local = processes.read_process(pid)
        (listed,) = [p for p in there.scan() if p.pid == pid]
    assert remote.problems == local.problems == ()
    assert [t.fd for t in remote.timerfds] == [t.fd for t in listed.timerfds] == [17, 42, 43]
    for far, near in zip(remote.timerfds, local.timerfds, strict=True):
        assert (far.clock, far.settime_flags, far.interval_ns, far.flags) == (
            near.clock, near.settime_flags, near.interval_ns, near.flags,
        )  # fmt: skip
        assert abs(far.deadline_ns - near.deadline_ns) < SPREAD_NS
        if not near.interval_ns:  # a periodic one may have moved on to its next period
            assert abs(far.remaining_ns - near.remaining_ns) < SPREAD_NS
    assert remote.timerfds[1].absolute and remote.timerfds[1].deadline_ns > 0
    assert remote.itimers is None  # they take a deep capture (test_remote_deep.py)


def test_snapshot_host_is_saved_here_and_records_the_host(
    sshd: LoopbackSshd, workload: int, tmp_path: Path
) -> None:
    out = tmp_path / "remote.ttsnap"
    result = cli(sshd, "snapshot", str(workload), "-o", str(out), "--host", sshd.host)
    assert result.returncode == 0, result.stderr
    assert f"on {sshd.host}" in result.stdout
    snap = snapshot_file.load(out)
    assert snap.source == f"ssh:{sshd.host}"
    assert snap.host.hostname == os.uname().nodename
    assert snap.processes[0].timers == processes.read_process(workload).timers
    assert out.stat().st_mode & 0o777 == 0o600


def test_no_such_process_there(sshd: LoopbackSshd) -> None:
    result = cli(sshd, "show", "999999999", "--host", sshd.host)
    one_line_error(result, sshd.host, "no such process")


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("bad host", ("bad host",)),
        ("-oProxyCommand=x", ("bad host",)),  # given as --host=-o...
        ("root@127.0.0.1:70000", ("outside 1..65535",)),
        ("a@b@c", ("bad host",)),
        ("", ("bad host",)),
    ],
)
def test_bad_host_strings(sshd: LoopbackSshd, host: str, words: tuple[str, ...]) -> None:
    one_line_error(cli(sshd, "ps", f"--host={host}"), *words)


def test_unreachable_refused_key_and_unknown_host_key(sshd: LoopbackSshd, tmp_path: Path) -> None:
    closed = loopback_sshd.free_port()
    one_line_error(cli(sshd, "ps", "--host", f"root@127.0.0.1:{closed}"), "unreachable")
    one_line_error(cli(sshd, "ps", "--host", f"nobody@127.0.0.1:{sshd.port}"), "refused the login")
    # The same server under another client config whose known_hosts does not know it.
    other = tmp_path / "ssh_config"
    other.write_text(
        sshd.config.read_text().replace(str(sshd.known_hosts), str(tmp_path / "known_hosts"))
    )
    wrapper = tmp_path / "bin" / "ssh"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec {loopback_sshd.SSH} -F {other} "$@"\n')
    wrapper.chmod(0o755)
    result = subprocess.run(
        [sys.executable, "-m", "timertui", "ps", "--host", sshd.host],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}"},
    )
    one_line_error(result, "unknown or changed host key")
    assert not (tmp_path / "known_hosts").exists()  # BatchMode: nothing accepted


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"python": PYTHON36}, ("python3 is 3.6.15", "needs 3.9 or newer")),
        ({"python": None}, ("no python3 on the remote PATH",)),
        ({"banner": "Welcome to the machine"}, ("'Welcome to the machine'", "login banner")),
    ],
    ids=["python-too-old", "python-missing", "login-banner"],
)
def test_remotes_timertui_cannot_use(
    tmp_path: Path, options: dict[str, object], words: tuple[str, ...]
) -> None:
    if options.get("python") == PYTHON36 and not Path(PYTHON36).exists():
        pytest.skip(f"{PYTHON36} missing")
    with loopback_sshd.running(tmp_path, **options) as server:
        one_line_error(cli(server, "ps", "--host", server.host, timeout=30), *words)


def test_a_remote_that_never_starts_the_agent_times_out(tmp_path: Path) -> None:
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec /bin/sleep 60\n")
    hang.chmod(0o755)
    with loopback_sshd.running(tmp_path / "s", python=str(hang)) as server, server.ssh_here():
        started = time.monotonic()
        with pytest.raises(RemoteError, match="no answer within 2 s"):
            RemoteHost(server.host, start_timeout=2).connection.open()
        assert time.monotonic() - started < 10


def _agent_gone(pid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_agent_exits_when_the_connection_closes(sshd: LoopbackSshd, wrapped: None) -> None:
    with RemoteHost(sshd.host) as there:
        agent = there.connection.request("hello")["pid"]
        assert psutil.pid_exists(agent)
    assert _agent_gone(agent)


def test_sshd_killed_mid_poll_ends_the_poll_cleanly(tmp_path: Path) -> None:
    with loopback_sshd.running(tmp_path) as server, server.ssh_here():
        there = RemoteHost(server.host)
        there.connection.open()
        agent = there.connection.request("hello")["pid"]
        polls: list[int] = []
        failure: list[BaseException] = []

        def poll() -> None:
            try:
                while True:
                    there.scan(include_all=True)
                    polls.append(1)
            except BaseException as exc:
                failure.append(exc)

        poller = threading.Thread(target=poll)
        poller.start()
        while len(polls) < 3 and poller.is_alive():
            time.sleep(0.01)
        server.kill()
        poller.join(15)
        assert not poller.is_alive()
        assert isinstance(failure[0], RemoteError), failure
        assert "connection lost" in str(failure[0])
        assert "\n" not in str(failure[0])
        assert _agent_gone(agent)
        with pytest.raises(RemoteError, match="not connected"):
            there.scan()


def test_sshd_killed_mid_snapshot_writes_nothing(
    tmp_path: Path,
    workload: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server dies after the snapshot's process was read, before the host's facts: exit 2,
    one line, no file, the agent gone."""
    agents: list[int] = []
    original = Connection.request

    def request(self: Connection, op: str, **args: object) -> object:
        if op == "host":
            agents.append(original(self, "hello")["pid"])
            server.kill()
        return original(self, op, **args)

    out = tmp_path / "never.ttsnap"
    with loopback_sshd.running(tmp_path / "s") as server, server.ssh_here():
        monkeypatch.setattr(Connection, "request", request)
        status = main(["snapshot", str(workload), "-o", str(out), "--host", server.host])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and server.host in err[0] and "lost" in err[0], err
    assert not out.exists() and not list(tmp_path.glob("never*"))
    assert _agent_gone(agents[0])


def test_check_host_probes_there_as_check_does_here(sshd: LoopbackSshd) -> None:
    """The agent's probes (ctypes, forked children) on Python 3.9 give this host's check."""
    there = cli(sshd, "check", "--json", "--host", sshd.host)
    here = cli(sshd, "check", "--json")
    assert there.returncode == here.returncode, there.stderr
    remote, local = json.loads(there.stdout), json.loads(here.stdout)
    for checks in (remote["checks"], local["checks"]):
        for c in checks:
            if c["name"] == "sigpending":  # slots in use differ by the probing process's own
                c["detail"] = c["detail"].split(",")[0]
    assert remote == local
    text = cli(sshd, "check", "--host", sshd.host)
    assert text.stdout.startswith(f"host {sshd.host}\n")
