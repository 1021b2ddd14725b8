"""`--host [USER@]HOST[:PORT]`: a command's processes read on another host over ssh
(timertui.remote), where only python3 is needed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timertui.remote.reading import RemoteHost


def add_host_argument(p: Any) -> None:
    p.add_argument(
        "--host",
        metavar="[USER@]HOST[:PORT]",
        help="read the processes on this host over ssh (the user's ssh config, keys and agent;"
        " the remote needs python3 3.9+ only)",
    )


def remote(args: Any) -> RemoteHost:
    """The host --host names, its ssh started (it connects while the command loads the rest):
    use it in a with block, which waits for the agent and closes. One line (exit 2) for a bad
    host string, and for --deep, which needs timertui installed there."""
    from timertui.remote.ssh import Connection, RemoteError, parse_target

    target = parse_target(args.host)
    if getattr(args, "deep", False):
        raise RemoteError(
            f"{target.label}: --deep reads timer values by ptrace on the host itself: run "
            "timertui there (pip install timertui), not through --host"
        )
    connection = Connection(target)
    connection.start()
    try:
        from timertui.remote.reading import RemoteHost

        return RemoteHost(target, connection=connection)
    except BaseException:
        connection.close()
        raise
