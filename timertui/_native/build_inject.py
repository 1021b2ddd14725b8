"""cffi out-of-line API build of the deep-capture injector (timertui._native._inject).

For setup.py's cffi_modules (paths relative to the checkout); run directly, it builds the module
in a scratch directory and copies it beside this file, where an editable install puts it.
"""

import shutil
import tempfile
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).parent
# cffi compiles from inside its tmpdir: a direct run needs absolute paths.
ROOT = HERE.parent.parent if __name__ == "__main__" else Path()

ffibuilder = FFI()
ffibuilder.cdef((HERE / "inject.h").read_text())
ffibuilder.set_source(
    "timertui._native._inject",
    '#include "inject.h"',
    sources=[str(ROOT / "timertui/_native/inject.c")],
    include_dirs=[str(ROOT / "timertui/_native")],
    extra_compile_args=["-O2", "-Wall"],
    py_limited_api=True,  # what setup.py builds too: a direct run replaces the same file
)

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(ffibuilder.compile(tmpdir=tmp))
        shutil.copy2(built, HERE / built.name)
        print(HERE / built.name)
