"""`--host [USER@]HOST[:PORT]`: a command's processes read on another host over ssh
(timertui.remote), where only python3 is needed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timertui.remote.reading import RemoteHost


def add_host_argument(p: Any, *, deep: bool = False) -> None:
    """--host, and with `deep` --remote-timertui (deep capture there runs timertui)."""
    p.add_argument(
        "--host",
        metavar="[USER@]HOST[:PORT]",
        help="read the processes on this host over ssh (the user's ssh config, keys and agent;"
        " the remote needs python3 3.9+ only, and timertui for --deep)",
    )
    if deep:
        p.add_argument(
            "--remote-timertui",
            metavar="PATH",
            help="with --host --deep: timertui there (default: on its PATH)",
        )


def remote(args: Any) -> RemoteHost:
    """The host --host names, its ssh started (it connects while the command loads the rest):
    use it in a with block, which waits for the agent and closes. One line (exit 2) for a bad
    host string."""
    from timertui.remote.ssh import Connection, parse_target

    target = parse_target(args.host)
    connection = Connection(target)
    connection.start()
    try:
        from timertui.remote.reading import RemoteHost

        return RemoteHost(
            target, connection=connection, timertui=getattr(args, "remote_timertui", None)
        )
    except BaseException:
        connection.close()
        raise


def refuse_stray_options(args: Any) -> None:
    """Bad input: --remote-timertui without --host."""
    if getattr(args, "remote_timertui", None) is not None:
        from timertui.errors import InputError

        raise InputError("--remote-timertui goes with --host")
