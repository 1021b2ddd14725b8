"""The agent as shipped (the zipapp of timertui/remote/agent) on Python 3.9 with nothing but its
standard library (-I: no site-packages, no user site): every module imports, and it sweeps this
host's /proc as the local capture layer does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.loopback_sshd import PYTHON39
from timertui.capture import processes
from timertui.remote.agent import proc as agent_proc
from timertui.remote.ssh import AGENT_DIR, agent_zip

pytestmark = [
    pytest.mark.usefixtures("needs_proc_timers"),
    pytest.mark.skipif(not Path(PYTHON39).exists(), reason=f"{PYTHON39} missing"),
]

_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
from ttagent import proc, serve, wire
assert "msgpack" not in sys.modules and "timertui" not in sys.modules
assert sys.version_info[:2] == (3, 9)
rows = proc.scan(True, True)
sys.stdout.buffer.write(wire.packb([len(rows), serve.answer({"op": "hello"})["ok"]["python"]]))
"""


def test_every_shipped_module_compiles_on_python39() -> None:
    for path in sorted(AGENT_DIR.glob("*.py")):
        result = subprocess.run(
            [
                PYTHON39,
                "-I",
                "-c",
                "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (path, result.stderr)


def test_the_zipapp_runs_on_python39_alone(tmp_path: Path) -> None:
    zipped = tmp_path / "agent.pyz"
    zipped.write_bytes(agent_zip())
    result = subprocess.run(
        [PYTHON39, "-I", "-c", _RUN, str(zipped)], capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    import msgpack

    count, python = msgpack.unpackb(result.stdout)
    assert python.startswith("3.9.")
    assert count > 0


def test_agent_rows_match_the_local_sweep() -> None:
    """The rows' pids are the local scan's (the same picks), give or take processes that came
    or went between the two sweeps."""
    ours = {row[agent_proc.PID] for row in agent_proc.scan(False, True)}
    local = {p.pid for p in processes.scan(False, include_unreadable=True)}
    assert len(ours ^ local) <= 3, ours ^ local
