"""What `?` explains on each screen beyond its keys: the screen's concepts, keyed by the screen's
name (the class name without "Screen", lower case). A screen's owner adds words here without
touching the help screen."""

from __future__ import annotations

from collections.abc import Callable

from timertui.tui import formats

Topic = tuple[str, str]  # heading, text
_Entry = tuple[str, str | Callable[[], str]]  # text, or made when asked (imports the core)

_GAP_MAP = (
    "gap map",
    f"{formats.MAP_TIMER} timer   {formats.MAP_FREE} free IDs   {formats.MAP_WALKED} walked   "
    f"{formats.MAP_PENDING} pending   {formats.MAP_FAILED} failed. A walk creates and deletes a "
    "timer for every free ID below the highest one.",
)
_STATES = (
    "timer states",
    "   ".join(f"{marker} {state}" for state, marker in formats.STATE_MARKERS.items()),
)
_PALETTE = ("palette", "ctrl+p runs every command and opens a path typed into it.")


def _profiles() -> str:
    from timertui.restore.sim.profiles import PROFILES

    return "\n".join(f"{name}: {what}" for name, what in PROFILES.items())


_TOPICS: dict[str, tuple[_Entry, ...]] = {
    "processes": (
        (
            "rows",
            f"{formats.MARKED} marked for a snapshot   {formats.GONE} process gone (shown one "
            "refresh)   'no access': its timers are not readable by you (a snapshot saves it "
            "without them)",
        ),
        (
            "filter and sort",
            "words match name, pid or user; !word excludes. < > or a header sorts.",
        ),
        (
            "offline",
            "a snapshot or CRIU image browsed offline does not change; esc (or the palette's "
            "'Back to the live host') returns to this host when the app started live.",
        ),
        _GAP_MAP,
        _PALETTE,
    ),
    "restore": (
        (
            "backend",
            "native: a worker process recreates the timers on this kernel, for real. "
            "simulator: a model of a kernel's ID allocator plays the restore back with predicted "
            "times; nothing is created.",
        ),
        (
            "mode",
            "auto: probe prctl(PR_TIMER_CREATE_RESTORE_IDS); exact IDs if the kernel has it "
            "(6.15+), else the walk. exact: create each timer at its ID (EINVAL before 6.15). "
            "walk: create, delete until the wanted ID comes, as CRIU does on older kernels "
            "(max ID + 1 creates).",
        ),
        (
            "hold",
            "keep the restored process alive after verification, counting each timer's "
            "expirations; esc releases it (it is killed). The simulator holds only when paced.",
        ),
        ("kernel profiles (simulator)", _profiles),
        (
            "pace (simulator)",
            "instant: every event at once. real: at the predicted speed. xN: N times faster "
            "(x10), or slower (x0.1).",
        ),
        _STATES,
        _GAP_MAP,
    ),
    "race": (
        (
            "lanes",
            "the same process restored side by side: exact IDs against the walk (and the "
            "simulator's prediction when it is there), each lane with its own timing.",
        ),
        _STATES,
        _GAP_MAP,
    ),
    "verify": (
        (
            "verify",
            "the checkpoint's process against a live one (the same pid unless p chose another): "
            "each timer compared, then each periodic timer watched for a few seconds without "
            "reading it or taking its signals. g verifies again.",
        ),
        (
            "status",
            "equal; expired (a one-shot that ran out since: expected); differs; missing (not "
            "live); extra (only live); not read.",
        ),
        (
            "live",
            "alive: it runs. stalled: a timerfd that fired and waits to be read (the kernel "
            "re-arms it on read; one restored by CRIU stops then, #3162: verify again once "
            "read). dead: periodic but disarmed. unknown: not told without disturbing it.",
        ),
        _PALETTE,
    ),
    "snapshots": (
        (
            "folder",
            "snapshot files and CRIU image directories (holding pstree.img), newest first. "
            "Enter browses one offline; r restores its process, R races it, V verifies it against "
            "the live process restored from it.",
        ),
        ("files", "rename keeps the extension and refuses a name in use; delete asks first."),
        _PALETTE,
    ),
}


def topics(screen: str) -> tuple[Topic, ...]:
    """The concepts `?` explains on `screen` (none for a screen without an entry)."""
    return tuple(
        (heading, text if isinstance(text, str) else text())
        for heading, text in _TOPICS.get(screen, (_PALETTE,))
    )
