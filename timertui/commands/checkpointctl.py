"""`checkpointctl-timers`: a checkpointctl plugin. checkpointctl (the CRIU project's inspector of
container checkpoint archives) runs any `checkpointctl-NAME` on PATH as `checkpointctl NAME`,
and asks it `--plugin-description`, taking the one line printed as the description when the
plugin exits 42. `checkpointctl timers ARCHIVE...` prints each archive's container and its
processes' POSIX timers, ID gaps and legacy-walk cost; `--json` the same as JSON. Bad input: one
line on stderr, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

DESCRIPTION = "Show the POSIX timers of checkpointed containers: IDs, gaps and restore walk cost"
DESCRIPTION_EXIT = 42


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--plugin-description"]:
        print(DESCRIPTION)
        return DESCRIPTION_EXIT
    parser = argparse.ArgumentParser(prog="checkpointctl timers", description=DESCRIPTION)
    parser.add_argument("archives", nargs="+", metavar="ARCHIVE", help="checkpoint archive")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parsed = parser.parse_args(args)
    from timertui.errors import InputError

    try:
        return _show(parsed.archives, parsed.json)
    except InputError as exc:
        text = str(exc).replace("\r", "\\r").replace("\n", "\\n")
        print(f"checkpointctl-timers: {text}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()
        return 0


def _show(paths: list[str], as_json: bool) -> int:
    from timertui import gaps, sources
    from timertui.capture import describe
    from timertui.commands import output

    # Every archive is read before anything is printed: bad input prints nothing but its line.
    snaps = [(path, sources.open_source(path)) for path in paths]
    if as_json:
        found: list[dict[str, Any]] = []
        for path, snap in snaps:
            procs = []
            for proc in snap.processes:
                view = describe.process_view(proc)
                view["gaps"] = output.gap_view(gaps.analyze(t.id for t in proc.timers))
                procs.append(view)
            found.append(
                {"archive": path, "checkpointed_ns": snap.times.realtime_ns, "processes": procs}
            )
        output.print_json(found)
        return 0
    for index, (path, snap) in enumerate(snaps):
        if index:
            print()
        container = snap.processes[0].container if snap.processes else None
        print(path + ("" if container is None else f": {output.container_text(container)}"))
        for proc in snap.processes:
            print()
            print(output.process_header(proc))
            if proc.timers:
                print(output.timers_table(proc.timers))
            for line in output.gap_lines(gaps.analyze(t.id for t in proc.timers)):
                print(line)
    return 0


def entry() -> None:
    sys.exit(main())
