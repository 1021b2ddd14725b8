"""The process table's row model, filter and sort (pure, no app)."""

from __future__ import annotations

from builders import DEMO_PID, scene_processes

from timertui.model import SIGEV_SIGNAL, Access, ProcessTimers, Timer
from timertui.tui.rows import COLUMN_KEYS, parse_filter, process_row, sort_key


def rows() -> dict[int, object]:
    return {p.pid: process_row(p) for p in scene_processes()}


def test_row_summarises_the_timers() -> None:
    row = process_row(next(p for p in scene_processes() if p.pid == DEMO_PID))
    assert (row.timers, row.highest, row.gaps, row.walk) == (12, 2_000_000, 4, 2_000_001)
    assert row.comm == "python" and row.threads == 2


def test_unreadable_and_invalid_rows_have_no_timer_values() -> None:
    hidden = ProcessTimers(9, 1, "x", (), 0, "root", "", (9,), (), access=Access.NO_ACCESS)
    assert process_row(hidden).timers is None and process_row(hidden).walk is None
    dup = tuple(Timer(5, 1, SIGEV_SIGNAL, 9, 34, 0) for _ in range(2))  # a damaged snapshot
    row = process_row(ProcessTimers(9, 1, "x", (), 0, "root", "", (9,), dup))
    assert (row.timers, row.highest, row.gaps, row.walk) == (2, 5, None, None)


def test_filter_words_all_match_and_bang_negates() -> None:
    all_rows = [process_row(p) for p in scene_processes()]

    def pids(text: str) -> list[int]:
        f = parse_filter(text)
        return [r.pid for r in all_rows if f.matches(r)]

    assert pids("") == [r.pid for r in all_rows]
    assert pids("NGINX") == [5150]  # case-insensitive, on the command line
    assert pids("systemd") == [1]  # on the name even when the command line differs
    assert pids("812") == [812]  # a pid matches whole, not as a substring of another
    assert pids("chrony !812") == []
    assert pids("!root !alice") == [812, 1500, 2210, 3001, 5150]
    assert pids("!") == [r.pid for r in all_rows]  # a bare ! is no word


def test_sort_keeps_rows_without_values_last_both_ways() -> None:
    all_rows = [process_row(p) for p in scene_processes()]
    for column in COLUMN_KEYS:
        for reverse in (False, True):
            ordered = sorted(all_rows, key=sort_key(column, reverse), reverse=reverse)
            values = [r.value(column) for r in ordered]
            present = [v for v in values if v is not None]
            assert values[: len(present)] == present, (column, reverse)
    by_walk = sorted(all_rows, key=sort_key("walk", True), reverse=True)
    assert [r.pid for r in by_walk][:2] == [DEMO_PID, 3001]
