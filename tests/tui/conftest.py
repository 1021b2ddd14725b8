"""What every TUI test shares: the terminal size (one for most tests, a small one for the narrow
layouts), the app on the scene's host, and a cursor that does not blink. The sources, the
scripted restorer and the waits (`settle` for the app's workers, `until` for a condition):
tests/tui/scenes.py."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scenes import MakeApp, RunApp, Snap, frozen_source
from textual.widgets import Input

from timertui.tui.app import TimerTuiApp

SIZE = (120, 40)
SMALL = (80, 24)


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs start with cursor_blink off: a blinking cursor makes what a test (or an SVG
    snapshot) sees depend on the moment it looks."""
    monkeypatch.setattr(Input.cursor_blink, "_default", False)


@pytest.fixture(autouse=True)
def thawed_heap() -> Iterator[None]:
    """The app freezes what it holds out of the collector's passes (processes screen): given
    back after each test, so no test's objects stay frozen into the next."""
    yield
    gc.unfreeze()


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """TimerTuiApp(source, **options): by default on the scene's frozen source, its snapshot
    folder tmp_path."""

    def make(source: Any = None, **options: Any) -> TimerTuiApp:
        options.setdefault("snapshot_dir", tmp_path)
        return TimerTuiApp(frozen_source() if source is None else source, **options)

    return make


@pytest.fixture
def run_app() -> RunApp:
    """`async with run_app(app) as pilot`: the app headless at SIZE (SMALL with small=True)."""

    def run(app: TimerTuiApp, *, small: bool = False) -> Any:
        return app.run_test(size=SMALL if small else SIZE)

    return run


@pytest.fixture
def snap(snap_compare: Snap) -> Snap:
    """snap_compare at SIZE (SMALL with small=True): the app's picture against the stored SVG."""

    def compare(app: TimerTuiApp, run_before: Any = None, *, small: bool = False) -> bool:
        return snap_compare(app, terminal_size=SMALL if small else SIZE, run_before=run_before)

    return compare
