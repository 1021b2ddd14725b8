"""CRIU's own logs read (timertui.criulog) and `timertui log`: the real logs of
../shared/fixtures, the failing ones recorded under tests/data/criu-logs (README there says how
each was made), and the format's corners: no timestamps, times past 100 s, a cut last line,
lines of megabytes, non-UTF-8 bytes, junk."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import recorded
from archives import kubernetes_members, tar_bytes
from command_line import timertui

from timertui import criulog
from timertui.criulog import reader
from timertui.criulog.reader import LogError, read_log

FIXTURES = recorded.SHARED_FIXTURES
ITIMER_IMAGES = FIXTURES / "criu-timerfd-itimer" / "images"
PODMAN_LOGS = FIXTURES / "podman-checkpoint" / "criu-logs"


def _fixture(path: Path) -> Path:
    if not path.exists():
        recorded.missing("CRIU log", path)
    return path


def _read(text: bytes, name: str = "t.log") -> criulog.LogReport:
    return read_log(io.BytesIO(text), name)


def test_a_real_successful_restore_gives_its_outcome_time_phases_and_task() -> None:
    """CRIU 4.2's -v4 restore.log of the timerfd/itimer process: succeeded, its last timestamp
    as the total, the harmless RLIMIT_NOFILE line explained, the task's milestones."""
    (report,) = criulog.open_logs(str(_fixture(ITIMER_IMAGES / "restore.log")))
    assert (report.kind, report.outcome, report.version) == (
        "restore",
        "succeeded",
        "4.2 (gitid v4.2)",
    )
    assert report.total == pytest.approx(0.058037)
    assert report.outcome_line is not None
    assert report.outcome_line.text == "Restore finished successfully. Tasks resumed."
    (err,) = report.errors
    assert (err.line, err.where) == (64, "criu/util.c:1534")
    assert err.time == pytest.approx(0.053398)
    assert err.explanation is not None and err.explanation.role == "harmless"
    assert report.first_error is None
    (task,) = report.tasks
    assert task.pid == 2216
    assert [task.forked, task.restored] == pytest.approx([0.053824, 0.056913])
    assert None not in (task.forked, task.restorer, task.restored)
    assert task.forked < task.restorer < task.restored  # type: ignore[operator]
    assert report.phases[0].name.startswith("start")
    assert sum(p.seconds for p in report.phases) == pytest.approx(report.total)


def test_real_podman_logs_dump_and_restore_in_a_directory() -> None:
    reports = criulog.open_logs(str(_fixture(PODMAN_LOGS)))
    assert [(r.kind, r.outcome) for r in reports] == [
        ("dump", "succeeded"),
        ("restore", "succeeded"),
    ]
    dump, restore = reports
    assert dump.tasks[0].pid == 5253 and dump.tasks[0].dumped == pytest.approx(0.175841)
    assert [t.pid for t in restore.tasks] == [1]  # pid 1 of the container's pid namespace
    (warn,) = restore.warnings
    assert warn.where == "criu/cr-restore.c:1043" and warn.explanation is None  # not guessed


def test_a_checkpoint_archive_gives_its_dump_log(tmp_path: Path) -> None:
    """CRI-O and containerd put dump.log in the archive beside config.dump."""
    path = tmp_path / "checkpoint.tar"
    path.write_bytes(tar_bytes(kubernetes_members("cri-o"), "zstd"))
    (report,) = criulog.open_logs(str(path))
    assert report.name == f"{path}:dump.log"
    assert (report.kind, report.outcome) == ("dump", "succeeded")


def test_errors_with_pids_restorer_lines_and_the_failing_cause() -> None:
    log = (
        b"(00.000001) Version: 4.2 (gitid v4.2)\n"
        b"(00.001000) Reading image tree\n"
        b"(00.001500) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: "
        b"Operation not permitted\n"
        b"(00.002000) Forking task with 77 pid (flags 0x0)\n"
        b"(00.003000)     77: Restore via sigreturn\n"
        b"(00.004000) pie: 77: Error (criu/pie/restorer.c:1293): "
        b"Can't create posix timer - 0: -11\n"
        b"(00.004001) pie: 77: Error (criu/pie/restorer.c:2201): Can't restore posix timers -1\n"
        b"(00.009000) Error (criu/cr-restore.c:2324): Restoring FAILED.\n"
    )
    report = _read(log)
    assert (report.kind, report.outcome, report.total) == ("restore", "failed", 0.009)
    first = report.first_error
    assert first is not None and first.explanation is not None
    assert (first.line, first.pid, first.restorer) == (6, 77, True)
    assert "EAGAIN" in first.explanation.title and "RLIMIT_SIGPENDING" in first.explanation.title
    roles = [e.explanation.role for e in report.errors if e.explanation]
    assert roles == ["harmless", "cause", "follow-on", "follow-on"]
    assert report.tasks[0].pid == 77 and report.tasks[0].restorer == 0.003


