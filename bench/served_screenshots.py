"""`make screenshots`, the browser half: `timertui serve --demo` on a free loopback port, a real
headless Chromium on it (bench/headless_chromium.py), PNGs of what the browser shows.

    python -m bench.served_screenshots [OUT_DIR]      (default: screenshots/)

Writes served.png (the processes screen: the demo's timers and their ID gap map) and
served-race.png (the race: exact IDs done, the native and simulated walks under way).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from bench import headless_chromium
from bench.headless_chromium import Chromium, rendered

ROOT = Path(__file__).resolve().parents[1]


async def shoot(url: str, out: Path) -> None:
    async with Chromium.start() as browser:
        tab = await browser.open(url)
        await tab.wait_for_text("timers of", "ID gap map", "2,000,000", timeout=60)
        await tab.focus()
        await tab.wait_for_text("Quit")
        await tab.settle(1.0)
        _save(await tab.screenshot(), out / "served.png")

        await tab.press("R")
        await tab.wait_for_text("create/delete walk")
        await tab.settle(0.5)
        await tab.press("s")
        await asyncio.sleep(1.2)  # the walks under way, exact IDs long done
        _save(await tab.screenshot(), out / "served-race.png")
        await tab.close()


def _save(png: bytes, path: Path) -> None:
    ok, why = rendered(png)
    if not ok:
        raise SystemExit(f"{path.name}: the browser showed no app ({why})")
    path.write_bytes(png)
    print(path)


def main(argv: list[str]) -> int:
    missing = headless_chromium.unavailable()
    if missing is not None:
        print(f"served screenshots: {missing}", file=sys.stderr)
        return 1
    out = Path(argv[0] if argv else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    serve = subprocess.Popen(
        [sys.executable, "-m", "timertui", "serve", "--demo", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert serve.stdout is not None
        url = json.loads(serve.stdout.readline())["url"]
        asyncio.run(shoot(url, out))
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
