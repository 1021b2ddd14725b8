"""The C programs kernel tests run as their targets (tests/kernel/*.c), built with gcc; a test
skips, saying so, where gcc is missing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

KERNEL_TESTS = Path(__file__).resolve().parent / "kernel"


def build(name: str, folder: Path) -> Path:
    """tests/kernel/NAME.c built as folder/NAME."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip(f"gcc not found: {name}.c is a C program")
    out = folder / name
    subprocess.run(
        [gcc, "-O1", "-Wall", "-o", str(out), str(KERNEL_TESTS / f"{name}.c")], check=True
    )
    return out
