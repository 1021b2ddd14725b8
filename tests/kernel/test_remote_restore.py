"""restore --host: a native restore run on the remote host by the timertui installed there (a
wrapper given with --remote-timertui: the login's PATH holds none), its output streamed here;
without one, one line saying how to install it; sshd killed while a held restore runs there:
one line here, and the restore and its worker are gone there."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from builders import snapshot_of
from command_line import ROOT, remote_timertui, timertui

from bench import loopback_sshd
from bench.loopback_sshd import LoopbackSshd
from timertui import snapshot_file
from timertui.capture import processes
from timertui.demo import read_ready_pid, spawn_workload, stop_workload

pytestmark = [
    pytest.mark.usefixtures("needs_exact_ids"),
    pytest.mark.skipif(
        loopback_sshd.available() is not None, reason=str(loopback_sshd.available())
    ),
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of a demo workload (timers 0 and 1,000,000) and a timertui for the remote."""
    folder = tmp_path_factory.mktemp("restore")
    proc = spawn_workload((0, 1000000), zoo=False)
    try:
        read = processes.read_process(read_ready_pid(proc))
    finally:
        stop_workload(proc)
    path = folder / "seed.ttsnap"
    snapshot_file.save(snapshot_of([read]), path)
    remote_timertui(folder)
    return path


def test_restore_host_without_timertui_there_says_how_to_install(
    sshd: LoopbackSshd, saved: Path
) -> None:
    result = timertui("restore", str(saved), "--host", sshd.host, env=sshd.env())
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "no timertui on the remote PATH" in line
    assert "pip install timertui" in line and "--remote-timertui" in line


def test_restore_host_runs_natively_there_and_verifies(sshd: LoopbackSshd, saved: Path) -> None:
    there = str(saved.parent / "timertui-there")
    text = timertui(
        "restore", str(saved), "--host", sshd.host, "--remote-timertui", there, env=sshd.env()
    )
    assert text.returncode == 0, text.stderr
    assert "result: verified, 2 of 2 timers equal" in text.stdout
    streamed = timertui(
        "restore", str(saved), "--json", "--mode", "exact", "--host", sshd.host,
        "--remote-timertui", there, env=sshd.env(),
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr
    events = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert events[-1]["kind"] == "done" and events[-1]["ok"] and events[-1]["mode"] == "exact"


def test_sshd_killed_mid_restore_ends_it_there(tmp_path: Path, saved: Path) -> None:
    there = str(saved.parent / "timertui-there")
    with loopback_sshd.running(tmp_path / "sshd") as server:
        command = subprocess.Popen(
            [sys.executable, "-m", "timertui", "restore", str(saved), "--json", "--hold",
             "--host", server.host, "--remote-timertui", there],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=server.env(), cwd=ROOT,
        )  # fmt: skip
        try:
            assert command.stdout is not None
            for line in command.stdout:  # until the restore there verified and holds
                if json.loads(line)["kind"] == "done":
                    break
            remote = [
                p for p in server.sessions() if "timertui-restore-" in loopback_sshd.command_line(p)
            ]
            assert remote, [loopback_sshd.command_line(p) for p in server.sessions()]
            held = [p for r in remote for p in _children(r)] + remote
            file = next(
                a for a in loopback_sshd.command_line(remote[0]).split() if "timertui-restore-" in a
            )
            folder = Path(file).parent
            assert folder.exists()
            server.kill()
            _, err = command.communicate(timeout=30)
        finally:
            command.kill()
            command.wait()
        assert command.returncode == 2
        line = err.decode().strip()
        assert "\n" not in line and "connection lost" in line and "restore there was ended" in line
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in held) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in held), [p.pid for p in held if _alive(p)]
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not folder.exists()


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return list(proc.children(recursive=True))
    except psutil.Error:
        return []
