"""Snapshot file speed: decode/encode/validate of 10,000 timers, next to what they cannot avoid.

The reference builds the same Timer and TimerValues objects straight from lists: any decoder has
to construct them, so decode's ratio to it is the overhead of the format (integrity hash, msgpack,
type checks). The goal is a load of 10,000 timers in a few milliseconds over that floor.

Then issue 10's goal: a snapshot of 100,000 timers with values encoded and decoded in under
0.3 s (figure, reference, ratio, goal, met: the reference is building its Timers alone).
"""

from __future__ import annotations

from bench.sweep import median_ms
from timertui import gaps, snapshot_file
from timertui.capture import host
from timertui.model import (
    SIGEV_SIGNAL,
    SIGEV_THREAD_ID,
    ProcessTimers,
    Snapshot,
    Timer,
    TimerValues,
)

TIMERS = 10_000
RUNS = 21
BIG_TIMERS = 100_000
BIG_RUNS = 5
BIG_GOAL_MS = 300.0


def sample(values: bool, count: int = TIMERS) -> Snapshot:
    """One process with `count` timers at spread-out IDs, half of them thread-targeted."""
    timers = tuple(
        Timer(
            id=i * 37,
            clock=i % 2,
            notify=SIGEV_THREAD_ID if i % 2 else SIGEV_SIGNAL,
            target=1001 if i % 2 else 1000,
            signo=34 + i % 30,
            sigval=0x55C50224F728 + i,
            values=TimerValues(i * 1000, 10_000_000, 0) if values else None,
        )
        for i in range(count)
    )
    proc = ProcessTimers(1000, 1, "bench", ("bench",), 0, "root", "sleeping", (1000, 1001), timers)
    return Snapshot(host.host_facts(probe=False), host.capture_times(), (proc,))


def columns(snap: Snapshot) -> list[list[object]]:
    """The timers as plain columns, as msgpack hands them to the decoder."""
    timers = snap.processes[0].timers
    fields = ("id", "clock", "notify", "target", "signo", "sigval")
    cols: list[list[object]] = [[getattr(t, f) for t in timers] for f in fields]
    if timers[0].values is not None:
        cols += [
            [getattr(t.values, f) for t in timers]
            for f in ("remaining_ns", "interval_ns", "overrun")
        ]
    return cols


def construct(cols: list[list[object]]) -> tuple[Timer, ...]:
    """The floor: build every Timer (and TimerValues) from the columns."""
    if len(cols) == 6:
        return tuple(map(Timer, *cols))
    return tuple(map(Timer, *cols[:6], map(TimerValues, *cols[6:])))


def big_round_trip() -> str:
    """encode + decode of BIG_TIMERS timers with values, median of BIG_RUNS, next to building
    their Timers alone, as one line: figure, reference, ratio, goal, met."""
    snap = sample(True, BIG_TIMERS)
    cols = columns(snap)
    ms = median_ms(lambda: snapshot_file.decode(snapshot_file.encode(snap)), BIG_RUNS)
    ref = median_ms(lambda: construct(cols), BIG_RUNS)
    met = "met" if ms < BIG_GOAL_MS else "MISSED"
    return (
        f"{BIG_TIMERS:,} timers with values, encode + decode: {ms:.1f} ms; reference (build "
        f"the Timers alone) {ref:.1f} ms; ratio {ms / ref:.2f}x; goal < {BIG_GOAL_MS:.0f} ms: {met}"
    )


def main() -> None:
    print(f"one process, {TIMERS} timers; median of {RUNS} runs")
    print(f"{'snapshot':44} {'ms':>8} {'x ref':>7} {'bytes':>9}")
    for values in (False, True):
        snap = sample(values)
        data = snapshot_file.encode(snap)
        assert snapshot_file.decode(data) == snap
        cols = columns(snap)
        ref = median_ms(lambda c=cols: construct(c), RUNS)
        label = "with values" if values else "no values"
        rows = [
            (f"reference: build the Timers ({label})", ref),
            ("decode()", median_ms(lambda d=data: snapshot_file.decode(d), RUNS)),
            ("encode()", median_ms(lambda s=snap: snapshot_file.encode(s), RUNS)),
            ("validate()", median_ms(lambda s=snap: snapshot_file.validate(s), RUNS)),
        ]
        for name, ms in rows:
            print(f"{name:44} {ms:8.2f} {ms / ref:7.2f} {len(data):9}")
    ids = [t.id for t in sample(False).processes[0].timers]
    print(
        f"{'gaps.analyze() of the same IDs':44} {median_ms(lambda: gaps.analyze(ids), RUNS):8.2f}"
    )
    print(big_round_trip())


if __name__ == "__main__":
    main()
