"""The core never imports textual: only timertui/tui/ may. And every module of timertui has its
place in the layers that `make lint` checks (lint-imports): a module left out is checked by no
contract."""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import timertui

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


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


def test_every_module_has_a_layer() -> None:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    contracts = [c for c in config["contracts"] if c["type"] == "layers"]
    (layers,) = [c["layers"] for c in contracts if "containers" not in c]
    placed = {name for layer in layers for name in re.split(r"[|:]", layer.replace(" ", ""))}
    modules = {f"timertui.{info.name}" for info in pkgutil.iter_modules(timertui.__path__)}
    assert modules - placed == set()
    # Inside the restore package, each module has its layer too.
    (restore,) = [c["layers"] for c in contracts if c.get("containers") == ["timertui.restore"]]
    placed = {name for layer in restore for name in re.split(r"[|:]", layer.replace(" ", ""))}
    restore_path = Path(timertui.__path__[0]) / "restore"
    inside = {info.name for info in pkgutil.iter_modules([str(restore_path)])}
    assert inside - placed == set()
