"""Error types that reach the user as one line and exit status 2 (bad input)."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: a corrupt or unreadable file, a bad PID, an invalid ID. The message is the one
    line the user sees, naming the problem (and the file or field)."""
