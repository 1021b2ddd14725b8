"""`make bench`: every benchmark prints its figures next to a reference measured in the same run."""

from __future__ import annotations

import importlib
import sys

BENCHES = (
    "sweep",
    "snapshot",
    "archive",
    "log",
    "capture",
    "restore",
    "timerfds",
    "simulator",
    "app",
    "remote",
)


def main() -> None:
    wanted = sys.argv[1:] or list(BENCHES)
    for name in wanted:
        print(f"== bench.{name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(flush=True)


main()
