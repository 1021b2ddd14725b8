"""`n` on the snapshots screen: a new name for a snapshot file or CRIU image directory. The
extension stays; a name in use is refused; the dialog stays open on an error."""

from __future__ import annotations

from pathlib import Path

from timertui.tui.screens.input_dialog import InputDialog
from timertui.tui.snapshot_files import rename_entry


class RenameDialog(InputDialog[Path]):
    def __init__(self, path: Path, directory: bool) -> None:
        keeps = f" (keeps {path.suffix})" if path.suffix and not directory else ""
        super().__init__(
            f"Rename {path.name}{keeps}",
            path.stem if keeps else path.name,
            "enter renames · esc cancels",
        )
        self.path = path

    def attempt(self, value: str) -> Path:
        return rename_entry(self.path, value)
