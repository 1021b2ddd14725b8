"""`timertui serve` for real: the server on 127.0.0.1 (a free port), the app in each tab a real
`timertui --demo`, a real headless Chromium (bench/headless_chromium.py: Debian's chromium over
its DevTools protocol) loading the page, screenshotting it and closing the tab mid-restore. Where
chromium is missing those tests skip and say why; bad binds need no browser."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bench import headless_chromium
from bench.headless_chromium import Chromium, rendered

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "timertui", "serve"]

needs_chromium = pytest.mark.skipif(
    headless_chromium.unavailable() is not None,
    reason=f"no headless browser: {headless_chromium.unavailable()}",
)


class Served:
    def __init__(self, process: subprocess.Popen[str], info: dict[str, object]) -> None:
        self.process = process
        self.info = info
        self.url = str(info["url"])

    def stop(self) -> None:
        """SIGTERM: serve ends with status 0, its sessions and their processes with it."""
        left = self.descendants()
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) == 0
        _gone, alive = psutil.wait_procs(left, 10)
        assert not alive, f"left behind by serve: {alive}"

    def descendants(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(self.process.pid).children(recursive=True)
        return []


@contextlib.contextmanager
def serving(*options: str) -> Iterator[Served]:
    """`timertui serve --port 0 --json OPTIONS` until the block ends (then SIGTERM, which must
    end it with status 0 and leave no process of its own behind)."""
    process = subprocess.Popen(
        [*SERVE, "--port", "0", "--json", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    left: list[psutil.Process] = []
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.communicate(timeout=10)[1]
        served = Served(process, json.loads(line))
        yield served
        left = served.descendants()
        if process.poll() is None:
            served.stop()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for proc in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()


def test_serves_on_loopback_only_and_the_page_loads() -> None:
    with serving("--demo") as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert served.info["native"] is True and served.info["public"] is False
        listening = [
            c.laddr
            for c in psutil.Process(served.process.pid).net_connections("inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert [address.ip for address in listening] == ["127.0.0.1"]
        with urllib.request.urlopen(served.url, timeout=10) as page:
            html = page.read().decode()
        # The page's websocket goes back to the address the page came from.
        assert f'data-session-websocket-url="ws://{served.url[len("http://") :]}/ws"' in html
        assert not served.descendants()  # no tab yet, no session


@needs_chromium
async def test_chromium_renders_the_served_app(tmp_path: Path) -> None:
    """A real browser shows the app: the demo's timers and gap map arrive in the page, and its
    screenshot is a drawn screen (many colours across it), not a blank or an error page. Serve
    stopped meanwhile ends the session (its processes gone) and the page says so."""
    with serving("--demo") as served:
        async with Chromium.start() as browser:
            tab = await browser.open(served.url)
            await tab.wait_for_text("timers of", "ID gap map", "2,000,000", timeout=60)
            await tab.focus()
            # The footer's keys: the app has focus.
            await tab.wait_for_text("Quit", "Race", timeout=60)
            await tab.settle()
            png = await tab.screenshot()
            (tmp_path / "served.png").write_bytes(png)
            ok, why = rendered(png)
            assert ok, f"{why}: see {tmp_path / 'served.png'}"
            assert not await tab.evaluate("document.body.classList.contains('-closed')")
            # Serve stopped with the tab open: the session ends, and the page says so.
            assert served.descendants()
            await asyncio.to_thread(served.stop)
            await tab.wait_for_closed()


@needs_chromium
async def test_closing_the_tab_mid_restore_ends_the_app_and_its_workers() -> None:
    """The race (native exact, native walk, simulator) started from the browser, the tab closed
    while the native walk's worker runs: the tab's app, its demo workload, its worker server
    and the restore workers are all gone, and the server goes on serving."""
    with serving("--demo") as served:
        async with Chromium.start() as browser:
            tab = await browser.open(served.url)
            await tab.wait_for_text("timers of", "2,000,000", timeout=60)
            (app,) = psutil.Process(served.process.pid).children()
            assert app.cmdline()[-1] == "--demo"
            before = set(served.descendants())
            assert len(before) >= 2  # the app and its demo workload at least
            await tab.press("R")
            await tab.wait_for_text("create/delete walk")
            await tab.press("s")
            workers = await _new_processes(served, before)
            running = [proc for proc in workers if proc.is_running()]
            assert running, "no restore worker ran"
            await tab.close()
            t0 = time.monotonic()
            _gone, alive = await asyncio.to_thread(psutil.wait_procs, [*before, *workers], 20)
            assert not alive, f"still running after the tab closed: {alive}"
            assert time.monotonic() - t0 < 20
            assert not served.descendants()
            # The server still serves.
            with urllib.request.urlopen(served.url, timeout=10) as page:
                assert page.status == 200


async def _new_processes(
    served: Served, before: set[psutil.Process], timeout: float = 30.0
) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = [proc for proc in served.descendants() if proc not in before]
        if new:
            return new
        await asyncio.sleep(0.01)
    raise AssertionError("the restore started no worker process")


def _run_serve(*options: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVE, *options],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def _one_line_exit_2(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


def test_a_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _one_line_exit_2(_run_serve("--port", str(port)), f"127.0.0.1 port {port} is in use")


def test_a_public_address_without_public_is_one_line_exit_2() -> None:
    _one_line_exit_2(_run_serve("--host", "0.0.0.0", "--port", "0"), "needs --public")


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="no setpriv (util-linux)")
def test_a_privileged_port_without_the_capability_is_one_line_exit_2() -> None:
    """As a user without CAP_NET_BIND_SERVICE (root with it dropped from every set, so the
    kernel refuses the bind itself)."""
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    if start == 0:
        pytest.skip("every port is unprivileged here (net.ipv4.ip_unprivileged_port_start=0)")
    drop = "-net_bind_service"
    result = subprocess.run(
        ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *SERVE, "--port", "80"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    _one_line_exit_2(result, "port 80 is privileged and this user may not listen on it")


def test_public_says_what_it_exposes_and_turns_native_off() -> None:
    process = subprocess.Popen(
        [*SERVE, "--public", "--host", "127.0.0.1", "--port", "0", "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(7)]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    text = "".join(lines)
    assert "PUBLIC on http://127.0.0.1:" in lines[0] and "no authentication" in lines[0]
    assert f"uid {os.geteuid()}" in lines[0]
    assert "processes and their POSIX timers" in text
    assert "snapshot folder" in text and "opened as a snapshot (o)" in text
    assert "native restores and deep capture (ptrace): OFF (--allow-native" in text

    with serving("--public", "--host", "127.0.0.1") as served:
        assert served.info["native"] is False
        assert served.info["command"] == [sys.executable, "-m", "timertui", "--no-native"]
    with serving("--public", "--allow-native", "--host", "127.0.0.1") as served:
        assert served.info["native"] is True
        assert "--no-native" not in served.info["command"]  # type: ignore[operator]
