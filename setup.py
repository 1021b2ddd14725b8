"""Only here for cffi: it builds the compiled modules when the package installs."""

from setuptools import setup

setup(
    cffi_modules=[
        "timertui/_native/build.py:ffibuilder",
        "timertui/_native/build_inject.py:ffibuilder",
    ]
)
