from timertui.cli import entry

entry()
