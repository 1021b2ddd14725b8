"""cffi out-of-line API build of the syscall layer and the restore hot loops.

Built when the package installs (setup.py's cffi_modules), so no compiler is needed at run time.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).parent

ffibuilder = FFI()
ffibuilder.cdef((HERE / "timers.h").read_text())
ffibuilder.set_source(
    "timertui._native._timers",
    '#include "timers.h"',
    sources=["timertui/_native/timers.c"],
    include_dirs=["timertui/_native"],
    extra_compile_args=["-O2", "-Wall", "-pthread"],
    extra_link_args=["-pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
