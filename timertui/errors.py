"""Error types that reach the user as one line and exit status 2 (bad input), and the one way an
errno is spelled in messages. Pure, so any layer may use it."""

from __future__ import annotations

import errno
import os


class InputError(Exception):
    """Bad input: a corrupt or unreadable file, a bad PID, an invalid ID. The message is the one
    line the user sees, naming the problem (and the file or field)."""


def errno_text(err: int) -> str:
    """The errno's symbol as the kernel spells it, then its message: EOPNOTSUPP for 95, where
    Python's errorcode gives glibc's alias ENOTSUP."""
    name = "EOPNOTSUPP" if err == errno.EOPNOTSUPP else errno.errorcode.get(err, str(err))
    return f"{name}: {os.strerror(err)}"
