"""sources.open_source (what `inspect`, `restore`, `timertui --snapshot` and the app's `o` use)
given a FIFO, a socket or a device: refused at once in one line, never blocking. The command
line's cases are in test_cli_errors.CASES."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from timertui import sources
from timertui.errors import InputError


@pytest.fixture
def specials(tmp_path: Path) -> Iterator[dict[str, Path]]:
    os.mkfifo(tmp_path / "x.ttsnap")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "pstree.img").write_bytes(b"")
    os.mkfifo(tmp_path / "images" / "core-1.img")
    (tmp_path / "crit").mkdir()
    os.mkfifo(tmp_path / "crit" / "core-1.crit.json")
    (tmp_path / "link").symlink_to("/dev/zero")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "sock"))
        yield {
            "fifo": tmp_path / "x.ttsnap",
            "socket": tmp_path / "sock",
            "device": Path("/dev/zero"),
            "link to a device": tmp_path / "link",
            "FIFO image in a CRIU dir": tmp_path / "images",
            "FIFO crit JSON in a dir": tmp_path / "crit",
        }


@pytest.mark.parametrize(
    "kind",
    [
        "fifo",
        "socket",
        "device",
        "link to a device",
        "FIFO image in a CRIU dir",
        "FIFO crit JSON in a dir",
    ],
)
def test_refused_at_once(kind: str, specials: dict[str, Path]) -> None:
    path = specials[kind]
    raised: list[BaseException] = []

    def open_it() -> None:
        try:
            sources.open_source(path)
        except BaseException as exc:  # handed to the test thread
            raised.append(exc)

    # A blocking open would hang the test run: the call runs in a thread we can give up on.
    worker = threading.Thread(target=open_it, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), f"open_source blocked on a {kind}"
    (exc,) = raised
    assert isinstance(exc, InputError)
    text = str(exc)
    assert text.endswith(": not a regular file or directory"), text
    assert str(path) in text and "\n" not in text
