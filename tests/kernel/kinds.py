"""The every-kind target (kinds_target.c, built with gcc): timerfds at fds 17, 42 and 43, the
three interval timers and one POSIX timer, for the tests that read them here and over ssh."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("kinds_target.c")


def build_kinds_target(out: Path) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not found: the target is a C program")
    subprocess.run([gcc, "-O1", "-Wall", "-o", str(out), str(SOURCE)], check=True)
    return out


@contextlib.contextmanager
def running_kinds_target(binary: Path) -> Iterator[int]:
    """The target running, once it said it is ready: its pid."""
    proc = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
