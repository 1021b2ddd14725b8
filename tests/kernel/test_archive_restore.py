"""Checkpoint archives restored natively: the real podman export (gzip as made, and re-packed as
podman's default zstd), and the CRI-O and containerd layouts around the fixture's images;
`timertui restore ARCHIVE` recreates their timers in a worker and verifies them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from archives import PODMAN_ARCHIVE, fixture, kubernetes_members, podman_members, tar_bytes

ROOT = Path(__file__).resolve().parents[2]


def _restore(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "timertui", "restore", str(path), "--backend", "native"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("layout", ["podman gzip", "podman zstd", "cri-o", "containerd"])
def test_archive_restores_verified(tmp_path: Path, layout: str) -> None:
    if layout == "podman gzip":
        path = fixture(PODMAN_ARCHIVE)
    else:
        path = tmp_path / "checkpoint.tar.gz"
        members = podman_members() if layout == "podman zstd" else kubernetes_members(layout)
        path.write_bytes(tar_bytes(members, "zstd" if layout == "podman zstd" else "tar"))
    done = _restore(path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    # the POSIX timer and the three interval timers (core tc.timers real, virt, prof)
    assert "result: verified, 4 of 4 timers equal" in done.stdout
