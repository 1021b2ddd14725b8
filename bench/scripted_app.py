"""`python -m bench.scripted_app PROCESSES WITH_TIMERS`: the app on a bench.scripted source of
PROCESSES synthetic processes, the first WITH_TIMERS of them holding timers."""

from __future__ import annotations

import sys

from bench.scripted import ScriptedSource
from timertui.tui.launch import textual_environment


def main() -> None:
    textual_environment()  # as `timertui` does, before Textual loads
    from timertui.tui.app import TimerTuiApp

    count, with_timers = (int(arg) for arg in sys.argv[1:3])
    TimerTuiApp(ScriptedSource(count, with_timers)).run()


main()
