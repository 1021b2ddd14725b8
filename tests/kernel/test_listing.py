"""The worker's expected /proc/self/timers text (C, tt_format_listing) against the kernel's own,
byte for byte: when they differ on an equal restore, verify falls back to parsing and still
passes, so only this test sees a format that drifted from the kernel's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.usefixtures("needs_proc_timers")

_CHILD = textwrap.dedent(
    """
    import os
    from timertui._native import ffi, lib, make_spec
    from timertui.clocks import CpuClockType, make_cpu_clock
    from timertui.model import SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID

    pid = os.getpid()
    lib.tt_block_signals((1 << 33) | (1 << 9))  # 34 and 10: nothing fires into us
    kinds = [
        (1, SIGEV_SIGNAL, 34, 0xDEADBEEF00C0FFEE, 0),
        (0, SIGEV_NONE, 34, 0, 0),
        (1, SIGEV_SIGNAL | SIGEV_THREAD_ID, 10, 7, pid),
        (make_cpu_clock(pid, CpuClockType.SCHED), SIGEV_SIGNAL, 34, 1, 0),
        (-6, SIGEV_NONE, 10, 2**63, 0),
    ]
    specs = ffi.new("struct tt_spec[]", len(kinds))
    for i, (clock, notify, signo, sigval, tid) in enumerate(kinds):
        spec = make_spec(clock, notify, signo, sigval, tid)
        slot = ffi.new("int *")
        assert lib.tt_timer_create(spec, slot) == 0
        spec.id = slot[0]
        specs[i] = spec[0]
    cap = 4096
    buf = ffi.new("char[]", cap)
    length = lib.tt_format_listing(specs, len(kinds), pid, buf, cap)
    ours = ffi.buffer(buf, length)[:]
    with open("/proc/self/timers", "rb") as f:
        theirs = f.read()
    path = b"/proc/self/timers"

    def equals(text, n, cap=cap, threaded=1):
        return lib.tt_read_equals(lib.tt_read_start(path, cap, threaded), text, n)

    changed = ffi.new("char[]", ours[:-2] + b"9\\n")
    print(ours == theirs, equals(buf, length), equals(buf, length, threaded=0),
          equals(changed, length), equals(buf, length - 1),
          equals(buf, length - 1, cap=length - 1), equals(buf, length, cap=length),
          lib.tt_read_equals(lib.tt_read_start(b"/proc/self/no-such", cap, 1), buf, length),
          lib.tt_format_listing(specs, 5, pid, buf, 40))
    if ours != theirs:
        print(ours.decode(), theirs.decode(), sep="\\n---\\n")
    """
)


def test_the_expected_listing_is_the_kernels_to_the_byte() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    ).stdout
    first = out.splitlines()[0]
    # Equal text; the file (read on a thread, and without) equals it (1), not a changed copy (0)
    # nor a prefix (0), also when the read stops at the prefix's length (the file holds more:
    # 0), and equals it read to its exact length (1); a file that cannot be read is -ENOENT; a
    # buffer too small for the listing is -ENOSPC.
    assert first == "True 1 1 0 0 0 1 -2 -28", out
