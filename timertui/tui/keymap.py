"""The user's own keys: a TOML file in the config directory ($XDG_CONFIG_HOME/timertui/keymap.toml)
that maps binding ids to keys, read when the app starts and handed to Textual's keymap.

    # binding id = key, or keys separated by commas, or a list of keys
    "processes.filter" = "f"
    "processes.restore" = "ctrl+r,r"
    "run.start" = ["s", "enter"]

Every binding of the app has an id (`?` lists the keys; the ids are in the code's BINDINGS). A
file that cannot be read or parsed is one line, naming it; an id the app does not have is
reported, not fatal.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

from timertui import locations
from timertui.errors import InputError

KEYMAP_FILE = "keymap.toml"


def keymap_path() -> Path:
    return locations.config_dir() / KEYMAP_FILE


def load_keymap(path: Path) -> dict[str, str]:
    """Binding id -> keys ("a,b") from `path`; empty when there is no such file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: {exc}") from None
    keymap: dict[str, str] = {}
    for binding_id, keys in data.items():
        if isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys):
            keymap[binding_id] = ",".join(keys)
        elif isinstance(keys, str) and keys.strip():
            keymap[binding_id] = keys
        else:
            raise InputError(f"{path}: {binding_id!r} needs a key, keys 'a,b', or a list of keys")
    return keymap


def binding_ids() -> set[str]:
    """The ids of every binding of the widgets, screens and apps loaded now (Textual's own
    included): what a keymap can name."""
    return {
        binding.id
        for cls in _subclasses(DOMNode)
        for binding in cls.__dict__.get("BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }


def _subclasses(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
