"""CRIU's binary image files: the framing (criu/image.c: a u32 IMG_COMMON_MAGIC or
IMG_SERVICE_MAGIC, the u32 magic of the image type — only that for inventory.img and pre-1.1
images — then entries, each a u32 length and a protobuf message), read with a size bound, and an
image directory imported."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from timertui.criu.entries import FdImages, Task, build_snapshot, check_tree, task_of
from timertui.criu.fields import CriuError, Fields, Malformed
from timertui.criu.protobuf import PbMessage
from timertui.criu.timerfds import FDINFO_MAGIC, FILES_MAGIC, IDS_MAGIC, files_files_id
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
_FDINFO_FILE = re.compile(r"fdinfo-([0-9]{1,10})\.img")


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


def image_entries(data: bytes, name: str, magic: int, kind: str) -> list[Fields]:
    """The entries of a CRIU image (`data`, called `name` in messages), after checking its
    magic and every entry's length."""
    size = len(data)
    if size < 4:
        raise CriuError(f"{name}: truncated: {size} bytes, too short for a CRIU image")
    found, pos = int.from_bytes(data[:4], "little"), 4
    if found in (IMG_COMMON_MAGIC, IMG_SERVICE_MAGIC):
        if size < 8:
            raise CriuError(f"{name}: truncated: the image type magic is cut off")
        found, pos = int.from_bytes(data[4:8], "little"), 8
    if found != magic:
        raise CriuError(
            f"{name}: not a CRIU {kind} image (magic {found:#010x}, expected {magic:#010x})"
        )
    entries: list[Fields] = []
    while pos < size:
        if size - pos < 4:
            raise CriuError(f"{name}: truncated: {size - pos} stray bytes after the last entry")
        length = int.from_bytes(data[pos : pos + 4], "little")
        pos += 4
        if length > size - pos:
            raise CriuError(
                f"{name}: truncated: entry at byte {pos - 4} claims {length} bytes, "
                f"{size - pos} remain"
            )
        try:
            entries.append(PbMessage(data, [(pos, pos + length)], f"entries[{len(entries)}]"))
        except Malformed as exc:
            raise CriuError(f"{name}: {exc}") from None
        pos += length
    return entries


class ImageFiles(Protocol):
    """The image files of one dump, wherever they are: a directory, or an archive's members
    read into memory."""

    source: str  # what the snapshot's source names

    def names(self) -> Iterable[str]: ...

    def read(self, name: str) -> bytes: ...

    def where(self, name: str) -> str:
        """The file as messages name it."""
        ...


class _Directory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.source = str(directory)

    def names(self) -> Iterable[str]:
        return [path.name for path in self.directory.glob("*.img")]

    def read(self, name: str) -> bytes:
        return read_image_file(self.directory / name)

    def where(self, name: str) -> str:
        return str(self.directory / name)


def _core_image(files: ImageFiles, name: str) -> Fields:
    where = files.where(name)
    entries = image_entries(files.read(name), where, CORE_MAGIC, "core")
    if len(entries) != 1:
        raise CriuError(f"{where}: holds {len(entries)} entries, a core image holds one")
    return entries[0]


def import_images(directory: Path) -> Snapshot:
    return import_image_files(_Directory(directory))


def import_image_files(files: ImageFiles) -> Snapshot:
    """The processes of pstree.img with their core-PID.img (and inventory.img's uptime)."""
    names = set(files.names())
    pstree = files.where("pstree.img")
    if "pstree.img" not in names:
        raise CriuError(f"{pstree}: missing: not a CRIU image set")
    entries = image_entries(files.read("pstree.img"), pstree, PSTREE_MAGIC, "pstree")
    try:
        tasks = [task_of(entry) for entry in entries]
    except Malformed as exc:
        raise CriuError(f"{pstree}: {exc}") from None
    core_tids = {}
    for name in names:
        match = _CORE_FILE.fullmatch(name)
        if match:
            core_tids[int(match[1])] = files.where(name)
    check_tree(pstree, tasks, core_tids)
    cores = {}
    for task in tasks:
        name = f"core-{task.pid}.img"
        if name in names:
            cores[task.pid] = (files.where(name), _core_image(files, name))
    uptime = None
    if "inventory.img" in names:
        inventory = files.where("inventory.img")
        found = image_entries(files.read("inventory.img"), inventory, INVENTORY_MAGIC, "inventory")
        try:
            uptime = found[0].opt_uint(8, "dump_uptime") if found else None
        except Malformed as exc:
            raise CriuError(f"{inventory}: {exc}") from None
    return build_snapshot(files.source, tasks, cores, uptime, _fd_images(files, names, tasks))


def _fd_images(files: ImageFiles, names: set[str], tasks: list[Task]) -> FdImages | None:
    """files.img's timerfds and each process's fdinfo image (ids-PID.img's files_id names it;
    without ids images, the one fdinfo image of a single process)."""
    if "files.img" not in names:
        return None
    where = files.where("files.img")
    entries = image_entries(files.read("files.img"), where, FILES_MAGIC, "files")
    fdinfo_names = sorted(n for n in names if _FDINFO_FILE.fullmatch(n))
    fdinfo: dict[int, tuple[str, list[Fields]]] = {}
    for task in tasks:
        name = None
        ids_name = f"ids-{task.pid}.img"
        if ids_name in names:
            ids_where = files.where(ids_name)
            found = image_entries(files.read(ids_name), ids_where, IDS_MAGIC, "ids")
            try:
                files_id = files_files_id(found[0]) if found else None
            except Malformed as exc:
                raise CriuError(f"{ids_where}: {exc}") from None
            name = f"fdinfo-{files_id}.img" if files_id is not None else None
        elif len(tasks) == 1 and len(fdinfo_names) == 1:
            name = fdinfo_names[0]
        if name is not None and name in names:
            fd_where = files.where(name)
            fdinfo[task.pid] = (
                fd_where,
                image_entries(files.read(name), fd_where, FDINFO_MAGIC, "fdinfo"),
            )
    return FdImages(entries, where, fdinfo)
