"""Checkpoint archive opening: a 2 GiB archive, almost all of it memory pages, opened with bounded
memory and in time proportional to what must be read.

The archive is made here: the real CRIU images of ../shared/fixtures/criu-timerfd-itimer, a
CRI-O config.dump and spec.dump, and 2 GiB of pages-N.img whose bytes are random (a 64 MiB random
block written again and again: no compressor window reaches back that far, so zstd cannot shrink
it, and a sparse or zero file would flatter every figure). Two forms:

- a plain tar, as CRI-O and containerd write: the pages are seeked past, so the reference is
  reading the kept members' bytes alone (the time is of the headers, not of the 2 GiB);
- zstd, podman's default: every byte must be decompressed to reach the next header, so the
  reference is decompressing the whole stream into nothing (zstd's own reader).

Each open runs in a fresh process that reports its peak RSS over what it held before (VmHWM,
reset through /proc/self/clear_refs): the goal is under 64 MiB.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from backports import zstd

from bench.peak_rss import PREAMBLE, PRINT, START

FIXTURE = Path(__file__).resolve().parents[2] / "shared/fixtures/criu-timerfd-itimer/images"
PAGES_BYTES = 2 << 30
BLOCK = 64 << 20
RSS_GOAL_MIB = 64
ANNOTATIONS = {
    "io.container.manager": "cri-o",
    "io.kubernetes.cri-o.Metadata": json.dumps({"name": "bench"}),
    "io.kubernetes.pod.name": "bench-pod",
    "io.kubernetes.pod.namespace": "default",
}

# Run in the child: peak RSS of one open over the RSS before it, and its time.
_CHILD = (
    PREAMBLE
    + "from timertui import archive\n"
    + START
    + "snap = archive.open_archive(sys.argv[1])\n"
    + "assert snap.processes[0].timers and snap.processes[0].container.pod == 'bench-pod'\n"
    + PRINT
)


class _Repeated(io.RawIOBase):
    """`size` bytes of `block` over and over, read as a file (tarfile copies from it)."""

    def __init__(self, block: bytes, size: int) -> None:
        self.block = memoryview(block)
        self.left = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        n = min(len(buf), self.left, len(self.block) - self.pos)
        buf[:n] = self.block[self.pos : self.pos + n]
        self.pos = (self.pos + n) % len(self.block)
        self.left -= n
        return n


def write_archive(out: io.BufferedWriter | zstd.ZstdFile) -> None:
    block = random.Random(42).randbytes(BLOCK)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, data: bytes | None = None, size: int = 0) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data) if data is not None else size
            source = io.BytesIO(data) if data is not None else _Repeated(block, size)
            tar.addfile(info, source)

        config = {"id": "b" * 64, "name": "bench", "runtime": "runc"}
        add("config.dump", json.dumps(config).encode())
        add("spec.dump", json.dumps({"annotations": ANNOTATIONS}).encode())
        for path in sorted(FIXTURE.glob("*.img")):
            if not path.name.startswith("pages-"):
                add(f"checkpoint/{path.name}", path.read_bytes())
        files = PAGES_BYTES // BLOCK // 4
        for index in range(files):
            add(f"checkpoint/pages-{index + 1}.img", size=PAGES_BYTES // files)


def open_in_child(path: Path) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    seconds, mib = done.stdout.split()
    return float(seconds), float(mib)


def read_kept(path: Path) -> float:
    """The plain tar's reference: reading the bytes of the members an open keeps, by offset."""
    start = time.perf_counter()
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.name.startswith("checkpoint/pages-"):
                tar.extractfile(member).read()  # type: ignore[union-attr]
    return time.perf_counter() - start


def decompress_all(path: Path) -> float:
    start = time.perf_counter()
    with zstd.ZstdFile(path) as f:
        while f.read(1 << 20):
            pass
    return time.perf_counter() - start


def main() -> None:
    if not FIXTURE.is_dir():
        print(f"skipped: {FIXTURE} missing")
        return
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        plain, packed = Path(tmp) / "checkpoint.tar", Path(tmp) / "checkpoint.tar.gz"
        start = time.perf_counter()
        with plain.open("wb") as out:
            write_archive(out)
        with zstd.ZstdFile(packed, "w", level=1) as out:
            write_archive(out)  # type: ignore[arg-type]
        made = time.perf_counter() - start
        print(
            f"made in {made:.1f} s: plain tar {plain.stat().st_size / 2**30:.2f} GiB, "
            f"zstd {packed.stat().st_size / 2**30:.2f} GiB (pages random, not compressible)"
        )
        print(f"{'open':28} {'s':>8} {'reference s':>12} {'ratio':>7} {'extra RSS MiB':>14}")
        for label, path, reference in (
            ("plain tar (CRI-O layout)", plain, read_kept(plain)),
            ("zstd (podman's default)", packed, decompress_all(packed)),
        ):
            seconds, mib = open_in_child(path)
            verdict = "met" if mib < RSS_GOAL_MIB else "missed"
            print(
                f"{label:28} {seconds:8.3f} {reference:12.3f} {seconds / reference:7.2f} "
                f"{mib:14.1f}  (goal < {RSS_GOAL_MIB} MiB: {verdict})"
            )
        print(
            "reference: plain, reading only the kept members (the pages are seeked past); "
            "zstd, decompressing the whole stream into nothing"
        )


if __name__ == "__main__":
    main()
