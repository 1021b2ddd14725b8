"""The XDG base directories, built in timertui.locations only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from timertui import locations

# Each place: its variable, the variable's default under $HOME, and the path below either.
DIRS: list[tuple[Callable[[], Path], str, str, str]] = [
    (locations.snapshot_dir, "XDG_DATA_HOME", ".local/share", "timertui/snapshots"),
    (locations.costs_dir, "XDG_CACHE_HOME", ".cache", "timertui/costs"),
    (locations.config_dir, "XDG_CONFIG_HOME", ".config", "timertui"),
]


@pytest.mark.parametrize(("where", "variable", "default", "tail"), DIRS)
def test_the_variable_else_the_home_default(
    where: Callable[[], Path],
    variable: str,
    default: str,
    tail: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(variable, "/xdg")
    assert where() == Path("/xdg", tail)
    for ignored in ("", "relative/dir"):  # the spec ignores a relative value
        monkeypatch.setenv(variable, ignored)
        assert where() == tmp_path / default / tail
