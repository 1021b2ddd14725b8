"""A real headless Chromium, driven over its DevTools protocol (a websocket: aiohttp's client,
which textual-serve brings), for the served app's tests and `make screenshots`.

    async with Chromium.start() as browser:
        tab = await browser.open("http://127.0.0.1:8000")
        await tab.wait_for_text("timers of")
        png = await tab.screenshot()
        await tab.close()

Debian's `chromium`, run with --headless --no-sandbox and a profile of its own in a temporary
directory; it and its helpers live in a process group of their own, ended at exit. Every page
opened records the text the served app sends it (its websocket's bytes, escape sequences
dropped), so a test can see the app's words arrive as well as their pixels. `rendered()` says
whether a PNG shows a drawn screen rather than a blank or one-colour page.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

SIZE = (1280, 800)
_LISTENING = re.compile(rb"DevTools listening on (ws://\S+)")
# Escape sequences (CSI, OSC, two-character) in what the app writes.
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
# Keeps what the page's websockets receive, as text, in window.__servedText (the last 400,000
# characters).
_RECORD = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__servedText = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (event.data instanceof ArrayBuffer) {
          const text = window.__servedText + decoder.decode(event.data, {stream: true});
          window.__servedText = text.slice(-400000);
        }
      });
    }
  };
})();
"""


def binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why no headless Chromium can run here, or None."""
    if binary() is None:
        return "no chromium on PATH (apt-get install chromium; .ci/run installs it)"
    return None


class Chromium:
    def __init__(
        self,
        process: subprocess.Popen[bytes],
        profile: str,
        endpoint: str,
        size: tuple[int, int] = SIZE,
    ) -> None:
        self.process = process
        self.size = size
        self.profile = profile
        self.endpoint = endpoint
        self._http: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, size: tuple[int, int] = SIZE, timeout: float = 30.0
    ) -> AsyncIterator[Chromium]:
        path = binary()
        if path is None:
            raise RuntimeError(unavailable())
        profile = tempfile.mkdtemp(prefix="timertui-chromium-")
        process = subprocess.Popen(
            [
                path,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--mute-audio",
                f"--window-size={size[0]},{size[1]}",
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        browser: Chromium | None = None
        try:
            endpoint = await asyncio.to_thread(_endpoint, process, timeout)
            browser = cls(process, profile, endpoint, size)
            await browser._connect()
            yield browser
        finally:
            if browser is not None:
                await browser._disconnect()
            _end(process)
            shutil.rmtree(profile, ignore_errors=True)

    async def _connect(self) -> None:
        self._http = aiohttp.ClientSession()
        self._socket = await self._http.ws_connect(self.endpoint, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())

    async def _disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._socket is not None:
            await self._socket.close()
        if self._http is not None:
            await self._http.close()

    async def _read(self) -> None:
        assert self._socket is not None
        async for message in self._socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            reply = message.json()
            waiting = self._pending.pop(reply.get("id", -1), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(reply)
        for waiting in self._pending.values():
            if not waiting.done():
                waiting.set_exception(ConnectionError("chromium closed its DevTools socket"))

    async def send(
        self, method: str, session: str | None = None, timeout: float = 30.0, **params: Any
    ) -> dict[str, Any]:
        """One DevTools command (to the browser, or to a page's session); its result."""
        assert self._socket is not None
        number = next(self._ids)
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[number] = reply
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self._socket.send_json(message)
        answer = await asyncio.wait_for(reply, timeout)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def open(self, url: str) -> Tab:
        """A new tab, recording what the page's websockets receive, then loading `url`."""
        target = (await self.send("Target.createTarget", url="about:blank"))["targetId"]
        session = (await self.send("Target.attachToTarget", targetId=target, flatten=True))[
            "sessionId"
        ]
        tab = Tab(self, target, session)
        await tab.send("Page.enable")
        width, height = self.size
        await tab.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        # A headless page never has the window's focus: without this the terminal never gets
        # it, and the app stays blurred (Textual then shows no keys in the footer).
        await tab.send("Emulation.setFocusEmulationEnabled", enabled=True)
        await tab.send("Page.addScriptToEvaluateOnNewDocument", source=_RECORD)
        await tab.send("Page.navigate", url=url)
        return tab


class Tab:
    def __init__(self, browser: Chromium, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.browser.send(method, session=self.session, **params)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def text(self) -> str:
        """What the app has written to this page so far, its escape sequences dropped."""
        raw = await self.evaluate("window.__servedText || ''")
        return _ESCAPES.sub("", str(raw))

    async def wait_for_text(self, *words: str, timeout: float = 30.0) -> str:
        """Wait until each of `words` has arrived from the app (and the page shows it)."""
        deadline = time.monotonic() + timeout
        while True:
            text = await self.text()
            shown = await self.evaluate("!!document.body?.classList.contains('-first-byte')")
            if shown and all(word in text for word in words):
                return text
            if time.monotonic() > deadline:
                missing = [word for word in words if word not in text]
                raise TimeoutError(
                    f"the page did not show {missing} in {timeout} s (page shown: {shown}; "
                    f"last text: {text[-300:]!r})"
                )
            await asyncio.sleep(0.1)

    async def wait_for_closed(self, timeout: float = 30.0) -> None:
        """Wait until the page says its session ended (textual-serve's "Session ended.")."""
        deadline = time.monotonic() + timeout
        while not await self.evaluate("!!document.body?.classList.contains('-closed')"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page's session did not end in {timeout} s")
            await asyncio.sleep(0.1)

    async def settle(self, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Wait until the app has written nothing for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        length = -1
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            now = int(await self.evaluate("(window.__servedText || '').length"))
            if now != length:
                length, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                return
            await asyncio.sleep(0.05)

    async def focus(self) -> None:
        """Put the keyboard's focus in the terminal, and tell the app (textual-serve's page
        says so on the terminal's focus event, which a headless page does not fire by itself):
        a blurred app shows no keys in its footer."""
        await self.evaluate(
            "document.querySelector('.xterm-helper-textarea').focus();"
            "document.querySelector('.xterm-screen').dispatchEvent(new FocusEvent('focus'))"
        )

    async def press(self, key: str) -> None:
        """Type one printable key into the terminal."""
        await self.focus()
        code = f"Key{key.upper()}" if key.isalpha() else ""
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                text=key if kind == "keyDown" else "",
                windowsVirtualKeyCode=ord(key.upper()),
            )

    async def screenshot(self) -> bytes:
        result = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(result["data"])

    async def close(self) -> None:
        """Close the tab, as a user does (its websocket goes with it)."""
        await self.browser.send("Target.closeTarget", targetId=self.target)


def _endpoint(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The browser's DevTools websocket, from the line Chromium prints when it listens."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += line
        found = _LISTENING.search(line)
        if found:
            # Chromium keeps writing to stderr: drained, so it never blocks on a full pipe.
            threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
            return found.group(1).decode()
    raise RuntimeError(
        f"chromium did not start its DevTools: {seen.decode(errors='replace')[-500:]}"
    )


def _drain(stream: Any) -> None:
    while stream.read(65536):
        pass


def _end(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # its helpers, if any is left


# -- what a screenshot shows ------------------------------------------------------------------


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB or RGBA, non-interlaced PNG (Chromium's)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    offset, data, header = 8, b"", b""
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        body = png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        offset += 12 + length
    width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(data)
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    at = 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        previous = line
        rgb = bytes(line) if step == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3)
        rows.append(rgb)
    return width, height, rows


def rendered(png: bytes, grid: int = 4) -> tuple[bool, str]:
    """Whether the PNG shows a drawn screen: many colours, and most of a `grid` x `grid` split
    of it holding more than one colour (a blank page, an error page's few lines of text or a
    single-colour splash fail). The reason, for an assertion's message."""
    width, height, rows = pixels(png)
    colours: set[bytes] = set()
    busy = 0
    for ty in range(grid):
        for tx in range(grid):
            seen: set[bytes] = set()
            for y in range(ty * height // grid, (ty + 1) * height // grid, 2):
                row = rows[y]
                for x in range(tx * width // grid, (tx + 1) * width // grid, 2):
                    seen.add(row[3 * x : 3 * x + 3])
            colours |= seen
            busy += len(seen) > 1
    why = f"{len(colours)} colours, {busy} of {grid * grid} tiles with more than one"
    return len(colours) >= 16 and busy >= grid * grid // 2, why


def save(png: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
