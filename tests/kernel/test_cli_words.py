"""The command line in the app's words: counts with the right noun form, `ps` with the app's
columns and processes, `inspect` saying what a file is, and `snapshot` without -o saving into the
app's snapshot folder."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from test_cli import timertui

from timertui import locations, snapshot
from timertui.words import counted


@pytest.mark.parametrize(
    ("n", "noun", "text"),
    [
        (0, "timer", "0 timers"),
        (1, "timer", "1 timer"),
        (2, "process", "2 processes"),
        (1, "process", "1 process"),
        (1_000_000, "create", "1,000,000 creates"),
        (3, "match", "3 matches"),
        (2, "child", "2 children"),
    ],
)
def test_counted(n: int, noun: str, text: str) -> None:
    assert counted(n, noun, "children" if noun == "child" else "") == text


def test_snapshot_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert locations.snapshot_dir() == tmp_path / "timertui" / "snapshots"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert locations.snapshot_dir() == tmp_path / ".local/share/timertui/snapshots"


def test_snapshot_name() -> None:
    at = datetime.datetime(2025, 1, 2, 3, 4, 5)
    assert locations.snapshot_name(42, "sleep", 0, at) == "42-sleep-20250102-030405.ttsnap"
    assert locations.snapshot_name(7, "kworker/0:1", 2, at) == (
        "7-kworker_0_1-and-2-more-20250102-030405.ttsnap"
    )
    assert locations.snapshot_name(7, "../..", 0, at) == "7-process-20250102-030405.ttsnap"


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
        assert snapshot.load(path).processes[0].pid == os.getpid()
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
