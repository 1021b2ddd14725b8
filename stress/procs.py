"""Child processes and scratch space for the runs."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def fork(body: Callable[[], object], ready: bool = False) -> int:
    """Fork a child that runs `body()` and exits (status 1 if it raised). With `ready`, return
    only once the child has started (it says so on a pipe), so a kill cannot come before."""
    read_fd, write_fd = os.pipe() if ready else (-1, -1)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        status = 0
        try:
            if ready:
                os.close(read_fd)
                os.write(write_fd, b"!")
            body()
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    if ready:
        os.close(write_fd)
        os.read(read_fd, 1)
        os.close(read_fd)
    return pid


def children(pid: int | None = None) -> list[int]:
    """Processes whose parent is `pid` (default: us), zombies included."""
    parent = os.getpid() if pid is None else pid
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            if int(text[text.rindex(")") + 2 :].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def scratch_dir(on_disk: bool) -> Iterator[Path]:
    """A temporary directory: on the disk (fsync means something there) or in /dev/shm."""
    base = None if on_disk or not Path("/dev/shm").is_dir() else "/dev/shm"
    path = Path(tempfile.mkdtemp(prefix="timertui-stress-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
