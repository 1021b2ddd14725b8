"""The recorded inputs in ../shared/fixtures beside the checkout (CRIU images of stress-ng, crit
JSON, /proc text at dump time). Locally a test whose input is missing skips, naming it; under CI
(the CI variable set, as .ci/run does) it fails: CI must not go green without them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
STRESS_NG = SHARED_FIXTURES / "criu-stress-ng"
TIMERFD_ITIMER = SHARED_FIXTURES / "criu-timerfd-itimer"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, path: Path) -> None:
    """Skip the test (fail it under CI): `what` at `path` is not there."""
    reason = f"{what} missing: {path} (../shared beside the checkout)"
    if under_ci():
        pytest.fail(f"{reason}; under CI (CI={os.environ['CI']}) it must be there", pytrace=False)
    pytest.skip(reason)


def stress_ng() -> Path:
    """The CRIU image directory of the stress-ng timer workload."""
    if not (STRESS_NG / "pstree.img").is_file():
        missing("CRIU fixture", STRESS_NG)
    return STRESS_NG


def timerfd_itimer() -> Path:
    """CRIU 4.2's images of one process holding every timer kind, with its /proc text before
    the dump and after the restore."""
    if not (TIMERFD_ITIMER / "images" / "pstree.img").is_file():
        missing("CRIU fixture", TIMERFD_ITIMER)
    return TIMERFD_ITIMER
