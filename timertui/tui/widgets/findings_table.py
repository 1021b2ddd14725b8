"""The findings of a verification, one row per timer: what the comparison found, what the
liveness watch says, the CRIU issue it matches and the first note. A new Report redraws only
the rows whose finding changed (the watch changes a few at each look)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text

from timertui.tui.columns import Column
from timertui.tui.widgets.virtual_table import VirtualTable
from timertui.verify.findings import OK_STATUSES, Finding, Liveness

# The look of a liveness word (component classes, coloured in app.tcss; the word says it too).
_LIVENESS_CLASS = {
    Liveness.ALIVE: "finding--ok",
    Liveness.DEAD: "finding--bad",
    Liveness.STALLED: "finding--stalled",
    Liveness.WATCHING: "finding--pending",
    Liveness.UNKNOWN: "finding--pending",
}


def finding_key(f: Finding) -> str:
    return f"{f.kind}:{f.key}"


class FindingsTable(VirtualTable):
    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualTable.COMPONENT_CLASSES | {
        "finding--ok",
        "finding--bad",
        "finding--stalled",
        "finding--pending",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            (
                Column("timer", "TIMER", 12),
                Column("status", "STATUS", 9),
                Column("live", "LIVE", 9),
                Column("criu", "CRIU", 6),
                Column("note", "NOTE", 20, fill=True),
            ),
            id=id,
        )
        self.findings: dict[str, Finding] = {}

    def show(self, findings: Sequence[Finding]) -> None:
        before = self.findings
        self.findings = {finding_key(f): f for f in findings}
        if list(before) != list(self.findings):
            self.set_rows(self.findings)
            self.refresh_all_rows()
        else:
            self.refresh_rows(k for k, f in self.findings.items() if before.get(k) != f)

    @property
    def highlighted(self) -> Finding | None:
        key = self.highlighted_key
        return None if key is None else self.findings.get(key)

    def row_cells(self, key: str) -> Sequence[Text]:
        f = self.findings[key]
        status = "finding--ok" if f.status in OK_STATUSES else "finding--bad"
        return (
            Text(f.label),
            Text(f.status.value, style=self._style(status)),
            Text(f.liveness.value or "-", style=self._style(_LIVENESS_CLASS.get(f.liveness, ""))),
            Text(f.criu_issue),
            Text(_first_note(f)),
        )


def _first_note(f: Finding) -> str:
    """What fits the row: the fields that differ, else the watch's word, else the comparison's
    (the detail under the table says all of it)."""
    if f.diffs:
        return "differs: " + ", ".join(d.name for d in f.diffs)
    return (f.watch_note or f.note).split("; ")[0]
