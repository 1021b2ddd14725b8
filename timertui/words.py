"""Words shared by the command line and the app: counts with their nouns, durations. Pure (no
I/O), so any layer may use it."""

from __future__ import annotations

_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` with the noun it counts: "1 timer", "2 timers", "1 process", "1,000 processes".
    `plural` for a noun that does not take -s or -es."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {plural or noun + ('es' if noun.endswith(_SIBILANT_ENDINGS) else 's')}"


def duration_text(ns: float) -> str:
    """Nanoseconds as a short human figure: 870 ns, 4.1 µs, 12.3 ms, 1.80 s."""
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"
