"""The processes screen with containers: a CONTAINER column once a listed process is in one (a
host without containers keeps its columns), and `/` finds processes by container and pod."""

from __future__ import annotations

from dataclasses import replace

from builders import DEMO_PID, scene_processes, snapshot_of
from scenes import MakeApp, RunApp, settle

from timertui.model import Container
from timertui.tui.process_sources import FrozenSource
from timertui.tui.widgets.process_table import ProcessTable

WEB = Container("podman", "4f0c" * 16, name="web", image="localhost/timers:latest")
POD = Container("cri-o", "9a7e" * 16, name="k8s_app", pod="shop", k8s_name="cart")


def contained_source() -> FrozenSource:
    containers = {DEMO_PID: WEB, 812: POD}
    processes = [
        replace(p, container=containers[p.pid]) if p.pid in containers else p
        for p in scene_processes()
    ]
    return FrozenSource(snapshot_of(processes), "containers.ttsnap")


def cells(table: ProcessTable, pid: int) -> dict[str, str]:
    keys = ["mark", *(c.key for c in table._columns[1:])]
    return dict(zip(keys, (c.plain for c in table.get_row(str(pid))), strict=True))


async def test_the_container_column_comes_with_a_container(
    make_app: MakeApp, run_app: RunApp
) -> None:
    async with run_app(make_app(contained_source())) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(ProcessTable)
        labels = [c.label for c in table._columns]
        assert labels.index("CONTAINER") == labels.index("COMMAND") - 1
        assert cells(table, DEMO_PID)["container"] == "web"
        assert cells(table, 812)["container"] == "shop/cart"
        assert cells(table, 1)["container"] == ""


async def test_a_host_without_containers_keeps_its_columns(
    make_app: MakeApp, run_app: RunApp
) -> None:
    app = make_app()
    async with run_app(app) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ProcessTable)
        assert "CONTAINER" not in [c.label for c in table._columns]


async def test_filter_finds_processes_by_container_and_pod(
    make_app: MakeApp, run_app: RunApp
) -> None:
    async with run_app(make_app(contained_source())) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"shop", "enter")
        await settle(pilot)
        table = pilot.app.screen.query_one(ProcessTable)
        assert [int(k) for k in table.keys] == [812]
        await pilot.press("slash", *(["backspace"] * 4), *"web", "enter")
        await settle(pilot)
        assert [int(k) for k in table.keys] == [DEMO_PID]
