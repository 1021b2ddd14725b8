"""A throwaway OpenSSH server on 127.0.0.1 for the remote tests and bench: a free port, a new
host key and client key, root login by key only, and a client config plus an `ssh` wrapper on
a PATH of its own, so nothing of the machine's own ssh setup (/etc/ssh, ~/.ssh, its agent) is
read or touched. The remote login's PATH is what the caller gives (tests keep timertui off it);
its cache dir (XDG_CACHE_HOME) is inside the temp directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil

SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh") or "/usr/bin/ssh"
PYTHON39 = "/root/.pyenv/versions/3.9.18/bin/python3"


def available() -> str | None:
    """Why a loopback sshd cannot run here, or None."""
    if not Path(SSHD).exists():
        return f"{SSHD} missing (apt-get install openssh-server)"
    if not shutil.which("ssh-keygen"):
        return "ssh-keygen missing"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackSshd:
    """An sshd under `root` (a temp directory). `python` is what `python3` is on the remote
    PATH (None: no python3 there at all); `banner` is printed on stdout by the login shell, as
    a chatty shell start-up would."""

    def __init__(self, root: Path, *, python: str | None = PYTHON39, banner: str = "") -> None:
        self.root = root
        self.port = free_port()
        self.python = python
        self.banner = banner
        self.bin = root / "client-bin"  # our `ssh` wrapper: put it first on PATH
        self.remote_bin = root / "remote-bin"
        self.cache = root / "remote-cache"
        self.config = root / "ssh_config"
        self.known_hosts = root / "known_hosts"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"root@127.0.0.1:{self.port}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment whose `ssh` is the wrapper (for a timertui child process)."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.bin}:{env.get('PATH', '')}"
        return env

    @contextlib.contextmanager
    def ssh_here(self) -> Iterator[None]:
        """Our own process's `ssh` is the wrapper meanwhile (a RemoteHost made here)."""
        saved = os.environ["PATH"]
        os.environ["PATH"] = self.env()["PATH"]
        try:
            yield
        finally:
            os.environ["PATH"] = saved

    def start(self) -> LoopbackSshd:
        r = self.root
        r.mkdir(parents=True, exist_ok=True)
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", ""]
        subprocess.run([*keygen, "-f", str(r / "host_key")], check=True)
        subprocess.run([*keygen, "-f", str(r / "client_key")], check=True)
        shutil.copy(r / "client_key.pub", r / "authorized_keys")
        host_pub = (r / "host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.remote_bin.mkdir()
        self.cache.mkdir()
        if self.python is not None:
            (self.remote_bin / "python3").symlink_to(self.python)
        for tool in ("sh", "cat", "ls", "sleep", "env"):  # a shell's basics, and no timertui
            found = shutil.which(tool, path="/usr/bin:/bin")
            if found:
                (self.remote_bin / tool).symlink_to(found)
        shell_env = r / "shell-env"
        shell_env.write_text(f"echo {self.banner}\n" if self.banner else "")
        (r / "sshd_config").write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {r / 'host_key'}\n"
            f"PidFile {r / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {r / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PrintMotd no\n"
            "PrintLastLog no\n"
            "X11Forwarding no\n"
            "AllowAgentForwarding no\n"
            "AllowTcpForwarding no\n"
            # SHLVL set: bash sources ~/.bashrc for ssh commands only at the first shell level,
            # and the machine's root .bashrc would put its own PATH first. BASH_ENV: the banner.
            f"SetEnv PATH={self.remote_bin} XDG_CACHE_HOME={self.cache} SHLVL=1"
            f" BASH_ENV={shell_env}\n"
            "LogLevel ERROR\n"
        )
        self.config.write_text(
            "Host *\n"
            f"  IdentityFile {r / 'client_key'}\n"
            "  IdentitiesOnly yes\n"
            "  IdentityAgent none\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  PasswordAuthentication no\n"
            "  ControlMaster no\n"
            "  ControlPath none\n"
            "  LogLevel ERROR\n"
        )
        self.bin.mkdir()
        wrapper = self.bin / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F {self.config} "$@"\n')
        wrapper.chmod(0o755)
        return self.restart()

    def restart(self) -> LoopbackSshd:
        """Start sshd (again, after kill(): the same port, keys and config)."""
        r = self.root
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        with (r / "sshd.log").open("ab") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(r / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (r / "sshd.log").read_text(errors="replace")
                raise RuntimeError(f"sshd ended: {log.strip()[-300:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("sshd did not listen within 10 s")

    def sessions(self) -> list[psutil.Process]:
        """The per-connection sshd processes (and below them the remote commands)."""
        return [] if self.process is None else self.sessions_of(self.process.pid)

    @staticmethod
    def sessions_of(pid: int) -> list[psutil.Process]:
        try:
            return list(psutil.Process(pid).children(recursive=True))
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the server and every session it runs: connections drop mid-request."""
        doomed = self.sessions()
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        for proc in doomed:
            with contextlib.suppress(psutil.Error):
                if proc.name().startswith("sshd"):
                    proc.kill()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        doomed = self.sessions_of(process.pid)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()
        for proc in doomed:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(doomed, timeout=5)


@contextlib.contextmanager
def running(root: Path, **options: object) -> Iterator[LoopbackSshd]:
    server = LoopbackSshd(root, **options)  # type: ignore[arg-type]
    try:
        yield server.start()
    finally:
        server.stop()


def command_line(proc: psutil.Process) -> str:
    """Its command line, "" once gone (processes come and go under an sshd)."""
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def ssh_env_path(server: LoopbackSshd, extra: Sequence[str] = ()) -> str:
    return ":".join([str(server.bin), *extra, os.environ.get("PATH", "")])
