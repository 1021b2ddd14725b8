"""A real podman container on this host: a local image built from a static binary (`podman
import` of a one-file rootfs; no registry), run with runc and no network; its process shows its
container, name and image, and pid 1 in its own namespace, in `read_process` and `ps --container`.
Skips, saying why, where podman, runc or a static libc is missing (.ci/run installs podman and
runc)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from archives import FIXTURES

from bench.loopback_sshd import LoopbackSshd
from timertui.capture import processes
from timertui.remote.reading import RemoteHost

SOURCE = FIXTURES / "podman-checkpoint" / "timers.c"
ARCHIVE = FIXTURES / "podman-checkpoint" / "ck-gzip.tar.gz"
IMAGE = "localhost/timertui-test-timers:1"
RUN_OPTIONS = (
    "--network", "none", "--runtime", "runc",
    # root here lacks CAP_SYS_RESOURCE: runc cannot raise these past the defaults otherwise
    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
)  # fmt: skip


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=120, check=check
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for tool in ("podman", "runc", "gcc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (.ci/run installs podman and runc)")
    if not SOURCE.is_file():
        pytest.skip(f"{SOURCE} missing (../shared beside the checkout)")
    work = tmp_path_factory.mktemp("rootfs")
    binary = work / "timers"
    built = subprocess.run(
        ["gcc", "-static", "-O2", "-o", str(binary), str(SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build a static binary here: {built.stderr.strip()[-200:]}")
    rootfs = work / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        tar.add(binary, arcname="timers")
    _podman("import", str(rootfs), IMAGE)
    yield IMAGE
    _podman("rmi", "-f", IMAGE, check=False)


@pytest.fixture
def container(image: str) -> Iterator[tuple[str, int]]:
    name = f"timertui-test-{os.getpid()}"
    started = _podman("run", "-d", "--name", name, *RUN_OPTIONS, image, "/timers", check=False)
    if started.returncode != 0:
        pytest.skip(f"podman cannot run a container here: {started.stderr.strip()[-300:]}")
    try:
        pid = int(_podman("inspect", "-f", "{{.State.Pid}}", name).stdout)
        yield name, pid
    finally:
        _podman("rm", "-f", "-t", "0", name, check=False)


def test_a_live_container_process_shows_its_container(container: tuple[str, int]) -> None:
    name, pid = container
    proc = processes.read_process(pid)
    assert proc.container is not None, proc
    assert (proc.container.runtime, proc.container.name) == ("podman", name)
    assert proc.container.image == IMAGE
    full_id = _podman("inspect", "-f", "{{.Id}}", name).stdout.strip()
    assert proc.container.id == full_id
    assert proc.ns_pid == 1
    assert proc.container in {p.container for p in processes.scan()}  # it holds a timer


def test_ps_lists_the_container(container: tuple[str, int]) -> None:
    name, pid = container
    done = subprocess.run(
        [sys.executable, "-m", "timertui", "ps", "--container", name, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    (row,) = json.loads(done.stdout)
    assert (row["pid"], row["ns_pid"], row["container"]["name"]) == (pid, 1, name)


def test_a_container_on_another_host_is_named_as_here(
    container: tuple[str, int], sshd: LoopbackSshd
) -> None:
    """Over ssh (a loopback sshd: the same podman state), the agent reads the runtime's files
    there for the name and image."""
    name, pid = container
    with sshd.ssh_here(), RemoteHost(sshd.host) as there:
        remote = there.read_process(pid)
        listed = [p for p in there.scan() if p.pid == pid]
    assert remote.container == processes.read_process(pid).container
    assert remote.container is not None and remote.container.name == name
    assert [p.container for p in listed] == [remote.container]
    assert remote.ns_pid == 1


def test_verify_pairs_a_checkpoint_archive_with_a_live_container_by_its_namespace_pid(
    container: tuple[str, int],
) -> None:
    """`verify ARCHIVE --container NAME`: the archive's process (pid 1 in its container, the
    same program) is paired with the live container's pid 1 through NSpid, and every kind is
    compared (the live one was never checkpointed: what differs is allowed, a crash is not)."""
    name, pid = container
    done = subprocess.run(
        [sys.executable, "-m", "timertui", "verify", str(ARCHIVE), "--container", name,
         "--watch", "0.3", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    (process,) = json.loads(done.stdout)["processes"]
    assert (process["checkpoint_pid"], process["live_pid"]) == (1, pid), process
    kinds = {f["kind"] for f in process["findings"]}
    assert kinds == {"posix", "timerfd", "itimer"}, process["findings"]
    missing = [f["label"] for f in process["findings"] if f["status"] == "missing"]
    assert missing == [], process["findings"]
