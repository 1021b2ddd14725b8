"""CRIU's timerfds (files.img TIMERFD entries placed by fdinfo-N.img) and interval timers
(core tc.timers real/virt/prof), from real CRIU 4.2 images and their crit JSON; broken or
unmatched entries are problems with their field paths, never a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from recorded import TIMERFD_ITIMER

from timertui import snapshot_file
from timertui.criu import import_criu
from timertui.model import O_CLOEXEC, O_NONBLOCK, IntervalTimer

FIXTURE = TIMERFD_ITIMER
pytestmark = pytest.mark.usefixtures("timerfd_itimer_dir")


@pytest.mark.parametrize("kind", ["images", "crit-json"])
def test_the_fixture_imports_all_three_kinds(kind: str) -> None:
    snap = import_criu(FIXTURE / kind)
    (proc,) = snap.processes
    assert proc.pid == 2216 and proc.problems == ()
    assert [t.id for t in proc.timers] == [0] and proc.timers[0].sigval == 0x1234
    mono, real = proc.timerfds
    assert (mono.fd, mono.clock, mono.interval_ns, mono.ticks) == (3, 1, 100_000_000, 1)
    assert mono.flags & O_CLOEXEC and mono.stalled_periodic  # the pending-tick timerfd
    assert (real.fd, real.clock, real.absolute, real.remaining_ns) == (4, 0, True, 3595_888_055_859)
    assert real.flags & O_NONBLOCK and not real.flags & O_CLOEXEC and not real.stalled_periodic
    assert proc.itimers == (
        IntervalTimer(0, 0, 387_113, 0, 500_000),
        IntervalTimer(1, 30, 4000, 10, 0),
        IntervalTimer(2, 60, 4000, 20, 0),
    )
    assert snapshot_file.validate(snap) == []
    assert snapshot_file.decode(snapshot_file.encode(snap)) == snap


def _crit_copy(tmp_path: Path) -> Path:
    out = tmp_path / "crit"
    shutil.copytree(FIXTURE / "crit-json", out)
    return out


def _edit(path: Path, change: object) -> None:
    doc = json.loads(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))


def test_a_timerfd_entry_no_fd_names_and_an_fd_without_its_entry(tmp_path: Path) -> None:
    d = _crit_copy(tmp_path)
    _edit(d / "fdinfo-2.json", lambda doc: doc["entries"][3].update(id=99))
    (proc,) = import_criu(d).processes
    assert [t.fd for t in proc.timerfds] == [4]
    assert len(proc.problems) == 2
    assert "entries[3].id: timerfd 99 of fd 3 not in files.img" in proc.problems[0]
    assert "entries[5].tfd: timerfd 6 is not at any fd" in proc.problems[1]


def test_a_value_out_of_range_is_a_problem_with_its_path(tmp_path: Path) -> None:
    d = _crit_copy(tmp_path)
    _edit(d / "files.json", lambda doc: doc["entries"][6]["tfd"].update(vnsec=10**9))
    (proc,) = import_criu(d).processes
    assert [t.fd for t in proc.timerfds] == [3]
    assert proc.problems == (
        f"{d / 'files.json'} entries[6].tfd.vnsec: 1000000000 is not below one second",
    )


def test_binary_images_without_ids_use_the_one_fdinfo_image(tmp_path: Path) -> None:
    d = tmp_path / "images"
    shutil.copytree(FIXTURE / "images", d)
    (d / "ids-2216.img").unlink()
    (proc,) = import_criu(d).processes
    assert [t.fd for t in proc.timerfds] == [3, 4]


def test_inspect_lists_every_kind_and_flags_the_pending_tick() -> None:
    from command_line import timertui

    out = timertui("inspect", str(FIXTURE / "images"))
    assert out.returncode == 0, out.stderr
    assert "timerfds: 2" in out.stdout and "interval timers: 3 armed" in out.stdout
    stalled = [line for line in out.stdout.splitlines() if "CRIU #3162" in line]
    assert len(stalled) == 1 and stalled[0].split()[0] == "3"
