"""Words shared by the command line and the app: counts with their nouns. Pure (no I/O), so any
layer may use it."""

from __future__ import annotations

_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` with the noun it counts: "1 timer", "2 timers", "1 process", "1,000 processes".
    `plural` for a noun that does not take -s or -es."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {plural or noun + ('es' if noun.endswith(_SIBILANT_ENDINGS) else 's')}"
