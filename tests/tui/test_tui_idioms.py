"""The app's state as Textual means it to be kept: screen reactives the footer follows
(bindings=True) and children show (data_bind), visibility by CSS class, the footer's keys changed
in place, a binding id on every key and the user's keymap file, the restore stream's type, and a
restore screen that plans its process as it opens."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from builders import DEMO_PID, exact_events, scene_processes
from scenes import MakeApp, RunApp, ScriptedRestorer, frozen_source, settle, until
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets._footer import FooterKey

import timertui.tui.keymap as keymap_module
from timertui.choices import SIM
from timertui.errors import InputError
from timertui.model import ProcessTimers
from timertui.restore import events as ev
from timertui.restore import plan as plan_module
from timertui.restore.stream import EventStream
from timertui.tui.app import TimerTuiApp
from timertui.tui.keymap import binding_ids, load_keymap
from timertui.tui.restorer import BackendRestorer, RunRequest
from timertui.tui.screens.processes import ProcessesScreen
from timertui.tui.screens.restore import RestoreScreen
from timertui.tui.widgets.host_bar import HostBar


def demo_process() -> ProcessTimers:
    return next(p for p in scene_processes() if p.pid == DEMO_PID)


# -- binding ids and the keymap -----------------------------------------------------------------


def test_every_binding_of_the_app_has_an_id() -> None:
    import timertui.tui.app  # noqa: F401 - loads every screen and widget of the app

    missing = [
        f"{cls.__module__}.{cls.__qualname__}: {binding.key}"
        for cls in _tui_classes()
        for binding in cls.__dict__.get("BINDINGS", ())
        if not (isinstance(binding, Binding) and binding.id)
    ]
    assert missing == []
    assert {"processes.filter", "run.start", "app.quit", "table.down"} <= binding_ids()


def _tui_classes() -> list[type[DOMNode]]:
    seen: list[type[DOMNode]] = []
    stack: list[type[DOMNode]] = [DOMNode]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return [c for c in seen if c.__module__.startswith("timertui.tui")]


def test_keymap_file_forms(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    assert load_keymap(path) == {}  # no file: no keymap
    path.write_text('"processes.filter" = "f"\n"run.start" = ["s", "enter"]\n')
    assert load_keymap(path) == {"processes.filter": "f", "run.start": "s,enter"}
    path.write_text('"processes.filter" = 3\n')
    with pytest.raises(InputError, match=re.escape("processes.filter")):
        load_keymap(path)
    path.write_text("not toml = = \n")
    with pytest.raises(InputError, match=str(path)):
        load_keymap(path)


def test_keymap_file_is_in_the_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert keymap_module.keymap_path() == tmp_path / "timertui" / "keymap.toml"


async def test_a_keymap_remaps_a_key(tmp_path: Path, make_app: MakeApp, run_app: RunApp) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('"processes.filter" = "f"\n"no.such-key" = "z"\n')
    app = make_app(keymap_file=path)
    async with run_app(app) as pilot:
        screen = await processes_screen(pilot)
        assert any("no.such-key" in n.message for n in app._notifications)  # said, not fatal
        await pilot.press("slash")
        assert not screen.filtering  # / is no longer the filter's key
        await pilot.press("f")
        assert screen.filtering
        assert isinstance(app.focused, Input)


async def test_a_bad_keymap_is_one_notification(
    tmp_path: Path, make_app: MakeApp, run_app: RunApp
) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text("[[[")
    app = make_app(keymap_file=path)
    async with run_app(app) as pilot:
        await until(pilot, lambda: any(str(path) in n.message for n in app._notifications))
        await pilot.press("slash")
        assert isinstance(app.screen, ProcessesScreen) and app.screen.filtering  # keys as ever


# -- reactive state, data_bind, classes ---------------------------------------------------------


async def processes_screen(pilot: Pilot[None]) -> ProcessesScreen:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ProcessesScreen)
    return screen


async def test_the_host_bar_shows_the_screens_state(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        screen = await processes_screen(pilot)
        bar = screen.query_one(HostBar)
        assert bar.shown == screen.shown == 7  # bound, not copied by hand
        assert bar.host is screen.host is not None
        screen.paused = True
        await pilot.pause()
        assert bar.paused and bar.has_class("-paused")
        assert bar.query_one("#paused-banner").display
        screen.paused = False
        await pilot.pause()
        assert not bar.query_one("#paused-banner").display


async def test_the_filter_box_shows_by_class(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        screen = await processes_screen(pilot)
        box = screen.query_one("#filter", Input)
        assert not box.display and "escape" not in screen.active_bindings
        await pilot.press("slash")
        await pilot.pause()
        assert screen.has_class("-filtering") and box.display
        assert screen.active_bindings["escape"].binding.action == "clear_filter"  # followed
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.has_class("-filtering") and not box.display


async def test_marks_offer_unmark(make_app: MakeApp, run_app: RunApp) -> None:
    app = make_app(focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        screen = await processes_screen(pilot)
        assert "U" not in screen.active_bindings
        await pilot.press("space")
        assert screen.marks == 1 and "U" in screen.active_bindings
        await pilot.press("U")
        assert screen.marks == 0 and "U" not in screen.active_bindings


async def test_a_run_changes_the_footer_keys_in_place(make_app: MakeApp, run_app: RunApp) -> None:
    """Starting a run turns Esc from Back to Cancel and hides Start: the same key widgets,
    changed and hidden, not the footer built again."""
    app = make_app(restorer=ScriptedRestorer(lambda p, r: []), focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RestoreScreen))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        before = {k.key: k for k in screen.query(FooterKey)}
        assert before["escape"].description == "Back"
        await pilot.press("s")
        await until(pilot, lambda: screen.running)
        await pilot.pause()
        after = {k.key: k for k in screen.query(FooterKey)}
        assert after["escape"] is before["escape"] and after["escape"].description == "Cancel"
        assert after["s"] is before["s"] and not after["s"].display  # hidden, not removed
        await pilot.press("escape")
        await until(pilot, lambda: not screen.running)
        await pilot.pause()
        assert after["s"].display and after["escape"].description == "Back"


# -- the restorer --------------------------------------------------------------------------------


async def test_the_restore_screen_plans_its_process_as_it_opens(
    make_app: MakeApp, run_app: RunApp
) -> None:
    restorer = ScriptedRestorer(lambda p, r: exact_events(p))
    app = make_app(restorer=restorer, focus_pid=DEMO_PID)
    async with run_app(app) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await until(pilot, lambda: bool(restorer.prepared))
        assert [p.pid for p in restorer.prepared] == [DEMO_PID]
        assert restorer.requests == []  # planned, not started


def test_a_start_uses_the_plan_made_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    restorer = BackendRestorer()
    try:
        process = demo_process()
        built: list[int] = []
        real = plan_module.build_plan

        def counting(*args: object, **kwargs: object) -> plan_module.RestorePlan:
            built.append(1)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(plan_module, "build_plan", counting)
        restorer.prepare(process)
        assert len(built) == 2  # native and simulator
        stream = restorer.start(process, RunRequest(SIM, "auto", False, "6.15+", "instant"))
        stream.close()
        assert len(built) == 2
    finally:
        restorer.close()


def test_start_returns_a_stream_with_cancel_and_close() -> None:
    restorer = BackendRestorer()
    try:
        process = demo_process()
        stream = restorer.start(process, RunRequest(SIM, "walk", False, "3.10-6.14", "real"))
        assert isinstance(stream, EventStream)
        first = next(stream)
        assert isinstance(first, ev.Start)
        threading.Timer(0.2, stream.cancel).start()  # from another thread, as the app does
        events = list(stream)  # a paced walk of 2,000,000 IDs: seconds, unless cancelled
        assert isinstance(events[-1], ev.Error) and events[-1].code == "cancelled"
        stream.close()
    finally:
        restorer.close()


def test_the_app_closes_its_restorer() -> None:
    restorer = ScriptedRestorer(lambda p, r: [])
    TimerTuiApp(frozen_source(), restorer=restorer).close_restorer()
    assert restorer.closed
