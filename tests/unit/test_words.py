"""The app's words: counts with the right noun form, the snapshot folder and snapshot names."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from timertui import locations
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
