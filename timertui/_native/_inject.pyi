# The compiled cffi module (build_inject.py); its ffi and lib are dynamic.
from typing import Any

ffi: Any
lib: Any
