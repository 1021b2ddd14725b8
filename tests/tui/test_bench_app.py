"""The app benchmark's helpers: the pty driver reads text and cursor lines from escape-laden
output and leaves no process behind; the scripted source changes a little at every scan."""

from __future__ import annotations

import sys

import psutil

from bench.pty_app import Cursor, PtyApp, lines_drawn, strip
from bench.scripted import FIRST_PID, ScriptedSource

_DRAW = (
    b"\x1b[4;1H\x1b[38;5;253;48;5;233m  1 seed\x1b[0m"
    b"\x1b[5;1H\x1b[1;38;5;195;48;5;32m  2 seed\x1b[0m\x1b[5;9H\x1b[38;5;253m x\x1b[0m"
)


def test_strip_turns_moves_into_line_breaks_and_drops_styles() -> None:
    assert strip(_DRAW.decode()) == "\n  1 seed\n  2 seed\n x"


def test_lines_drawn_and_the_cursor_pattern() -> None:
    drawn = lines_drawn(_DRAW)
    assert drawn == {4: {b"38;5;253;48;5;233", b"0"}, 5: {b"1;38;5;195;48;5;32", b"0", b"38;5;253"}}
    cursor = Cursor(b"1;38;5;195;48;5;32", top=4)
    assert cursor.pattern(5).search(_DRAW)
    assert not cursor.pattern(4).search(_DRAW)


def test_pty_app_reads_text_and_kills_its_session() -> None:
    script = (
        "import subprocess, sys, time\n"
        "subprocess.Popen(['sleep', '100'])\n"
        "sys.stdout.write('\\x1b[2;1H\\x1b[1mready\\x1b[0m now'); sys.stdout.flush()\n"
        "time.sleep(100)\n"
    )
    with PtyApp([sys.executable, "-c", script], cols=80, rows=24) as app:
        assert app.wait_text(r"ready now", 0, 10.0) is not None
        assert app.wait_text(r"never", 0, 0.1) is None
        children = psutil.Process(app.pid).children(recursive=True)
        assert children
    assert app.proc.poll() is not None
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)


def test_scripted_source_changes_a_little_per_scan() -> None:
    source = ScriptedSource(1_000, 2)
    first = {p.pid: p for p in source.scan(True)}
    second = {p.pid: p for p in source.scan(True)}
    assert len(first) == len(second) == 1_000
    changed = sum(first.get(pid) != proc for pid, proc in second.items())
    assert 1 <= changed <= 20
    assert [p.pid for p in source.scan(False)] == [FIRST_PID, FIRST_PID + 1]
    assert list(second) == sorted(second)
