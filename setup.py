"""Only here for cffi: it builds timertui._native._timers when the package installs."""

from setuptools import setup

setup(cffi_modules=["timertui/_native/build.py:ffibuilder"])
