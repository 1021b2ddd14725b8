"""Running timertui as uid 65534 (nobody) from the root test process.

This machine's default Python lives under /root (mode 700), which uid 65534 cannot reach. The
`nobody` fixture finds a system Python of the same version (Debian's /usr/bin/python3.X) and
uses the checkout and its site-packages when they are readable to all, else a world-readable
copy of the packages the CLI needs. Scripts given to it start with sys.path set (_BOOT).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
_PACKAGES = ("psutil", "msgpack", "cffi", "_cffi_backend")
_BOOT = "import sys; sys.path[:0] = sys.argv[1].split(':'); del sys.argv[1]\n"
Nobody = tuple[str, list[str]]
Completed = subprocess.CompletedProcess[str]
CLI = "from timertui import cli; sys.exit(cli.main(sys.argv[1:]))"


def _runs_as_nobody(python: str, path: list[str]) -> bool:
    probe = "import timertui.cli, timertui._native, timertui.capture.inject, psutil, msgpack"
    try:
        out = subprocess.run(
            [python, "-I", "-c", _BOOT + probe, ":".join(path)],
            user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0


def _world_readable_copy(base: Path) -> list[str]:
    """The checkout's timertui and the CLI's compiled dependencies, copied where all may read."""
    site = Path(sysconfig.get_paths()["purelib"])
    base.chmod(0o755)
    shutil.copytree(ROOT / "timertui", base / "timertui", ignore=shutil.ignore_patterns("*.pyc"))
    for entry in site.iterdir():
        if entry.name.split(".")[0] in _PACKAGES and not entry.name.endswith("dist-info"):
            copy = shutil.copytree if entry.is_dir() else shutil.copy2
            copy(entry, base / entry.name)
    for path in [base, *base.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return [str(base)]


def find_nobody() -> Iterator[Nobody]:
    """(interpreter, sys.path entries) that run the CLI as uid 65534: for a session fixture
    (a world-readable copy, if one is needed, lasts until it ends); skips when there is none."""
    if os.geteuid() != 0:
        pytest.skip("switching to uid 65534 needs root")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable), f"/usr/bin/python{version}",
                  f"/usr/local/bin/python{version}"]  # fmt: skip
    direct = [str(ROOT), sysconfig.get_paths()["purelib"]]
    with tempfile.TemporaryDirectory(prefix="timertui-nobody-") as tmp:
        copied: list[str] | None = None
        for python in dict.fromkeys(candidates):
            if not Path(python).exists():
                continue
            if _runs_as_nobody(python, direct):
                yield python, direct
                return
            copied = copied or _world_readable_copy(Path(tmp))
            if _runs_as_nobody(python, copied):
                yield python, copied
                return
    pytest.skip(f"no Python {version} that uid {NOBODY} may run (install Debian's python3)")


def as_nobody(nobody: Nobody, args: list[str], umask: int = 0o022) -> Completed:
    """`timertui ARGS` as uid 65534."""
    return python_as_nobody(nobody, CLI, *args, umask=umask)


def python_as_nobody(
    nobody: Nobody, code: str, *args: str, check: bool = False, **kw: Any
) -> Completed:
    """Run `code` (with the package path set up) as uid 65534."""
    python, path = nobody
    return subprocess.run(
        [python, "-I", "-c", _BOOT + code, ":".join(path), *args],
        user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
        capture_output=True, text=True, timeout=120, check=check, **kw,
    )  # fmt: skip


def popen_as_nobody(nobody: Nobody, code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    python, path = nobody
    return subprocess.Popen(
        [python, "-I", "-c", _BOOT + code, ":".join(path), *args],
        user=NOBODY, group=NOBODY, extra_groups=[], cwd="/", text=True, **kwargs,
    )  # fmt: skip
