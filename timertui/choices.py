"""The choices a restore offers and the demo workload's timer IDs, named once for the command
line, the app and the backends. It imports nothing of timertui, so the command line's parser
loads it before anything else: a command's start does not pay for the modules that use them."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Literal

    # Each Literal is checked by mypy against its tuple of values below.
    Backend = Literal["native", "sim"]
    Mode = Literal["auto", "exact", "walk"]
    StartMethod = Literal["auto", "fork", "spawn"]
    DeadThreads = Literal["remap", "none"]
else:
    # Plain strings at run time (to the wire's decoder too): typing is not loaded for them.
    Backend = Mode = StartMethod = DeadThreads = str

# Restore backends: a worker process on this kernel, or the simulator's model of a chosen one.
NATIVE: Backend = "native"
SIM: Backend = "sim"
BACKENDS: tuple[Backend, ...] = (NATIVE, SIM)

# How timers are created at their IDs: exact-ID mode when the kernel has it, else the walk.
MODES: tuple[Mode, ...] = ("auto", "exact", "walk")

# How the native worker starts: fork when the caller is single-threaded, else spawn.
START_METHODS: tuple[StartMethod, ...] = ("auto", "fork", "spawn")

# Timers notifying a thread that is gone: to the main thread, or SIGEV_NONE as CRIU does.
DEAD_THREADS: tuple[DeadThreads, ...] = ("remap", "none")

# The demo workload's timers: exact IDs restore them at once, the walk takes 2,000,001 creates.
DEMO_IDS = (0, 1_000_000, 2_000_000)
