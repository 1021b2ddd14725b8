"""The command line as the tests run it: `python -m timertui` in a fresh interpreter, and the
bad inputs its subcommands must refuse in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import recorded
from builders import armed_process, snapshot_of

from timertui import snapshot_file

ROOT = Path(__file__).resolve().parents[1]
NO_PID = "999999999"


def timertui(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The command in a fresh interpreter run from the checkout, stdin closed; `env` adds to
    (or overrides) ours."""
    return subprocess.run(
        [sys.executable, "-m", "timertui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def remote_timertui(folder: Path) -> str:
    """A timertui for a loopback sshd's remote (whose login PATH holds none): this checkout,
    run by a wrapper `timertui-there` made in `folder`."""
    wrapper = folder / "timertui-there"
    wrapper.write_text(f'#!/bin/sh\ncd {ROOT}\nexec {sys.executable} -m timertui "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def bad_input_files(tmp: Path) -> dict[str, str]:
    """Inputs to point commands at, by placeholder name: files that are missing, empty, damaged,
    cut short, a loop, a directory, a fifo, a socket, and places that cannot be written."""
    (tmp / "empty-dir").mkdir()
    (tmp / "text").write_text("hello\n")
    good = tmp / "good.ttsnap"
    snapshot_file.save(snapshot_of([armed_process(4242, [0, 5])]), good)
    damaged = bytearray(good.read_bytes())
    damaged[-1] ^= 1
    (tmp / "damaged.ttsnap").write_bytes(bytes(damaged))
    (tmp / "cut.ttsnap").write_bytes(good.read_bytes()[:40])
    snapshot_file.save(snapshot_of([armed_process(7, [])]), tmp / "no-timers.ttsnap")
    (tmp / "loop").symlink_to(tmp / "loop")
    criu_cut = tmp / "criu-cut"
    criu_cut.mkdir()
    if (recorded.STRESS_NG / "pstree.img").exists():
        for name in ("pstree.img", "core-19874.img", "core-19876.img"):
            data = (recorded.STRESS_NG / name).read_bytes()
            (criu_cut / name).write_bytes(data[: len(data) // 2] if "19876" in name else data)
    (tmp / "wrong.crit.json").write_text('{"magic": "FDINFO", "entries": []}')
    os.mkfifo(tmp / "fifo")  # no writer ever: opening it for reading would wait forever
    (tmp / "fifo-dir").mkdir()
    os.mkfifo(tmp / "fifo-dir" / "pstree.img")
    with socket.socket(socket.AF_UNIX) as listener:  # the socket file stays after close
        listener.bind(str(tmp / "sock"))
    return {
        "dir": str(tmp / "empty-dir"),
        "text": str(tmp / "text"),
        "good": str(good),
        "damaged": str(tmp / "damaged.ttsnap"),
        "cut": str(tmp / "cut.ttsnap"),
        "no-timers": str(tmp / "no-timers.ttsnap"),
        "loop": str(tmp / "loop"),
        "criu-cut": str(criu_cut),
        "wrong-json": str(tmp / "wrong.crit.json"),
        "fifo": str(tmp / "fifo"),
        "fifo-dir": str(tmp / "fifo-dir"),
        "socket": str(tmp / "sock"),
        "missing": str(tmp / "missing"),
        "unwritable": str(tmp / "no-such-dir" / "out.ttsnap"),
        "out": str(tmp / "out.ttsnap"),
    }


def not_refused_in_one_line(
    cases: Sequence[tuple[str, str]], places: dict[str, str]
) -> list[tuple[list[str], int, str, str]]:
    """Each case (arguments with {placeholders} from `places`, what the one line must say) run
    four at a time: those that did not end with exit 2 and one stderr line saying it."""
    commands = [[arg.format(**places) for arg in template.split()] for template, _ in cases]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda argv: timertui(*argv), commands))
    bad = []
    for argv, (_, needle), out in zip(commands, cases, results, strict=True):
        lines = out.stderr.splitlines()
        ok = (
            out.returncode == 2
            and len(lines) == 1
            and lines[0].startswith("timertui")
            and needle in lines[0]
            and out.stdout == ""
        )
        if not ok:
            bad.append((argv, out.returncode, out.stderr[-500:], out.stdout[-200:]))
    return bad
