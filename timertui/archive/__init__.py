"""Container checkpoint archives opened directly: podman's `container checkpoint --export` and
Kubernetes' checkpoints (kubelet's checkpoint-POD_NAMESPACE-CONTAINER-TIME.tar, made by CRI-O or
containerd). Each is a tar (zstd, gzip or plain, told by its first bytes) holding config.dump and
spec.dump beside checkpoint/, CRIU's images.

One pass over the stream, in bounded memory: only the images the timers need (pstree.img,
core-*.img, inventory.img) and the two dumps are kept, each up to its size bound; memory pages
(pages-*.img), rootfs-diff.tar and the rest are skipped, not read (seeked past in a plain tar).
Nothing is extracted or written anywhere. The result is a Snapshot whose processes carry the
container, whose capture time is the checkpoint's, and whose source is "archive:PATH".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from timertui.archive.compression import ArchiveError, Stream, kind_of
from timertui.archive.metadata import checkpoint_time_ns, container_of, parse_json
from timertui.archive.tar import TarReader
from timertui.criu.fields import CriuError
from timertui.criu.images import MAX_FILE_BYTES, import_image_files
from timertui.model import Snapshot

__all__ = ["ArchiveError", "kind_of", "open_archive"]

CHECKPOINT_DIR = "checkpoint"
DUMP_BYTES = 4 << 20  # config.dump and spec.dump are tens of KiB
KEPT_BYTES = MAX_FILE_BYTES  # all images kept together
_IMAGES = re.compile(r"(pstree|inventory|core-[0-9]{1,10})\.img")
_DUMPS = ("config.dump", "spec.dump")


class _Members:
    """The kept images, as timertui.criu reads an image set."""

    def __init__(self, archive: str, images: dict[str, bytes]) -> None:
        self.source = archive
        self.images = images

    def names(self) -> Iterable[str]:
        return self.images

    def read(self, name: str) -> bytes:
        return self.images[name]

    def where(self, name: str) -> str:
        return f"{self.source}:{CHECKPOINT_DIR}/{name}"


def open_archive(path: str) -> Snapshot:
    """The timers of the container checkpoint archive at `path`. ArchiveError (or CriuError for
    a bad image inside) with one line naming the archive, and the member, and the fault."""
    try:
        raw = open(path, "rb")  # noqa: PTH123, SIM115 - closed below; pathlib costs start-up
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with raw:
        kind = kind_of(raw.read(512))
        if kind is None:
            raise ArchiveError(f"{path}: not a zstd, gzip or tar checkpoint archive")
        raw.seek(0)
        images, dumps, newest = _read_members(TarReader(Stream(raw, kind, path)))
    if not images and newest is None:
        raise ArchiveError(f"{path}: no {CHECKPOINT_DIR}/ folder: not a container checkpoint")
    config = (
        parse_json(dumps["config.dump"], f"{path}:config.dump") if "config.dump" in dumps else {}
    )
    spec = parse_json(dumps["spec.dump"], f"{path}:spec.dump") if "spec.dump" in dumps else {}
    try:
        snap = import_image_files(_Members(path, images))
    except CriuError as exc:
        raise ArchiveError(str(exc)) from None
    container = container_of(config, spec) if config or spec else None
    when = checkpoint_time_ns(config) or (newest or 0) * 1_000_000_000
    return dataclasses.replace(
        snap,
        processes=tuple(dataclasses.replace(p, container=container) for p in snap.processes),
        times=dataclasses.replace(snap.times, realtime_ns=when),
        source=f"archive:{path}",
    )


def _read_members(tar: TarReader) -> tuple[dict[str, bytes], dict[str, bytes], int | None]:
    """(images kept by name, dumps by name, newest mtime under checkpoint/ or None without
    one)."""
    images: dict[str, bytes] = {}
    dumps: dict[str, bytes] = {}
    newest: int | None = None
    kept = 0
    for member in tar.members():
        folder, _, base = member.name.rpartition("/")
        if CHECKPOINT_DIR in (member.name, folder):
            newest = max(newest or 0, member.mtime)
        if member.directory:
            continue
        wanted = None
        if folder == CHECKPOINT_DIR and _IMAGES.fullmatch(base):
            wanted, bound, what, into = (
                base,
                MAX_FILE_BYTES,
                "pstree, core or inventory image",
                images,
            )
        elif not folder and base in _DUMPS:
            wanted, bound, what, into = base, DUMP_BYTES, base, dumps
        if wanted is None:
            continue
        if wanted in into:
            raise ArchiveError(f"{tar.name}: {member.name} appears twice")
        if member.size <= bound and kept + member.size > KEPT_BYTES:
            raise ArchiveError(
                f"{tar.name}: the images the timers need claim more than {KEPT_BYTES >> 20} MiB"
            )
        into[wanted] = tar.read(member, bound, what)  # refused unread past `bound`
        kept += member.size
    return images, dumps, newest
