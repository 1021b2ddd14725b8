"""The core never imports textual: only timertui/tui/ may."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import timertui


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(timertui.__path__, "timertui."):
        if info.name.startswith("timertui.tui") or info.name.endswith(
            ("._native.build", "__main__")
        ):
            continue
        names.append(info.name)
    return names


def test_core_does_not_import_textual() -> None:
    modules = _core_modules()
    assert "timertui.model" in modules
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] == 'textual')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
