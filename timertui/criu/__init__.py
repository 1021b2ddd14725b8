"""CRIU image import without a CRIU install: pstree.img, core-PID.img and inventory.img (and for
timerfds files.img, ids-PID.img and fdinfo-N.img) decoded field by field, or crit's JSON of them
(`crit decode --pretty`), into a normal Snapshot.

Image framing (criu/image.c, lib/pycriu/images/images.py): a little-endian u32 IMG_COMMON_MAGIC
(IMG_SERVICE_MAGIC for service files), then the u32 magic of the image type; inventory.img and
pre-1.1 images carry only the type magic. Then entries, each a u32 length and a protobuf message.
Field numbers follow CRIU's images/*.proto: core.proto (core_entry: mtype=1, tc=3, thread_core=5;
task_core_entry: task_state=1, comm=6, timers=7, rlimits=8; thread_core_entry: creds=10),
timer.proto (task_timers_entry.posix=4, posix_timer_entry 1..11), pstree.proto, rlimit.proto,
creds.proto (uid=1) and inventory.proto (dump_uptime=8).
"""

from __future__ import annotations

from pathlib import Path

from timertui.criu.fields import CriuError
from timertui.criu.images import (
    CORE_MAGIC,
    IMG_COMMON_MAGIC,
    IMG_SERVICE_MAGIC,
    INVENTORY_MAGIC,
    PSTREE_MAGIC,
    import_images,
    is_image_header,
)
from timertui.model import Snapshot

__all__ = [
    "CORE_MAGIC",
    "IMG_COMMON_MAGIC",
    "IMG_SERVICE_MAGIC",
    "INVENTORY_MAGIC",
    "PSTREE_MAGIC",
    "CriuError",
    "import_criu",
    "is_image_header",
]


def import_criu(path: str | Path) -> Snapshot:
    """Import a CRIU image directory (pstree.img + core-PID.img), a directory of crit JSON
    files (*.crit.json), or one crit JSON file. Raises CriuError naming the file and fault."""
    src = Path(path)
    if src.is_dir():
        if (src / "pstree.img").exists():
            return import_images(src)
        # crit's own names (NAME.crit.json), else plain NAME.json as `crit decode -o` writes.
        files = sorted(src.glob("*.crit.json")) or sorted(src.glob("*.json"))
        if files:
            from timertui.criu.crit import import_json

            return import_json(files, str(src), single=False)
        raise CriuError(f"{src}: not a CRIU image directory (no pstree.img, no *.crit.json)")
    if not src.exists():
        raise CriuError(f"{src}: no such file or directory")
    from timertui.criu.crit import import_json

    return import_json([src], str(src), single=True)
