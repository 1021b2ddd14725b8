"""verify.pairing: which live process each checkpoint process is, and the pid/tid map."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import HELPER, PID, process, snapshot_of, timer

from timertui.model import Container
from timertui.verify import pairing
from timertui.verify.pairing import Pairing, PairingError, id_map, pair_processes

NOT_RUNNING = 999_999_999  # above pid_max: never a process


def test_given_pids_pair_in_order_and_too_many_is_bad_input() -> None:
    snap = snapshot_of([process([timer(0)])])
    (pairing,) = pair_processes(snap, [1])
    assert (pairing.checkpoint.pid, pairing.live_pid) == (PID, 1)
    with pytest.raises(PairingError, match="2 PIDs given, the checkpoint holds 1 process"):
        pair_processes(snap, [1, 1])
    with pytest.raises(PairingError, match=f"no such process: {NOT_RUNNING}"):
        pair_processes(snap, [NOT_RUNNING])


def test_without_pids_the_checkpoint_s_own_pids_must_be_running() -> None:
    gone = snapshot_of([replace(process([timer(0)]), pid=NOT_RUNNING)])
    with pytest.raises(PairingError, match=f"process {NOT_RUNNING} of the checkpoint is not"):
        pair_processes(gone)
    here = snapshot_of([replace(process([timer(0)]), pid=1)])
    assert [p.live_pid for p in pair_processes(here)] == [1]


def test_threads_map_by_their_place_after_the_main_thread() -> None:
    old = process([], tids=(PID, HELPER, PID + 7))
    new = replace(old, pid=70, tids=(90, 70, 80))
    assert id_map([Pairing(old, 70)], {70: new}) == {PID: 70, HELPER: 80, PID + 7: 90}
    assert id_map([Pairing(old, 70)], {}) == {PID: 70}


def test_a_container_s_processes_pair_by_their_pid_inside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The image pids are the container's (NSpid's last); the live host pids differ."""
    podman = Container("podman", "f6dd15e62e0f" + "0" * 52, name="timers-ct")
    other = Container("podman", "ab" * 32, name="other")
    inside = [
        replace(process([]), pid=7001, ns_pid=1, container=podman),
        replace(process([]), pid=7002, ns_pid=2, container=podman),
        replace(process([]), pid=7003, ns_pid=2, container=other),
        replace(process([]), pid=7004),
    ]
    monkeypatch.setattr(pairing.processes, "scan", lambda include_all: inside)
    image = [replace(process([]), pid=2, container=podman), replace(process([]), pid=1)]
    snap = snapshot_of(image)
    # The archive's own container by default; by name or an id's start when asked.
    for named in (None, "timers-ct", "f6dd15e6"):
        assert [(p.checkpoint.pid, p.live_pid) for p in pair_processes(snap, (), named)] == [
            (2, 7002),
            (1, 7001),
        ]
    with pytest.raises(PairingError, match="no running container nosuch"):
        pair_processes(snap, (), "nosuch")
    with pytest.raises(PairingError, match="container other has no process 1 in its pid"):
        pair_processes(snap, (), "other")
