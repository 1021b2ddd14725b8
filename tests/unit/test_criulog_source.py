"""Every known CRIU error timertui explains is checked against CRIU 4.2's own source
(../shared/third-party/criu-4.2.tar.gz): the file and line an explanation names print that
very message (the pr_err/pr_perror format's fixed start is on that line)."""

from __future__ import annotations

import re
import tarfile

import pytest
import recorded

from timertui.criulog import explain

TARBALL = recorded.SHARED_FIXTURES.parent / "third-party" / "criu-4.2.tar.gz"
# One message per rule (with each variant that names another source line).
MESSAGES = (
    "Can't create posix timer - 0: -22",
    "Can't create posix timer - 0",
    "Unexpected timer id 5 (expected 7)",
    "Can't create timers, kernel don't give them consequently",
    "Can't enabled PR_TIMER_CREATE_RESTORE_IDS: -1",
    "Can't disable PR_TIMER_CREATE_RESTORE_IDS: -1",
    "Can't remove temporaty posix timer 0x5",
    "Can't restore posix timers -1",
    "Invalid timer value",
    "Invalid timer interval",
    "Invalid timer value(posix)",
    "Invalid timer interval(posix)",
    "Can't fork for 42: File exists",
    "rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
    "Restoring FAILED.",
    "Dumping FAILED.",
    "Pre-dumping FAILED.",
    "Can't restore ticks/time for timerfd - 0",
)


def _sources() -> dict[str, list[str]]:
    if not TARBALL.is_file():
        recorded.missing("CRIU 4.2 source tarball", TARBALL)
    files: dict[str, list[str]] = {}
    with tarfile.open(TARBALL) as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[-1]
            if member.isfile() and name.endswith(".c"):
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                files[name] = data.decode("utf-8", "replace").splitlines()
    return files


@pytest.fixture(scope="module")
def sources() -> dict[str, list[str]]:
    return _sources()


@pytest.mark.parametrize("message", MESSAGES)
def test_the_named_line_prints_the_message(sources: dict[str, list[str]], message: str) -> None:
    explanation = explain.explain(message)
    assert explanation is not None, message
    path, line = explanation.source.rsplit(":", 1)
    text = sources[path][int(line) - 1]
    fixed = re.split(r"%|\\n", message_format(text))[0]
    assert fixed and message.startswith(fixed), (explanation.source, text)


def message_format(line: str) -> str:
    """The format string of the pr_err/pr_perror call on `line`."""
    m = re.search(r'pr_(?:err|perror|warn)\("((?:[^"\\]|\\.)*)"', line)
    assert m, line
    return m[1]
