"""`checkpointctl-timers`, the checkpointctl plugin: found on PATH, it answers
`--plugin-description` with one line and exit 42 within checkpointctl's 500 ms; `checkpointctl
timers ARCHIVE...` (which execs it with the arguments) prints each archive's container and
timers, or JSON; bad input is one line, exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archives import PODMAN_ARCHIVE, fixture, kubernetes_members, tar_bytes

SCRIPT = Path(sys.executable).parent / "checkpointctl-timers"


def _plugin(*args: str) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} not installed: `make setup` installs the console scripts")
    # As checkpointctl runs it: found on PATH by its name, arguments passed through.
    found = shutil.which("checkpointctl-timers", path=str(SCRIPT.parent))
    assert found is not None
    return subprocess.run([found, *args], capture_output=True, text=True, timeout=60, check=False)


def test_plugin_description_protocol() -> None:
    start = time.monotonic()
    done = _plugin("--plugin-description")
    assert done.returncode == 42
    assert len(done.stdout.splitlines()) == 1 and "timers" in done.stdout
    assert time.monotonic() - start < 2.0  # checkpointctl waits 500 ms; a loaded CI machine more


def test_timers_of_each_archive(tmp_path: Path) -> None:
    crio = tmp_path / "checkpoint-counters_default-counter.tar"
    crio.write_bytes(tar_bytes(kubernetes_members("cri-o")))
    podman = fixture(PODMAN_ARCHIVE)
    done = _plugin(str(podman), str(crio))
    assert done.returncode == 0, done.stderr
    assert f"{podman}: podman container timers-ct" in done.stdout
    assert f"{crio}: cri-o container counter" in done.stdout
    assert done.stdout.count("legacy walk from counter 0: 1 create") == 2
    as_json = json.loads(_plugin("--json", str(crio)).stdout)
    (proc,) = as_json[0]["processes"]
    assert proc["container"]["pod"] == "counters"
    assert proc["gaps"]["walk"]["creates"] == 1


def test_bad_archive_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(tar_bytes({"checkpoint/../x": b""}))
    done = _plugin(str(fixture(PODMAN_ARCHIVE)), str(bad))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        f"checkpointctl-timers: {bad}: member 'checkpoint/../x' climbs out with '..'"
    ]
