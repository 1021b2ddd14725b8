"""How an errno reads in every message."""

from __future__ import annotations

from timertui.errors import errno_text


def test_errno_text_uses_the_kernels_spelling() -> None:
    assert errno_text(95) == "EOPNOTSUPP: Operation not supported"
    assert errno_text(22) == "EINVAL: Invalid argument"
