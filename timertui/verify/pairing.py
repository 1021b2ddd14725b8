"""Which live process each checkpoint process was restored as: the PIDs given, in order; else
a container's processes (by name or id), each image pid found through the NSpid of the live
ones; else the same pids, as CRIU restores a process in place. And the map of the checkpoint's
pids and tids to the live ones, which a timer's notify target and CPU clock are compared
through."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from timertui.capture import processes
from timertui.capture.proc_timers import PROC_ROOT
from timertui.errors import InputError
from timertui.model import Container, ProcessTimers, Snapshot
from timertui.records import record


class PairingError(InputError):
    """The live processes cannot be told: a PID that is no process, a container not running."""


@record
class Pairing:
    """A checkpoint process and the pid of the live process it was restored as."""

    checkpoint: ProcessTimers
    live_pid: int


def pair_processes(
    snapshot: Snapshot, pids: Sequence[int] = (), container: str | None = None
) -> tuple[Pairing, ...]:
    """The live process of each checkpoint process: `pids` pair with the checkpoint's
    processes in order (fewer: the first ones only); `container` names a live container
    whose processes hold the image pids in their own pid namespace; neither: the checkpoint's
    container when it names one, else the same pids. Raises PairingError (one line)."""
    procs = snapshot.processes
    if not procs:
        raise PairingError("the checkpoint holds no process")
    if pids:
        if len(pids) > len(procs):
            raise PairingError(
                f"{len(pids)} PIDs given, the checkpoint holds {len(procs)} process(es): "
                f"pids {', '.join(str(p.pid) for p in procs)}"
            )
        return tuple(pair_one(p, pid) for p, pid in zip(procs, pids, strict=False))
    wanted = container or next((_container_key(p.container) for p in procs if p.container), None)
    if wanted is not None:
        return _in_container(procs, wanted, named=container is not None)
    for p in procs:
        if not _exists(p.pid):
            raise PairingError(
                f"process {p.pid} of the checkpoint is not running here: give the PIDs of the "
                "restored processes"
            )
    return tuple(Pairing(p, p.pid) for p in procs)


def pair_one(checkpoint: ProcessTimers, live_pid: int) -> Pairing:
    """One checkpoint process and the live pid chosen for it (the app's choice); PairingError
    when that pid is no process."""
    _require_process(live_pid)
    return Pairing(checkpoint, live_pid)


def id_map(pairings: Sequence[Pairing], live: Mapping[int, ProcessTimers]) -> dict[int, int]:
    """Checkpoint pid or tid -> live pid or tid: each process's pid, and its threads by their
    place in tid order after the main thread (CRIU restores tids as they were; our restore
    makes threads in that order)."""
    mapped: dict[int, int] = {}
    for pairing in pairings:
        old = pairing.checkpoint
        new = live.get(pairing.live_pid)
        mapped[old.pid] = pairing.live_pid
        if new is None:
            continue
        old_tids = [t for t in sorted(old.tids) if t != old.pid]
        new_tids = [t for t in sorted(new.tids) if t != new.pid]
        mapped.update(zip(old_tids, new_tids, strict=False))
    return mapped


def _container_key(c: Container | None) -> str | None:
    return None if c is None else c.id or c.name


def _in_container(procs: Sequence[ProcessTimers], wanted: str, named: bool) -> tuple[Pairing, ...]:
    """The checkpoint's processes found in the live container `wanted` (name, id or an id's
    start) by the pid each has in the container's pid namespace."""
    live = [
        p
        for p in processes.scan(include_all=True)
        if p.container is not None and _names(p.container, wanted)
    ]
    if not live:
        how = "" if named else " (the checkpoint's; name the restored one with --container)"
        raise PairingError(f"no running container {wanted}{how}")
    by_ns_pid = {p.pid if p.ns_pid is None else p.ns_pid: p.pid for p in live}
    pairings = []
    for p in procs:
        pid = by_ns_pid.get(p.pid)
        if pid is None:
            raise PairingError(
                f"container {wanted} has no process {p.pid} in its pid namespace (NSpid): "
                "give the PIDs of the restored processes"
            )
        pairings.append(Pairing(p, pid))
    return tuple(pairings)


def _names(c: Container, wanted: str) -> bool:
    return wanted in (c.name, c.k8s_name) or (len(wanted) >= 4 and c.id.startswith(wanted))


def _exists(pid: int) -> bool:
    return os.path.exists(f"{PROC_ROOT}/{pid}")  # noqa: PTH110


def _require_process(pid: int) -> None:
    """A one-line PairingError when `pid` is no process (a thread is told apart by
    read_process, which the engine calls)."""
    if pid <= 0 or not _exists(pid):
        raise PairingError(f"no such process: {pid}")
