"""`timertui check`: does this host let the tool show, capture and restore timers?"""

from __future__ import annotations

import argparse
from typing import Any

from timertui.commands.hosts import add_host_argument


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check the kernel features timertui needs (like `criu check`)",
        description="Probe /proc/PID/timers, exact-ID prctl, ptrace, RLIMIT_SIGPENDING headroom"
        ' and alarm clocks. Ends with "Looks good." (exit 0) or the list of what is missing'
        " (exit 1); a warning (alarm clocks) does not fail.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    add_host_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timertui import host_checks as check
    from timertui.commands.output import print_json

    if getattr(args, "host", None) is not None:
        from timertui.commands.hosts import remote

        with remote(args) as there:  # the same checks, probed there by the agent
            results = check.run_checks(there.probes())
        if not args.json:
            print(f"host {there.label}")
    else:
        results = check.run_checks()
    if args.json:
        print_json(check.to_json(results))
    else:
        print(check.format_text(results))
    return 0 if check.passed(results) else 1
