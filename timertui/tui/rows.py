"""The process table's rows as plain data: what each column shows, how it sorts, what a filter
matches. Pure (no textual), so the table widget only renders and diffs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from timertui import gaps
from timertui.model import Access, ProcessTimers
from timertui.tui.columns import Column

# COMMAND takes the width the others leave (htop shows the whole command line).
COLUMNS: tuple[Column, ...] = (
    Column("pid", "PID", 8, "right"),
    Column("user", "USER", 9),
    Column("command", "COMMAND", 20, fill=True),
    Column("threads", "THR", 5, "right"),
    Column("timers", "TIMERS", 14, "right"),  # "no timers file"
    Column("highest", "HIGHEST ID", 13, "right"),  # up to INT_MAX, with separators
    Column("gaps", "GAPS", 7, "right"),
    Column("walk", "WALK COST", 13, "right"),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
# Shown before COMMAND once a listed process is in a container (a host without any keeps the
# columns above): the name, or the pod and name for Kubernetes'.
CONTAINER_COLUMN = Column("container", "CONTAINER", 16)


def columns_for(contained: bool) -> tuple[Column, ...]:
    """The table's columns, with CONTAINER when some process is in a container."""
    if not contained:
        return COLUMNS
    at = COLUMN_KEYS.index("command")
    return (*COLUMNS[:at], CONTAINER_COLUMN, *COLUMNS[at:])


@dataclass(frozen=True)
class ProcessRow:
    """One process as the table shows it. The timer columns are None when we could not read
    its timers (`access` says why)."""

    pid: int
    user: str
    comm: str
    command: str
    threads: int
    timers: int | None
    highest: int | None
    gaps: int | None
    walk: int | None
    access: Access
    container: str = ""  # the CONTAINER column's text
    # What a filter word may match of the container: name, Kubernetes name, pod, id.
    container_names: tuple[str, ...] = ()

    def value(self, column: str) -> Any:
        return getattr(self, column)


@functools.lru_cache(maxsize=4096)
def _report(ids: tuple[int, ...]) -> gaps.GapReport | None:
    # Processes keep their timers between polls: analyse each ID set once.
    try:
        return gaps.analyze(ids)
    except gaps.GapError:
        return None  # a damaged snapshot's duplicate or out-of-range IDs: nothing to analyse


def gap_report(process: ProcessTimers) -> gaps.GapReport | None:
    """The gap analysis of the process's timer IDs; None without timers or with invalid IDs."""
    if not process.timers:
        return None
    return _report(tuple(t.id for t in process.timers))


def process_row(process: ProcessTimers) -> ProcessRow:
    readable = process.access is Access.OK
    report = gap_report(process) if readable else None
    return ProcessRow(
        pid=process.pid,
        user=process.user or str(process.uid),
        comm=process.comm,
        command=process.command,
        threads=len(process.tids),
        timers=len(process.timers) if readable else None,
        highest=max(t.id for t in process.timers) if readable and process.timers else None,
        gaps=len(report.gaps) if report else None,
        walk=report.walk.creates if report else None,
        access=process.access,
        container="" if process.container is None else process.container.label,
        container_names=_container_names(process),
    )


def _container_names(process: ProcessTimers) -> tuple[str, ...]:
    c = process.container
    if c is None:
        return ()
    return tuple(n.casefold() for n in (c.name, c.k8s_name, c.pod, c.id) if n)


def sort_key(column: str, reverse: bool = False) -> Callable[[ProcessRow], tuple[Any, ...]]:
    """Rows by `column`, ties by pid; rows without a value (no timers, no access) stay last
    whichever way the sort goes (`reverse` must match the sort's)."""

    def key(row: ProcessRow) -> tuple[Any, ...]:
        value = row.value(column)
        if isinstance(value, str):
            value = value.casefold()
        return ((value is None) != reverse, 0 if value is None else value, row.pid)

    return key


@dataclass(frozen=True)
class Term:
    text: str
    negate: bool

    def matches(self, row: ProcessRow) -> bool:
        hit = (
            self.text == str(row.pid)
            or self.text in row.comm.casefold()
            or self.text in row.command.casefold()
            or self.text in row.user.casefold()
            or any(self.text in name for name in row.container_names)
        )
        return hit != self.negate


@dataclass(frozen=True)
class RowFilter:
    """Words that must all match (name, pid, user or container); a word starting with `!` must
    not."""

    terms: tuple[Term, ...] = ()

    def matches(self, row: ProcessRow) -> bool:
        return all(term.matches(row) for term in self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_filter(text: str) -> RowFilter:
    terms = []
    for word in text.casefold().split():
        negate = word.startswith("!")
        body = word.removeprefix("!")
        if body:
            terms.append(Term(body, negate))
    return RowFilter(tuple(terms))
