"""`timertui serve`: the app in a browser tab, through textual-serve. Each tab that connects runs
its own `timertui` (with the options given here: --demo, --snapshot FILE) in a process of its
own; closing the tab ends that process, and with it its restore worker and demo workload.

textual-serve has no authentication and each session runs as the serving user (often root,
with ptrace), so the server listens on 127.0.0.1 unless --public is given with --host; then it
prints what it exposes, and the sessions run with --no-native (no native restores, no deep
capture) unless --allow-native is given too.

textual-serve runs the app as a child process and speaks to it over pipes: it imports neither
textual nor the app, so this module stays in the command layer. What we change of it: the
server listens on a socket bound here (a port in use or a privileged one is one line, exit 2,
before anything starts; --port 0 picks a free one), the app is started without a shell in a
session of its own, the page's websocket address is the one the browser used, and a session
that does not end within QUIT_GRACE_S of the tab closing is ended (SIGTERM, then SIGKILL, to
its whole process group). It is pinned in pyproject.toml: these are its internals.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timertui.errors import InputError

if TYPE_CHECKING:
    from asyncio.subprocess import Process

    from aiohttp import web

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8000
# How long a session may take to quit once its tab is gone, then how long SIGTERM may take
# (the app ends as at `q`: its workers and demo workload reaped), before SIGKILL.
QUIT_GRACE_S = 3.0
TERM_GRACE_S = 3.0
_PUBLIC_HOSTS = ("0.0.0.0", "::")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="the app in a browser: each tab its own session (textual-serve)",
        description="Serve the app to web browsers, each tab running its own session. "
        "Loopback only unless --public.",
    )
    p.add_argument(
        "--host",
        default=LOOPBACK,
        metavar="ADDRESS",
        help=f"the address to listen on (default {LOOPBACK}; any other needs --public)",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"the port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    p.add_argument(
        "--public",
        action="store_true",
        help="allow an address other hosts reach: no authentication; native restores and "
        "deep capture off",
    )
    p.add_argument(
        "--allow-native",
        action="store_true",
        help="with --public: native restores and deep capture on for every visitor",
    )
    p.add_argument("--demo", action="store_true", help="each session starts the demo workload")
    p.add_argument(
        "--snapshot",
        metavar="FILE|CRIU_DIR",
        help="each session browses this snapshot, CRIU image directory or archive",
    )
    p.add_argument(
        "--snapshot-dir",
        metavar="DIR",
        type=Path,
        help="where the sessions save and list snapshots",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line once serving (url, public, native, the session's command)",
    )
    p.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r} (0-65535)")
    return port


def run(args: argparse.Namespace) -> int:
    if args.allow_native and not args.public:
        raise InputError("--allow-native goes with --public (loopback serving has native on)")
    if args.snapshot is not None:
        from timertui import sources

        sources.open_source(args.snapshot)  # bad input: one line now, not in every tab
    listener = bind(args.host, args.port, public=args.public)
    native = args.allow_native or not args.public
    command = session_command(args, native=native)
    try:
        return _serve(listener, command, args, native)
    finally:
        listener.close()


def session_command(args: argparse.Namespace, *, native: bool) -> list[str]:
    """The command line each browser session runs: this timertui, with the app's options."""
    command = [sys.executable, "-m", "timertui"]
    if args.demo:
        command.append("--demo")
    if args.snapshot is not None:
        command += ["--snapshot", str(Path(args.snapshot).absolute())]
    if args.snapshot_dir is not None:
        command += ["--snapshot-dir", str(args.snapshot_dir.absolute())]
    if not native:
        command.append("--no-native")
    return command


