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


def test_restore_command_start_loads_no_typing(tmp_path: Path) -> None:
    """`timertui restore` counts its start-up (issue 10): what its parent loads before the
    restore runs — the command, the snapshot reader, the plan, the events and the native
    runner — leaves typing and re (and what they pull in) unloaded; mypy sees the annotations
    through TYPE_CHECKING blocks."""
    code = (
        "import sys\n"  # not json: it loads re
        "from timertui.cli import _quick_args\n"
        "args = _quick_args('restore', ['--json', 'x.ttsnap'])\n"
        "import timertui.sources, timertui.snapshot_file, timertui.restore.plan\n"
        "from timertui.restore import events as ev\n"
        "ev.decode(ev.encode(ev.Verify(1, (), (0, 1))))\n"  # the decoders, built
        "from timertui.restore.native import runner\n"
        "runner.discard_prestarted()\n"
        "print(' '.join(m for m in ('typing', 're', 'dataclasses', 'inspect') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.split() == []
