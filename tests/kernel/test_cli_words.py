"""The command line in the app's words, on live processes: `ps` with the app's columns and
processes, `inspect` saying what a file is, and `snapshot` without -o saving into the app's
snapshot folder. (Counts and file names on their own: tests/unit/test_words.py.)"""

from __future__ import annotations

import os
from pathlib import Path

from command_line import timertui

from timertui import snapshot_file


def test_snapshot_without_o_goes_to_the_app_folder(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    first = timertui("snapshot", str(os.getpid()), env=env)
    second = timertui("snapshot", str(os.getpid()), env=env)
    assert first.returncode == second.returncode == 0, first.stderr
    folder = tmp_path / "timertui" / "snapshots"
    written = sorted(folder.iterdir())
    comm = Path("/proc/self/comm").read_text().strip()
    assert len(written) == 2  # never the same file twice, even within one second
    for out in (first, second):
        path = Path(out.stdout.split()[1].rstrip(":"))
        assert path in written
        assert path.name.startswith(f"{os.getpid()}-{comm}-")  # python, or pytest run as such
        assert out.stdout.startswith(f"wrote {path}: 1 process, ")
        assert snapshot_file.load(path).processes[0].pid == os.getpid()
    assert folder.stat().st_mode & 0o777 == 0o700


def test_snapshot_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    out = timertui("snapshot", str(os.getpid()), env={"XDG_DATA_HOME": str(tmp_path / "file")})
    assert out.returncode == 2
    assert (
        out.stderr
        == f"timertui: {tmp_path}/file/timertui/snapshots: cannot create: Not a directory\n"
    )


def test_inspect_says_what_a_snapshot_is(tmp_path: Path) -> None:
    path = tmp_path / "s.ttsnap"
    assert timertui("snapshot", str(os.getpid()), "-o", str(path)).returncode == 0
    first = timertui("inspect", str(path)).stdout.splitlines()[0]
    host = os.uname().nodename
    assert first.startswith(f"{path}: snapshot taken 20")
    assert f" on {host} (kernel {os.uname().release}); 1 process" in first
    assert "live" not in first


def test_ps_uses_the_apps_words_and_rows() -> None:
    out = timertui("ps")
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    assert header.split() == [
        *("PID", "USER", "THR", "TIMERS", "HIGHEST", "ID", "GAPS", "WALK", "COST", "COMMAND")
    ]
    try:
        Path("/proc/1/timers").read_bytes()
    except PermissionError:  # (root too, in some containers)
        pid1 = [r for r in rows if r.split()[0] == "1"]
        assert pid1 and "no access" in pid1[0]  # listed, as the app lists it