@pytest.mark.parametrize(
    ("message", "key", "words"),
    [
        ("Can't create posix timer - 2: -22", "posix-timer-create", "EINVAL"),
        ("Can't create posix timer - 0: -16", "posix-timer-create", "already taken"),
        ("Can't create posix timer - 3", "posix-timer-create-walk", "walk"),
        ("Unexpected timer id 5 (expected 7)", "posix-timer-unexpected-id", "7 was asked"),
        (
            "Can't create timers, kernel don't give them consequently",
            "posix-timer-walk-order",
            "in order",
        ),
        ("Can't enabled PR_TIMER_CREATE_RESTORE_IDS: -1", "prctl-restore-ids", "EPERM"),
        ("Invalid timer value", "timer-value", "it_value"),
        ("Invalid timer interval(posix)", "timer-value", "it_interval"),
        ("Can't fork for 4242: File exists", "fork-pid-taken", "pid 4242 is taken"),
        ("Can't fork for 4242: Operation not permitted", "fork-pid-permission", "4242"),
    ],
)
def test_known_errors_are_explained(message: str, key: str, words: str) -> None:
    report = _read(b"(00.000100) Error (criu/x.c:1): " + message.encode() + b"\n")
    explanation = report.errors[0].explanation
    assert explanation is not None and explanation.key == key
    assert words in explanation.title


def test_an_unknown_error_is_shown_as_it_is() -> None:
    report = _read(b"(00.000100)      9: Error (criu/files.c:77): Something new: 12\n")
    (err,) = report.errors
    assert (err.pid, err.text, err.explanation) == (9, "Something new: 12", None)
    assert report.first_error is err and report.outcome == "unfinished"


def test_logs_without_timestamps_and_old_restorer_lines() -> None:
    """-v2 and below: no times, so no outcome on success; criu #98's old pie format."""
    report = _read(
        b"pie: Error (pie/restorer.c:706): Can't create timers, kernel don't give them "
        b"consequently\n"
        b"Error (cr-restore.c:2138): Restoring FAILED.\n"
    )
    assert (report.outcome, report.total, report.kind) == ("failed", None, "restore")
    assert report.errors[0].restorer and report.errors[0].time is None
    assert report.errors[0].explanation is not None
    assert _read(b"Warn  (criu/a.c:1): hmm\n").outcome == "unknown"


def test_times_past_100_seconds_lose_a_digit_and_are_read_right() -> None:
    """criu/log.c writes (123.45678) once seconds take three digits; the restorer does not."""
    report = _read(b"(00.000001) x\n(123.45678) Error (criu/a.c:1): late\n(123.456789) y\n")
    assert report.errors[0].time == pytest.approx(123.45678)
    assert report.total == pytest.approx(123.456789)


def test_cut_lines_huge_lines_and_bad_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK", 64)
    huge = b"(00.000002) " + b"x" * 1000 + b"Error (criu/a.c:1): inside a huge line\n"
    log = (
        b"(00.000001) start\n" + huge + b"(00.000003) Error (criu/b.c:2): \xff\xfe\x1b[31m\n"
        b"(00.000004) Error (criu/c.c:3): cut"
    )
    report = _read(log)
    assert report.long_lines == 1 and report.cut_last_line
    texts = [e.text for e in report.errors]
    assert texts == ["\ufffd\ufffd\\x1b[31m", "cut"]
    assert [e.line for e in report.errors] == [3, 4]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty file"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(300), "not a CRIU log"),
        (b"hello world\n", "not a CRIU log"),
    ],
)
def test_what_is_not_a_log_is_refused(data: bytes, words: str) -> None:
    with pytest.raises(LogError, match=words):
        _read(data)


def test_the_command_text_json_and_exit_status(tmp_path: Path) -> None:
    ok = timertui("log", str(_fixture(ITIMER_IMAGES / "restore.log")))
    assert ok.returncode == 0, ok.stderr
    assert "restore succeeded in 58.037 ms" in ok.stdout.splitlines()[0]
    failed = tmp_path / "restore.log"
    failed.write_bytes(
        b"(00.000100) Error (criu/cr-restore.c:1230): Can't fork for 4242: File exists\n"
        b"(00.000200) Error (criu/cr-restore.c:2324): Restoring FAILED.\n"
    )
    out = timertui("log", str(failed))
    assert out.returncode == 1
    assert "failed at: line 1, 0.100 ms: Can't fork for 4242: File exists" in out.stdout
    doc = json.loads(timertui("log", "--json", str(failed)).stdout)
    (log,) = doc["logs"]
    assert log["outcome"] == "failed"
    assert log["first_error"]["explanation"]["key"] == "fork-pid-taken"
    (tmp_path / "no-logs").mkdir()
    for bad in (tmp_path / "missing", tmp_path / "no-logs", Path("/dev/null")):
        out = timertui("log", str(bad))
        assert out.returncode == 2 and len(out.stderr.splitlines()) == 1 and not out.stdout


def test_a_real_failed_restore_gives_the_line_time_pid_and_cause() -> None:
    """tests/data/criu-logs/fork-pid-taken: CRIU 4.2 restoring a process that still runs."""
    here = Path(__file__).resolve().parents[1] / "data" / "criu-logs" / "fork-pid-taken"
    dump, restore = criulog.open_logs(str(here))
    assert (dump.outcome, restore.outcome) == ("succeeded", "failed")
    first = restore.first_error
    assert first is not None and first.explanation is not None
    assert (first.line, first.time, first.where) == (111, 0.030226, "criu/cr-restore.c:1230")
    assert first.text == "Can't fork for 7407: File exists"
    assert first.explanation.key == "fork-pid-taken" and "ps -p 7407" in first.explanation.check
    assert restore.outcome_line is not None and restore.outcome_line.line == 112
    out = timertui("log", str(here / "restore.log"))
    assert out.returncode == 1
    assert "pid 7407 is taken" in out.stdout
