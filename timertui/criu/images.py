"""CRIU's binary image files: the framing (criu/image.c: a u32 IMG_COMMON_MAGIC or
IMG_SERVICE_MAGIC, the u32 magic of the image type — only that for inventory.img and pre-1.1
images — then entries, each a u32 length and a protobuf message), read with a size bound, and an
image directory imported."""

from __future__ import annotations

import os
import re
from pathlib import Path

from timertui.criu.entries import build_snapshot, check_tree, task_of
from timertui.criu.fields import CriuError, Fields, Malformed
from timertui.criu.protobuf import PbMessage
from timertui.model import Snapshot

IMG_COMMON_MAGIC = 0x54564319
IMG_SERVICE_MAGIC = 0x55105940
INVENTORY_MAGIC = 0x58313116
PSTREE_MAGIC = 0x50273030
CORE_MAGIC = 0x55053847

# pstree, core and inventory images hold a few KiB (a core with 100,000 timers about 5 MB, its
# crit JSON about 25 MB): anything larger is not one of them.
MAX_FILE_BYTES = 64 << 20
_CORE_FILE = re.compile(r"core-([0-9]{1,10})\.img")


def is_image_header(head: bytes) -> bool:
    """Whether these first bytes start a CRIU image (for telling file kinds apart)."""
    magics = (IMG_COMMON_MAGIC, IMG_SERVICE_MAGIC, INVENTORY_MAGIC)
    return len(head) >= 4 and int.from_bytes(head[:4], "little") in magics


def read_image_file(path: Path) -> bytes:
    """The file's bytes, up to MAX_FILE_BYTES: a sparse file or a device such as /dev/zero in
    an image directory must not be read until memory runs out."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            data = b""
            if size <= MAX_FILE_BYTES:
                # st_size is 0 for devices and pipes, which may never end: read one byte past
                # the limit at most
                data = f.read() if size else f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CriuError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if max(size, len(data)) > MAX_FILE_BYTES:
        raise CriuError(
            f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB, more than any pstree, core or "
            "inventory image (or its crit JSON) holds"
        )
    return data


def image_entries(path: Path, magic: int, kind: str) -> list[Fields]:
    """The entries of a CRIU image, after checking its magic and every entry's length."""
    data = read_image_file(path)
    size = len(data)
    if size < 4:
        raise CriuError(f"{path}: truncated: {size} bytes, too short for a CRIU image")
    found, pos = int.from_bytes(data[:4], "little"), 4
    if found in (IMG_COMMON_MAGIC, IMG_SERVICE_MAGIC):
        if size < 8:
            raise CriuError(f"{path}: truncated: the image type magic is cut off")
        found, pos = int.from_bytes(data[4:8], "little"), 8
    if found != magic:
        raise CriuError(
            f"{path}: not a CRIU {kind} image (magic {found:#010x}, expected {magic:#010x})"
        )
    entries: list[Fields] = []
    while pos < size:
        if size - pos < 4:
            raise CriuError(f"{path}: truncated: {size - pos} stray bytes after the last entry")
        length = int.from_bytes(data[pos : pos + 4], "little")
        pos += 4
        if length > size - pos:
            raise CriuError(
                f"{path}: truncated: entry at byte {pos - 4} claims {length} bytes, "
                f"{size - pos} remain"
            )
        try:
            entries.append(PbMessage(data, [(pos, pos + length)], f"entries[{len(entries)}]"))
        except Malformed as exc:
            raise CriuError(f"{path}: {exc}") from None
        pos += length
    return entries


def _core_image(path: Path) -> Fields:
    entries = image_entries(path, CORE_MAGIC, "core")
    if len(entries) != 1:
        raise CriuError(f"{path}: holds {len(entries)} entries, a core image holds one")
    return entries[0]


def import_images(directory: Path) -> Snapshot:
    pstree = directory / "pstree.img"
    try:
        tasks = [task_of(entry) for entry in image_entries(pstree, PSTREE_MAGIC, "pstree")]
    except Malformed as exc:
        raise CriuError(f"{pstree}: {exc}") from None
    core_tids = {}
    for path in directory.glob("core-*.img"):
        match = _CORE_FILE.fullmatch(path.name)
        if match:
            core_tids[int(match[1])] = str(path)
    check_tree(str(pstree), tasks, core_tids)
    cores = {}
    for task in tasks:
        path = directory / f"core-{task.pid}.img"
        if path.exists():
            cores[task.pid] = (str(path), _core_image(path))
    uptime = None
    inventory = directory / "inventory.img"
    if inventory.exists():
        entries = image_entries(inventory, INVENTORY_MAGIC, "inventory")
        try:
            uptime = entries[0].opt_uint(8, "dump_uptime") if entries else None
        except Malformed as exc:
            raise CriuError(f"{inventory}: {exc}") from None
    return build_snapshot(str(directory), tasks, cores, uptime)
