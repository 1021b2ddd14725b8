"""Snapshot format 1.1: each process's container and namespace pid survive a save, and a 1.0
file (without them) still opens."""

from __future__ import annotations

import dataclasses
import re

import msgpack
import pytest
from builders import process, snapshot_of, timer

from stress.fuzz import seal
from timertui import snapshot_file
from timertui.model import Container

CONTAINER = Container(
    "cri-o", "ab" * 32, name="k8s_c", image="img:1", pod="p", namespace="ns", k8s_name="c"
)


def _in_container() -> snapshot_file.Snapshot:
    proc = dataclasses.replace(process([timer(0), timer(7)]), container=CONTAINER, ns_pid=1)
    return snapshot_of([proc, process([timer(3)])])


def test_container_facts_round_trip() -> None:
    snap = _in_container()
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap
    assert snapshot_file.FORMAT_MINOR >= 1  # 1.1 brought them; 1.2 adds the other timer kinds


def test_a_1_0_file_opens_without_container_facts() -> None:
    tree = msgpack.unpackb(snapshot_file.encode(_in_container())[snapshot_file.HEADER_SIZE :])
    for proc in tree["processes"]:
        del proc["container"], proc["ns_pid"]
    loaded = snapshot_file.decode(seal(msgpack.packb(tree), 1, 0))
    assert [p.container for p in loaded.processes] == [None, None]
    assert [p.ns_pid for p in loaded.processes] == [None, None]


def test_a_newer_minor_may_add_container_keys() -> None:
    tree = msgpack.unpackb(snapshot_file.encode(_in_container())[snapshot_file.HEADER_SIZE :])
    tree["processes"][0]["container"]["cgroup_driver"] = "systemd"
    del tree["processes"][0]["container"]["image"]
    loaded = snapshot_file.decode(seal(msgpack.packb(tree), 1, 9))
    assert loaded.processes[0].container == dataclasses.replace(CONTAINER, image="")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"container": 5}, "processes[0].container: expected a map or nil, got an integer"),
        ({"container": {"id": "x"}}, "processes[0].container.runtime: missing"),
        ({"container": {"runtime": "x", "id": 7}}, "processes[0].container.id: expected a st"),
        ({"ns_pid": "1"}, "processes[0].ns_pid: expected an integer or nil, got a string"),
    ],
)
def test_bad_container_facts_are_named(change: dict[str, object], message: str) -> None:
    tree = msgpack.unpackb(snapshot_file.encode(_in_container())[snapshot_file.HEADER_SIZE :])
    tree["processes"][0].update(change)
    with pytest.raises(
        snapshot_file.SnapshotError,
        match="^" + re.escape(f"<bytes>: {message}"),
    ):
        snapshot_file.decode(seal(msgpack.packb(tree), 1, 1))
