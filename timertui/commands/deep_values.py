"""`timertui deep-values`: deep captures asked for in frames on stdin, answered in frames on
stdout. Not for people: the agent of `--host --deep` and of the app's `v` on another host runs
it there (timertui.remote.deep)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "deep-values",
        help="deep captures over stdin/stdout frames (run on a remote host by --host --deep)",
    )
    p.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    import sys

    from timertui.remote.deep import serve

    return serve(sys.stdin.buffer, sys.stdout.buffer)
