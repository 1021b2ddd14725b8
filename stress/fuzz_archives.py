"""Mutation fuzzing of the checkpoint archive decoder (`sources.open_source` on an archive),
from the real podman export (../shared/fixtures/podman-checkpoint): its members re-packed as a
plain tar, gzip or zstd, then mutated at three levels: the archive's bytes (compressed or not), a
member's bytes repacked (the CRIU images, config.dump, spec.dump), and the tar's structure (odd
member kinds and names, sizes claiming terabytes, cuts, members dropped or doubled)."""

from __future__ import annotations

import copy
import gzip
import io
import random
import tarfile
from pathlib import Path

from backports import zstd

from stress.fuzz import Case, Mutator, Target, plan_each
from timertui import archive, criu, sources
from timertui.model import Snapshot

PODMAN = Path(__file__).resolve().parents[2] / "shared/fixtures/podman-checkpoint/ck-gzip.tar.gz"
_KEPT = ("checkpoint/core-1.img", "checkpoint/pstree.img", "checkpoint/inventory.img",
         "config.dump", "spec.dump")  # fmt: skip
_ODD_KINDS = (tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE,
              tarfile.FIFOTYPE, tarfile.CONTTYPE, b"S", b"V", b"g")  # fmt: skip
_ODD_NAMES = ("../x", "/abs", "checkpoint/../../etc/passwd", "./checkpoint/core-1.img",
              "checkpoint//pstree.img", "checkpoint", "", "config.dump/")  # fmt: skip


class ArchiveTarget(Target):
    name = "checkpoint archives"
    error = (archive.ArchiveError, sources.SourceError, criu.CriuError)
    tokens = (
        b"ustar\x0000", b"ustar  \x00", b"\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00",
        b"77777777777", b"\x28\xb5\x2f\xfd", b"\x1f\x8b\x08", b"\x00" * 512, b"checkpoint/",
    )  # fmt: skip

    def __init__(self, work: Path, fixture: Path = PODMAN) -> None:
        with tarfile.open(fixture) as tar:
            self.members = [
                (m, b"" if not m.isfile() else tar.extractfile(m).read())  # type: ignore[union-attr]
                for m in tar.getmembers()
            ]
        self.plain = _pack(self.members)
        work.mkdir(parents=True, exist_ok=True)
        self.path = work / "fuzz.tar.gz"

    def donors(self) -> list[bytes]:
        return [data for _, data in self.members if data]

    def case(self, rng: random.Random, mutator: Mutator) -> Case:
        kind = rng.random()
        members = list(self.members)
        if kind < 0.3:
            data, label = mutator.mutate(self.plain), "tar bytes"
        elif kind < 0.65:
            at = rng.choice([i for i, (m, _) in enumerate(members) if m.name in _KEPT])
            info, body = members[at]
            members[at] = (info, mutator.mutate(body))
            data, label = _pack(members), f"{info.name} bytes"
        else:
            data, label = self._structure(rng, members)
        squeeze = rng.random()
        if squeeze < 0.25:
            data, label = gzip.compress(data, 1), label + ", gzip"
        elif squeeze < 0.5:
            data, label = zstd.compress(data, 1), label + ", zstd"
        if squeeze < 0.5 and rng.random() < 0.3:
            data, label = mutator.mutate(data), label + " then its bytes"
        self.path.write_bytes(data)
        path = self.path

        def use(snap: Snapshot) -> None:
            plan_each(snap)

        return Case(lambda: sources.open_source(path), f"{path}", label, data, use)

    def _structure(
        self, rng: random.Random, members: list[tuple[tarfile.TarInfo, bytes]]
    ) -> tuple[bytes, str]:
        op = rng.randrange(5)
        if op == 0:
            info = tarfile.TarInfo(rng.choice(_ODD_NAMES))
            info.type = rng.choice(_ODD_KINDS)
            info.linkname = "/etc/passwd"
            members.insert(rng.randrange(len(members) + 1), (info, b""))
            return _pack(members), f"a member {info.name!r} of type {info.type!r}"
        if op == 1:
            del members[rng.randrange(len(members))]
            return _pack(members), "a member dropped"
        if op == 2:
            members.append(rng.choice(members))
            return _pack(members), "a member doubled"
        data = bytearray(_pack(members))
        if op == 3:  # a size field claiming terabytes, checksum made right again
            header = 512 * rng.randrange(len(data) // 512 - 2)
            data[header + 124 : header + 136] = b"\x80" + rng.randrange(1 << 44).to_bytes(11, "big")
            data[header + 148 : header + 156] = b" " * 8
            data[header + 148 : header + 155] = b"%06o\0" % sum(data[header : header + 512])
            return bytes(data), "a size claiming terabytes"
        return bytes(data[: rng.randrange(len(data))]), "cut short"


def _pack(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for original, data in members:
            info = copy.copy(original)
            if info.isreg():
                info.size = len(data)
            try:
                tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
            except (ValueError, tarfile.TarError):
                continue  # a member tarfile itself will not write (an empty name)
    return buf.getvalue()
