"""verify.pairing: which live process each checkpoint process is, and the pid/tid map."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import HELPER, PID, process, snapshot_of, timer

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
