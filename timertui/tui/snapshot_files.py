"""Renaming and deleting the entries of the snapshot folder: snapshot files and CRIU image
directories. Both may block (a slow disk): the app calls them from thread workers."""

from __future__ import annotations

import os
from pathlib import Path

from timertui.errors import InputError


def rename_entry(path: Path, name: str) -> Path:
    """Rename `path` to `name` in the same folder, keeping a file's extension (typed or not);
    a name in use, a path or a hidden name is refused. One rename(2): atomic."""
    name = name.strip()
    if not name or "/" in name or name.startswith("."):
        raise InputError(f"{name!r}: a name (no '/', not starting with '.')")
    if path.is_file() and path.suffix and not name.endswith(path.suffix):
        name += path.suffix
    target = path.with_name(name)
    if target == path:
        return path
    if os.path.lexists(target):
        raise InputError(f"{name}: already exists")
    try:
        path.rename(target)
    except OSError as exc:
        raise InputError(f"{path.name} → {name}: {exc.strerror or exc}") from None
    return target


def delete_entry(path: Path) -> None:
    """Delete a snapshot file, or a CRIU image directory and the files in it (one with
    subdirectories is refused: it is more than an image)."""
    try:
        if not path.is_dir():
            path.unlink()
            return
        files = list(path.iterdir())
        if any(f.is_dir() and not f.is_symlink() for f in files):
            raise InputError(f"{path.name}: holds subdirectories; not deleted")
        for f in files:
            f.unlink()
        path.rmdir()
    except OSError as exc:
        raise InputError(f"{path.name}: {exc.strerror or exc}") from None
