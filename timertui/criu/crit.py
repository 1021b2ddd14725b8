"""crit's JSON (`crit decode --pretty`) of pstree, core and inventory images: the same messages
with names for fields, enums and task states, and hex strings for CRIU's hex fields."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from timertui.criu.entries import FdImages, Task, build_snapshot, check_tree, task_of
from timertui.criu.fields import CriuError, Fields, Malformed, child, in_bits
from timertui.criu.images import is_image_header, read_image_file
from timertui.criu.timerfds import files_files_id
from timertui.model import Snapshot

_CORE_JSON = re.compile(r"core-([0-9]{1,10})\..*json")
_NUMBERED_JSON = re.compile(r"(?:fdinfo|ids)-([0-9]{1,10})\..*json")


class JsonMessage:
    """A message as `crit decode --pretty` prints it: names for fields, enums and task states,
    and hex strings for the fields CRIU marks as hex."""

    def __init__(self, obj: dict[str, Any], path: str) -> None:
        self.obj = obj
        self.path = path

    def opt_uint(
        self, num: int, name: str, bits: int = 64, names: dict[str, int] | None = None
    ) -> int | None:
        value = self.obj.get(name)
        if value is None:
            return None
        path = child(self.path, name)
        if names is not None and isinstance(value, str) and value in names:
            return names[value]
        return in_bits(_json_int(value, path), bits, path)

    def opt_int32(self, num: int, name: str) -> int | None:
        value = self.obj.get(name)
        if value is None:
            return None
        path = child(self.path, name)
        number = _json_int(value, path)
        if not -(2**31) <= number < 2**31:
            raise Malformed(path, f"{number} does not fit int32")
        return number

    def opt_string(self, num: int, name: str) -> str | None:
        value = self.obj.get(name)
        if value is None or isinstance(value, str):
            return value
        raise Malformed(child(self.path, name), f"expected a string, got {value!r}")

    def message(self, num: int, name: str) -> JsonMessage | None:
        value = self.obj.get(name)
        return None if value is None else json_object(value, child(self.path, name))

    def messages(self, num: int, name: str) -> list[Fields]:
        path = child(self.path, name)
        return [
            json_object(v, f"{path}[{i}]") for i, v in enumerate(json_list(self.obj, name, path))
        ]

    def uints(self, num: int, name: str, bits: int = 64) -> list[int]:
        path = child(self.path, name)
        return [
            in_bits(_json_int(v, f"{path}[{i}]"), bits, f"{path}[{i}]")
            for i, v in enumerate(json_list(self.obj, name, path))
        ]


def _json_int(value: Any, path: str) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)  # crit prints (criu).hex fields as "0x..."
        except ValueError:
            pass
    raise Malformed(path, f"expected an integer, got {value!r}")


def json_object(value: Any, path: str) -> JsonMessage:
    if not isinstance(value, dict):
        raise Malformed(path, f"expected an object, got {type(value).__name__}")
    return JsonMessage(value, path)


def json_list(obj: dict[str, Any], name: str, path: str) -> list[Any]:
    value = obj.get(name, [])
    if not isinstance(value, list):
        raise Malformed(path, f"expected an array, got {type(value).__name__}")
    return value


def _json_image(path: Path) -> tuple[str, list[JsonMessage]]:
    """The magic name and entries of one crit JSON file."""
    data = read_image_file(path)
    if is_image_header(data):
        raise CriuError(f"{path}: a single CRIU image; give the directory that holds pstree.img")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise CriuError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("magic"), str):
        raise CriuError(f'{path}: not crit JSON (no "magic" name at the top)')
    try:
        entries = [
            json_object(e, f"entries[{i}]")
            for i, e in enumerate(json_list(doc, "entries", "entries"))
        ]
    except Malformed as exc:
        raise CriuError(f"{path}: {exc}") from None
    return doc["magic"], entries


def import_json(files: list[Path], source: str, single: bool) -> Snapshot:
    tasks: list[Task] | None = None
    cores: dict[int, tuple[str, JsonMessage]] = {}
    uptime = None
    file_entries: tuple[str, list[JsonMessage]] | None = None
    fdinfo: dict[int, tuple[str, list[JsonMessage]]] = {}  # by files_id
    files_ids: dict[int, int] = {}  # pid -> files_id
    for path in files:
        magic, entries = _json_image(path)
        try:
            if magic == "FILES" and not single:
                file_entries = (str(path), entries)
            elif magic == "FDINFO" and not single:
                fdinfo[_json_number(path)] = (str(path), entries)
            elif magic == "IDS" and not single:
                files_id = files_files_id(entries[0]) if entries else None
                if files_id is not None:
                    files_ids[_json_number(path)] = files_id
            elif magic == "PSTREE":
                tasks = [task_of(entry) for entry in entries]
            elif magic == "INVENTORY":
                uptime = entries[0].opt_uint(8, "dump_uptime") if entries else None
            elif magic == "CORE":
                cores[_json_core_pid(path)] = (str(path), _single_entry(path, entries))
            elif single:
                # a name with a line break in it must not break the one-line message
                shown = magic if magic.isprintable() else repr(magic)
                raise CriuError(f"{path}: crit JSON of a {shown} image; expected CORE or PSTREE")
        except Malformed as exc:
            raise CriuError(f"{path}: {exc}") from None
    if tasks is None:
        # Without the pstree the parent is unknown (0) and only the leader thread is known;
        # in a directory, cores without a task core are other threads, which hold no timers.
        tasks = [
            Task(pid, 0, (pid,))
            for pid, (_, core) in sorted(cores.items())
            if single or "tc" in core.obj
        ]
        if not tasks:
            raise CriuError(f"{source}: no crit JSON of a process's core image")
    else:
        check_tree(source, tasks, {tid: name for tid, (name, _) in cores.items()})
    fds = None
    if file_entries is not None:
        placed: dict[int, tuple[str, list[JsonMessage]]] = {}
        for task in tasks:
            files_id = files_ids.get(task.pid)
            if files_id is None and len(tasks) == 1 and len(fdinfo) == 1:
                files_id = next(iter(fdinfo))
            if files_id in fdinfo:
                placed[task.pid] = fdinfo[files_id]
        fds = FdImages(file_entries[1], file_entries[0], placed)
    return build_snapshot(source, tasks, cores, uptime, fds)


def _json_number(path: Path) -> int:
    match = _NUMBERED_JSON.fullmatch(path.name)
    if match is None:
        raise CriuError(
            f"{path}: cannot tell its number: name the file fdinfo-N.json or ids-PID.json"
        )
    return int(match[1])


def _json_core_pid(path: Path) -> int:
    match = _CORE_JSON.fullmatch(path.name)
    if match is None:
        raise CriuError(f"{path}: cannot tell the pid: name the file core-PID.crit.json")
    return int(match[1])


def _single_entry(path: Path, entries: list[JsonMessage]) -> JsonMessage:
    if len(entries) != 1:
        raise CriuError(f"{path}: holds {len(entries)} entries, a core image holds one")
    return entries[0]
