"""Container checkpoint archives opened directly: podman's real export in every compression (told
by the magic bytes, whatever the name), CRI-O's and containerd's Kubernetes layouts, and the bad
archives `inspect` must refuse in one line, exit 2, writing nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from archives import (
    CHECKPOINTED_NS,
    CID,
    MTIME,
    POD_UID,
    PODMAN_ARCHIVE,
    fixture,
    kubernetes_members,
    podman_members,
    tar_bytes,
)
from backports import zstd

from timertui import sources
from timertui.archive import ArchiveError, compression, open_archive
from timertui.model import Container

ROOT = Path(__file__).resolve().parents[2]
PODMAN = Container(
    "podman",
    "f6dd15e62e0fd09624a92530de3a01838c01a043c37e13f26291ba8159cefc8d",
    name="timers-ct",
    image="localhost/timers:1",
    oci_runtime="runc",
)


def _timertui(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "timertui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdin=subprocess.DEVNULL,
    )


def test_the_real_podman_export() -> None:
    snap = sources.open_source(fixture(PODMAN_ARCHIVE))
    (proc,) = snap.processes
    assert proc.container == PODMAN
    assert [(t.id, t.clock, t.signo, t.sigval) for t in proc.timers] == [(0, 1, 34, 0x1234)]
    # podman's config has no checkpoint time: the images' own (tar mtimes) stand in
    assert snap.times.realtime_ns == 1796335493 * 10**9
    assert snap.source == f"archive:{PODMAN_ARCHIVE}"


@pytest.mark.parametrize("kind", ["zstd", "gzip", "tar"])
def test_compression_is_read_from_the_magic_not_the_name(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "checkpoint.tar.gz"  # podman's own habit: zstd under a .tar.gz name
    path.write_bytes(tar_bytes(podman_members(), kind))
    assert compression.kind_of(path.read_bytes()[:512]) == kind
    assert sources.open_source(path).processes[0].container == PODMAN


@pytest.mark.parametrize("engine", ["cri-o", "containerd"])
def test_kubernetes_checkpoints(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "checkpoint-counters_default-counter-2026-12-03T21:30:05Z.tar"
    path.write_bytes(tar_bytes(kubernetes_members(engine)))
    snap = sources.open_source(path)
    (proc,) = snap.processes
    container = proc.container
    assert container is not None
    assert (container.runtime, container.id, container.k8s_name) == (engine, CID, "counter")
    assert (container.pod, container.namespace, container.pod_uid) == (
        "counters",
        "default",
        POD_UID,
    )
    assert (container.image, container.oci_runtime) == ("quay.io/example/counter:1", "runc")
    assert container.label == "counters/counter"
    assert snap.times.realtime_ns == CHECKPOINTED_NS
    assert [t.id for t in proc.timers] == [0]


def test_inspect_names_the_container(tmp_path: Path) -> None:
    path = tmp_path / "ck.tar"
    path.write_bytes(tar_bytes(kubernetes_members("cri-o")))
    done = _timertui("inspect", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "cri-o container counter (3f1c0e5a9b7d), pod default/counters" in first
    assert "checkpointed 2026-12-03" in first
    json_done = _timertui("inspect", "--json", str(path), cwd=tmp_path)
    assert '"k8s_name": "counter"' in json_done.stdout


def test_pages_are_skipped_not_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """In a plain tar the pages are seeked past: the bytes read are the headers and the kept
    members only."""
    members = kubernetes_members("containerd")
    members["checkpoint/pages-2.img"] = os.urandom(8 << 20)
    path = tmp_path / "big.tar"
    path.write_bytes(tar_bytes(members))
    read: list[int] = []
    real_read = compression.Stream.read

    def counting(self: compression.Stream, size: int) -> bytes:
        data = real_read(self, size)
        read.append(len(data))
        return data

    monkeypatch.setattr(compression.Stream, "read", counting)
    open_archive(str(path))
    assert sum(read) < 512 << 10


def _odd(
    kind: bytes, name: str = "checkpoint/x", size: int = 0
) -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.size, info.linkname, info.mtime = kind, size, "/etc/passwd", MTIME
        tar.addfile(info, io.BytesIO(bytes(size)) if size else None)

    return add


def _bad_archives() -> dict[str, tuple[bytes, str]]:
    podman = podman_members()
    plain = tar_bytes(podman)
    no_checkpoint = {k: v for k, v in podman.items() if not k.startswith("checkpoint")}
    huge_core = bytearray(tar_bytes({"checkpoint/core-1.img": b"x"}))
    huge_core[124:136] = b"\x80" + (1 << 40).to_bytes(11, "big")  # base-256: 1 TiB
    huge_core[148:156] = b"%06o\0 " % (sum(huge_core[:148]) + 256 + sum(huge_core[156:512]))
    frame_window = zstd.ZstdCompressor(options={zstd.CompressionParameter.window_log: 28})
    wide = frame_window.compress(plain, zstd.ZstdCompressor.CONTINUE) + frame_window.flush()
    return {
        "dotdot": (tar_bytes({"checkpoint/../../etc/x": b"1"}), "climbs out with '..'"),
        "absolute": (tar_bytes({**podman, "/etc/x": b"1"}), "has an absolute name"),
        "symlink": (tar_bytes(podman, extra=_odd(tarfile.SYMTYPE)), "is a symbolic link"),
        "hardlink": (tar_bytes(podman, extra=_odd(tarfile.LNKTYPE)), "is a hard link"),
        "device": (tar_bytes(podman, extra=_odd(tarfile.CHRTYPE)), "is a character device"),
        "fifo": (tar_bytes(podman, extra=_odd(tarfile.FIFOTYPE)), "is a FIFO"),
        "huge core": (bytes(huge_core), "claims 1,099,511,627,776 bytes"),
        "truncated gzip": (tar_bytes(podman, "gzip")[:-200], "corrupt or truncated gzip"),
        "truncated zstd": (tar_bytes(podman, "zstd")[:-100], "corrupt or truncated zstd"),
        # no content checksum in the frame: damage may decode to bytes that are not a tar
        "corrupt zstd": (_flip(tar_bytes(podman, "zstd"), 300), "ck.tar.gz: "),
        "wide zstd window": (wide, "corrupt or truncated zstd"),
        "truncated tar": (plain[:9000], "truncated"),
        "no checkpoint": (tar_bytes(no_checkpoint), "no checkpoint/ folder"),
        "spec not JSON": (tar_bytes({**podman, "spec.dump": b"{nope"}), "spec.dump: not JSON"),
        "twice": (tar_bytes(podman, extra=_odd(tarfile.REGTYPE, "config.dump", 3)), "twice"),
        "bad checksum": (_flip(plain, 20), "a header checksum fails"),
    }


def _flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x55
    return bytes(out)


def test_bad_archives_one_line_exit_2_nothing_written(tmp_path: Path) -> None:
    """Each refused at once; the working directory, TMPDIR and the archive's folder stay as
    they were."""
    for label, (data, message) in _bad_archives().items():
        folder = tmp_path / label
        work, temp = folder / "cwd", folder / "tmp"
        for made in (work, temp):
            made.mkdir(parents=True)
        path = folder / "ck.tar.gz"
        path.write_bytes(data)
        done = _timertui("inspect", str(path), cwd=work, TMPDIR=str(temp))
        lines = done.stderr.splitlines()
        assert (done.returncode, len(lines), done.stdout) == (2, 1, ""), (label, done.stderr)
        assert str(path) in lines[0] and message in lines[0], (label, lines[0])
        assert sorted(p.name for p in folder.rglob("*")) == ["ck.tar.gz", "cwd", "tmp"], label


def test_a_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(compression, "BOMB_BYTES", 8 << 20)
    members = {**podman_members(), "checkpoint/pages-9.img": bytes(64 << 20)}
    path = tmp_path / "bomb.tar.zst"
    path.write_bytes(tar_bytes(members, "zstd"))
    with pytest.raises(ArchiveError, match="a decompression bomb"):
        open_archive(str(path))
