"""Every subcommand given bad input: bad arguments, missing files, directories where files are
expected, damaged files, PIDs that do not exist. Each must end with exit status 2 and one line on
stderr naming the problem: no traceback, no output, nothing written. (Live processes, and those
that exit while the command reads them: tests/kernel/test_cli_live_errors.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import recorded
from command_line import NO_PID, bad_input_files, not_refused_in_one_line

from timertui import cli


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    yield bad_input_files(tmp_path_factory.mktemp("bad"))


# (arguments with {placeholders}, what the one line must say). Every subcommand appears.
CASES: list[tuple[str, str]] = [
    ("nosuchcommand", "invalid choice"),
    ("--bogus", "unrecognized arguments: --bogus"),
    ("--snapshot {missing}", "no such file or directory"),
    ("--snapshot {dir}", "not a CRIU image directory"),
    ("--snapshot {damaged}", "fails its SHA-256 check"),
    ("--snapshot /dev/zero", "/dev/zero: not a regular file or directory"),
    # The app with no terminal to read keys from (stdin is /dev/null here): Textual's driver
    # would spin a core at its end of file. Refused before the demo workload starts.
    ("--demo", "reads its keys from a terminal, and standard input is not one"),
    ("--snapshot {fifo}", "fifo: not a regular file or directory"),
    ("--snapshot {socket}", "sock: not a regular file or directory"),
    ("--snapshot {fifo-dir}", "pstree.img: not a regular file or directory"),
    ("ps extra", "unrecognized arguments: extra"),
    ("ps --bogus", "unrecognized arguments: --bogus"),
    ("show", "the following arguments are required: pid"),
    ("show abc", "invalid int value: 'abc'"),
    ("show " + NO_PID, f"no such process: {NO_PID}"),
    ("show -- -1", "no such process: -1"),
    ("show 0", "no such process: 0"),
    ("show 99999999999999999999", "no such process: 99999999999999999999"),
    ("show " + NO_PID + " --deep", f"no such process: {NO_PID}"),
    ("snapshot", "the following arguments are required"),
    ("snapshot abc -o {out}", "invalid int value: 'abc'"),
    ("snapshot " + NO_PID + " -o {out}", f"no such process: {NO_PID}"),
    ("inspect", "the following arguments are required"),
    ("inspect {missing}", "no such file or directory"),
    ("inspect {dir}", "not a CRIU image directory"),
    ("inspect {text}", "not a timertui snapshot, a CRIU image directory or crit JSON"),
    ("inspect /dev/null", "/dev/null: not a regular file or directory"),
    ("inspect /dev/zero", "/dev/zero: not a regular file or directory"),
    ("inspect {fifo}", "fifo: not a regular file or directory"),
    ("inspect {socket}", "sock: not a regular file or directory"),
    ("inspect {fifo-dir}", "pstree.img: not a regular file or directory"),
    ("inspect {damaged}", "damaged: the payload fails its SHA-256 check"),
    ("inspect {cut}", "truncated: 40 bytes, shorter than the header"),
    ("inspect {loop}", "Too many levels of symbolic links"),
    ("inspect {criu-cut}", "truncated"),
    ("inspect {wrong-json}", "crit JSON of a FDINFO image"),
    ("inspect {good} {good}", "unrecognized arguments"),
    ("log", "the following arguments are required"),
    ("log {missing}", "no such file or directory"),
    ("log {dir}", "no CRIU log here"),
    ("log {text}", "not a CRIU log"),
    ("log {good}", "not a CRIU log"),
    ("log /dev/null", "/dev/null: not a regular file or directory"),
    ("log {fifo}", "fifo: not a regular file or directory"),
    ("log {socket}", "sock: not a regular file or directory"),
    ("log {loop}", "Too many levels of symbolic links"),
    ("check extra", "unrecognized arguments: extra"),
    ("check --deep", "unrecognized arguments: --deep"),
    ("restore", "the following arguments are required"),
    ("restore {missing}", "no such file or directory"),
    ("restore {dir}", "not a CRIU image directory"),
    ("restore {damaged}", "fails its SHA-256 check"),
    ("restore {text}", "not a timertui snapshot"),
    ("restore /dev/zero", "/dev/zero: not a regular file or directory"),
    ("restore {fifo}", "fifo: not a regular file or directory"),
    ("restore {socket}", "sock: not a regular file or directory"),
    ("restore {fifo-dir}", "pstree.img: not a regular file or directory"),
    ("verify", "the following arguments are required"),
    ("verify {missing}", "no such file or directory"),
    ("verify {damaged} 1", "fails its SHA-256 check"),
    ("verify {good} " + NO_PID, f"no such process: {NO_PID}"),
    ("verify {good} 1 1", "2 PIDs given, the checkpoint holds 1 process"),
    ("verify {good} 1 --watch -1", "must be 0..3600 seconds"),
    ("verify {good} 1 --watch soon", "not a number of seconds"),
    ("restore {no-timers}", "no process with timers in it"),
    ("restore {good} --pid 12345", "no process 12345 in it"),
    ("restore {good} --pid abc", "invalid int value: 'abc'"),
    ("restore {good} --mode sideways", "invalid choice: 'sideways'"),
    ("restore {good} --backend qemu", "invalid choice: 'qemu'"),
    ("restore {good} --dead-threads keep", "invalid choice: 'keep'"),
    ("restore {good} --sigpending lots", "invalid int value: 'lots'"),
    ("restore {good} --start vfork", "invalid choice: 'vfork'"),
    ("restore {good} --backend sim --kernel 1.0-nope", "1.0-nope"),
    ("restore {good} --kernel 3.10-6.14", "--kernel and --pace apply to the simulator"),
    ("restore {good} --backend sim --pace sideways", "sideways"),
    ("calibrate extra", "unrecognized arguments: extra"),
    ("calibrate --bogus", "unrecognized arguments: --bogus"),
    ("demo-workload --ids abc", "--ids: 'abc' is not an integer"),
    ("demo-workload --ids 1,1", "--ids: 1 given twice"),
    ("demo-workload --ids=-1", "--ids: -1 is outside 0..2147483647"),
    ("demo-workload --ids 2147483648", "--ids: 2147483648 is outside 0..2147483647"),
    ("demo-workload --ids ,", "is not an integer"),
    ("demo-workload extra", "unrecognized arguments: extra"),
    ("serve --port 65536", "not a port number: '65536'"),
    ("serve --port http", "not a port number: 'http'"),
    ("serve --host 0.0.0.0 --port 0", "is reachable from other hosts: serving there needs"),
    ("serve --allow-native --port 0", "--allow-native goes with --public"),
    ("serve --port 0 --snapshot {missing}", "no such file or directory"),
    ("serve --port 0 --snapshot {damaged}", "fails its SHA-256 check"),
    ("deep-values extra", "unrecognized arguments: extra"),
    ("show 1 --remote-timertui /bin/true", "--remote-timertui goes with --host"),
    ("snapshot 1 --deep --remote-timertui /bin/true", "--remote-timertui goes with --host"),
]


def test_every_subcommand_has_bad_input_cases() -> None:
    covered = {t.split()[0].replace("-", "_") for t, _ in CASES}
    assert set(cli.COMMANDS) <= covered, set(cli.COMMANDS) - covered


def test_bad_input_is_one_line_exit_2(files: dict[str, str]) -> None:
    """All the cases, four at a time (each is a fresh interpreter)."""
    if not Path(files["criu-cut"], "pstree.img").exists():
        recorded.missing("CRIU fixture", recorded.STRESS_NG)
    # Any command added later gets the generic check at least.
    generic = [
        (f"{name.replace('_', '-')} --no-such-option", "(see --help)") for name in cli.COMMANDS
    ]
    assert not_refused_in_one_line([*CASES, *generic], files) == []
    assert not Path(files["out"]).exists()
    assert not list(Path(files["dir"]).iterdir())