def bind(host: str, port: int, *, public: bool) -> socket.socket:
    """A listening socket on `host`:`port`. Bad input (one line, exit 2): an address that is not
    loopback without `public`, one this machine does not have, a port in use, a privileged
    port this user may not bind."""
    try:
        found = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"--host {host}: no such address ({exc})") from None
    if not public:
        outside = [str(addr[4][0]) for addr in found if not _loopback(str(addr[4][0]))]
        if outside:
            raise InputError(
                f"--host {host} ({outside[0]}) is reachable from other hosts: serving there needs"
                " --public (no authentication; sessions run as this user)"
            )
    family, kind, proto, _name, address = found[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise InputError(_bind_error(host, port, exc)) from None
    listener.setblocking(False)
    return listener


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _bind_error(host: str, port: int, exc: OSError) -> str:
    where = f"{host} port {port}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where} is in use: pick another with --port (0 picks a free one)"
    if exc.errno == errno.EACCES and port < 1024:
        return (
            f"port {port} is privileged and this user may not listen on it: pick one from 1024"
            " up, or run with CAP_NET_BIND_SERVICE"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def exposure(args: argparse.Namespace, url: str, native: bool) -> list[str]:
    """What a public server gives anyone who reaches it, one line each."""
    from timertui import locations

    user = _user()
    folder = args.snapshot_dir or locations.snapshot_dir()
    lines = [
        f"timertui serve: PUBLIC on {url}, no authentication. Anyone who reaches it gets, as "
        f"{user}:",
        "  - this host's processes and their POSIX timers, live (/proc)",
        f"  - the snapshot folder {folder}: list, save, rename, delete",
        f"  - any file or directory {user} can read, opened as a snapshot (o)",
        "  - restores on the simulator",
    ]
    if args.demo:
        lines.append("  - a demo workload process for each session")
    if native:
        lines.append(
            "  - native restores (worker processes on this kernel) and deep capture (ptrace of"
            " any process): ON (--allow-native)"
        )
    else:
        lines.append(
            "  - native restores and deep capture (ptrace): OFF (--allow-native turns them on)"
        )
    return lines


def _user() -> str:
    import pwd

    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = str(uid)
    return f"user {name} (uid {uid})"


def _serve(
    listener: socket.socket, command: list[str], args: argparse.Namespace, native: bool
) -> int:
    import asyncio
    import json
    import shlex

    from aiohttp import web

    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    if args.json:
        said = json.dumps({"url": url, "public": args.public, "native": native, "command": command})
    elif args.public:
        said = "\n".join(exposure(args, url, native))
    else:
        said = (
            f"timertui serve: {url} (loopback only): each tab runs `{shlex.join(command[1:])}`;"
            " Ctrl+C stops"
        )

    async def main() -> None:
        server = _server(command, host, port)
        app = await server._make_app()
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.SockSite(runner, listener).start()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signo in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signo, stop.set)
            print(said, flush=True)  # serving now, and a signal ends it cleanly
            await stop.wait()
        finally:
            await server.end_sessions()
            await runner.cleanup()

    asyncio.run(main())
    return 0


def _server(command: list[str], host: str, port: int) -> Any:
    """textual-serve's server for `command`, with the changes this module's docstring lists."""
    import asyncio
    import shlex

    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    class Session(AppService):
        """One tab's app: started without a shell in a session (process group) of its own, so
        that whatever it leaves can be ended with it."""

        async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
            self._process = process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._build_environment(width=width, height=height),
                start_new_session=True,
            )
            assert process.stdin is not None
            self._stdin = process.stdin
            return process

        async def stop(self) -> None:
            if self._task is None:
                return  # stopped already (textual-serve stops a session twice)
            process = self._process
            try:
                await asyncio.wait_for(super().stop(), QUIT_GRACE_S)
            except (TimeoutError, ConnectionError):
                pass
            finally:
                self._task = None
                if process is not None:
                    await _end_group(process)

    class TimertuiServer(Server):
        def __init__(self) -> None:
            super().__init__(shlex.join(command), host=host, port=port, title="timertui")
            self.sessions: set[Session] = set()

        async def on_startup(self, app: web.Application) -> None:
            pass  # run() has said where it serves (textual-serve prints a banner here)

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            # The page's websocket goes back where the browser found the page: a server on
            # 0.0.0.0 is reached by one of this host's names, never at "0.0.0.0".
            self.public_url = f"{request.scheme}://{request.host}"
            response: web.StreamResponse = await super().handle_index(request)
            return response

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            from aiohttp import WSMsgType
            from aiohttp import web as aioweb

            socket_ = aioweb.WebSocketResponse(heartbeat=15)
            await socket_.prepare(request)

            async def close() -> None:
                await socket_.close()

            session = Session(
                self.command,
                write_bytes=socket_.send_bytes,
                write_str=socket_.send_str,
                close=close,
                download_manager=self.download_manager,
            )
            self.sessions.add(session)
            try:
                await session.start(_size(request, "width", 80), _size(request, "height", 24))
                async for message in socket_:
                    if message.type == WSMsgType.TEXT:
                        await _forward(session, socket_, message.data)
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                self.sessions.discard(session)
                await session.stop()
                await socket_.close()
            return socket_

        async def end_sessions(self) -> None:
            await asyncio.gather(*(session.stop() for session in list(self.sessions)))

    return TimertuiServer()


def _size(request: web.Request, name: str, default: int) -> int:
    try:
        return max(1, min(1000, int(request.query.get(name, default))))
    except ValueError:
        return default


async def _forward(session: Any, socket_: web.WebSocketResponse, data: str) -> None:
    """One message from the page: keys, a resize, a ping, focus changes. Anything else (or a
    malformed one) is dropped: the page is anyone's when serving publicly."""
    import json

    try:
        envelope = json.loads(data)
    except ValueError:
        return
    if not isinstance(envelope, list) or not envelope:
        return
    kind, payload = envelope[0], envelope[1] if len(envelope) > 1 else None
    if kind == "stdin" and isinstance(payload, str):
        await session.send_bytes(payload.encode("utf-8"))
    elif kind == "resize" and isinstance(payload, dict):
        width, height = payload.get("width"), payload.get("height")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            await session.set_terminal_size(min(width, 1000), min(height, 1000))
    elif kind == "ping":
        await socket_.send_json(["pong", payload])
    elif kind == "blur":
        await session.blur()
    elif kind == "focus":
        await session.focus()


async def _end_group(process: Process) -> None:
    """The session's app gone, and its process group with it. Told to quit, it ends by itself,
    having reaped its workers; if not, SIGTERM (which it answers as `q`), then SIGKILL."""
    if not await _exited(process, QUIT_GRACE_S):
        _signal_group(process.pid, signal.SIGTERM)
        if not await _exited(process, TERM_GRACE_S):
            _signal_group(process.pid, signal.SIGKILL)
            await _exited(process, TERM_GRACE_S)
    # Whatever is still in its group does not outlive it.
    _signal_group(process.pid, signal.SIGKILL)


async def _exited(process: Process, timeout: float) -> bool:
    import asyncio

    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        return False
    return True


def _signal_group(pgid: int, signo: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signo)
