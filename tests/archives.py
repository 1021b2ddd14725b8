"""Container checkpoint archives for tests: podman's real export
(../shared/fixtures/podman-checkpoint) re-packed in each compression, and the layouts CRI-O and
containerd write for Kubernetes, built around the real CRIU images of
../shared/fixtures/criu-timerfd-itimer. Imported by test modules; never a test module itself."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from backports import zstd

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
PODMAN_ARCHIVE = FIXTURES / "podman-checkpoint" / "ck-gzip.tar.gz"
IMAGES = FIXTURES / "criu-timerfd-itimer" / "images"
CID = "3f1c0e5a9b7d4c2e8a6f1b3d5c7e9a0b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a1c"
POD_UID = "6a1f3c2e-8b4d-4e9a-b1c7-2d5f8e0a3b6c"
CHECKPOINTED = "2026-12-03T21:30:05.123456789Z"
CHECKPOINTED_NS = 1796333405_123456789
MTIME = 1796333400

Members = dict[str, bytes]


def fixture(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"checkpoint fixture missing: {path} (../shared beside the checkout)")
    return path


def podman_members() -> Members:
    """The members of the real podman export, in its order."""
    with tarfile.open(fixture(PODMAN_ARCHIVE)) as tar:
        return {
            m.name + ("/" if m.isdir() else ""): b"" if m.isdir() else tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def kubernetes_members(engine: str) -> Members:
    """A kubelet checkpoint tar's members as `engine` ("cri-o" or "containerd") writes them:
    config.dump, spec.dump, stats-dump, dump.log, rootfs-diff.tar and checkpoint/ with the
    fixture's images (memory pages among them)."""
    images = fixture(IMAGES)
    config = {
        "id": CID,
        "name": f"k8s_counter_counters_default_{POD_UID}_0" if engine == "cri-o" else "counter",
        "rootfsImageName": "quay.io/example/counter:1",
        "runtime": "runc",
        "createdTime": "2026-12-03T21:00:00Z",
        "checkpointedTime": CHECKPOINTED,
    }
    if engine == "cri-o":
        annotations = {
            "io.container.manager": "cri-o",
            "io.kubernetes.cri-o.Metadata": json.dumps({"name": "counter", "attempt": 0}),
            "io.kubernetes.pod.name": "counters",
            "io.kubernetes.pod.namespace": "default",
            "io.kubernetes.pod.uid": POD_UID,
            "io.kubernetes.cri-o.ImageName": "quay.io/example/counter:1",
        }
    else:
        annotations = {
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.container-name": "counter",
            "io.kubernetes.cri.sandbox-name": "counters",
            "io.kubernetes.cri.sandbox-namespace": "default",
            "io.kubernetes.cri.sandbox-uid": POD_UID,
            "io.kubernetes.cri.image-name": "quay.io/example/counter:1",
        }
    members: Members = {
        "config.dump": json.dumps(config).encode(),
        "spec.dump": json.dumps({"ociVersion": "1.0.2", "annotations": annotations}).encode(),
        "stats-dump": (images / "stats-dump").read_bytes(),
        "dump.log": (images / "dump.log").read_bytes(),
        "rootfs-diff.tar": tar_bytes({"tmp/state": b"x" * 1000}),
        "checkpoint/": b"",
    }
    for path in sorted(images.glob("*.img")):
        members[f"checkpoint/{path.name}"] = path.read_bytes()
    return members


def tar_bytes(
    members: Members,
    compression: str = "tar",
    extra: Callable[[tarfile.TarFile], None] | None = None,
) -> bytes:
    """A tar of `members` (a name ending in "/" is a directory), `extra` adding odd members
    after them, compressed "tar" (not at all), "gzip" or "zstd"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = MTIME
            if name.endswith("/"):
                info.type, info.mode = tarfile.DIRTYPE, 0o700
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            extra(tar)
    data = buf.getvalue()
    if compression == "gzip":
        return gzip.compress(data)
    if compression == "zstd":
        return zstd.compress(data)
    return data
