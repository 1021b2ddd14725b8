"""The choices a restore offers and the demo workload's timer IDs, named once for the command
line, the app and the backends. It imports nothing of timertui, so the command line's parser
loads it before anything else: a command's start does not pay for the modules that use them."""

from __future__ import annotations

from typing import Literal, get_args

# Restore backends: a worker process on this kernel, or the simulator's model of a chosen one.
Backend = Literal["native", "sim"]
NATIVE: Backend = "native"
SIM: Backend = "sim"
BACKENDS: tuple[Backend, ...] = get_args(Backend)

# How timers are created at their IDs: exact-ID mode when the kernel has it, else the walk.
Mode = Literal["auto", "exact", "walk"]
MODES: tuple[Mode, ...] = get_args(Mode)

# How the native worker starts: fork when the caller is single-threaded, else spawn.
StartMethod = Literal["auto", "fork", "spawn"]
START_METHODS: tuple[StartMethod, ...] = get_args(StartMethod)

# Timers notifying a thread that is gone: to the main thread, or SIGEV_NONE as CRIU does.
DeadThreads = Literal["remap", "none"]
DEAD_THREADS: tuple[DeadThreads, ...] = get_args(DeadThreads)

# The demo workload's timers: exact IDs restore them at once, the walk takes 2,000,001 creates.
DEMO_IDS = (0, 1_000_000, 2_000_000)
