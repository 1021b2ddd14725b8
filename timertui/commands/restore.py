"""`timertui restore FILE|CRIU_DIR`: replay the restore of a snapshot's timers and verify it.

Live progress while it runs (one updating line on a terminal, a plain line a second otherwise),
then the decisions, the time of each phase and the verification table. `--json` streams the
events as JSON lines instead. Exit 0 when every timer verified equal, 1 when the restore failed
or differs, 2 for bad input.

Its end-to-end time counts interpreter start, so the module level imports next to nothing, and
a plain command line is parsed without argparse (quick_args).
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    import argparse
    from types import ModuleType
    from typing import Any, TextIO

    from timertui.model import ProcessTimers
    from timertui.restore import events as ev
    from timertui.restore.events import Event
    from timertui.restore.plan import RestorePlan

_PLAIN_PROGRESS_NS = 1_000_000_000


def _options() -> tuple[tuple[str, dict[str, Any]], ...]:
    """The options, one table for argparse (register) and for quick_args: flag, add_argument's
    keywords (action store_true, or a value: choices, type int, or a string). Made when parsing,
    after start_early: the worker starts before anything else loads."""
    from timertui.choices import BACKENDS, DEAD_THREADS, MODES, START_METHODS

    return (
        ("--backend", {"choices": BACKENDS, "default": "native", "help": "default: native"}),
        (
            "--mode",
            {
                "choices": MODES,
                "default": "auto",
                "help": "auto: exact IDs when the kernel has them, else the walk (default)",
            },
        ),
        ("--pid", {"type": int, "help": "restore this process of the snapshot only"}),
        (
            "--hold",
            {
                "action": "store_true",
                "help": "keep the restored process after verifying, reporting expirations "
                "(Ctrl-C ends)",
            },
        ),
        (
            "--allow-wrap",
            {
                "action": "store_true",
                "help": "let the walk wrap past INT_MAX when a wanted ID is below the counter",
            },
        ),
        (
            "--dead-threads",
            {
                "choices": DEAD_THREADS,
                "default": "remap",
                "help": "timers notifying a thread that is gone: to the main thread, or SIGEV_NONE",
            },
        ),
        (
            "--sigpending",
            {
                "type": int,
                "metavar": "N",
                "help": "set the restored process's RLIMIT_SIGPENDING soft limit to N",
            },
        ),
        (
            "--start",
            {
                "choices": START_METHODS,
                "default": "auto",
                "help": "how the native worker starts (default auto: fork when single-threaded)",
            },
        ),
        (
            "--kernel",
            {
                "metavar": "PROFILE",
                "help": "simulator: 6.15+, 3.10-6.14, pre-3.10 or lowest-free, with "
                ":KEY=VALUE,... (counter, taken, sigpending, in-use, alarm, others, fillers); "
                "default: this host's",
            },
        ),
        ("--pace", {"help": "simulator: instant (default), real or xN (x10, x0.1)"}),
        ("--json", {"action": "store_true", "help": "stream the events as JSON lines"}),
        (
            "--host",
            {
                "metavar": "[USER@]HOST[:PORT]",
                "help": "restore natively on this host over ssh, by the timertui installed there",
            },
        ),
        (
            "--remote-timertui",
            {"metavar": "PATH", "help": "with --host: timertui there (default: on its PATH)"},
        ),
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "restore",
        help="replay the restore of a snapshot's timers (CRIU's way) and verify it",
        description="Recreate the timers of a snapshot (or a CRIU image directory) in a fresh "
        "process, as CRIU's restorer does, and verify them. Exit 0 when verified, 1 when the "
        "restore failed or differs, 2 for bad input.",
    )
    p.add_argument("source", metavar="FILE|CRIU_DIR", help="snapshot file or CRIU image dir")
    for flag, spec in _options():
        p.add_argument(flag, **spec)
    p.set_defaults(func=run)


class QuickArguments:
    """quick_args' answer, with argparse.Namespace's attributes (types.SimpleNamespace would
    load the types module, ~0.2 ms of the start)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...  # its attributes are the options'


if TYPE_CHECKING:
    # Parsed by argparse or by quick_args.
    Arguments = argparse.Namespace | QuickArguments


def quick_args(argv: list[str]) -> QuickArguments | None:
    """The arguments of a plain command line — one source, long options spelled out, valid
    values — as argparse would give them, without argparse; None for any other (help, a short,
    abbreviated or unknown option, a bad value), which argparse then parses or refuses."""
    options = _options()
    specs = dict(options)
    values = {
        flag[2:].replace("-", "_"): spec.get("default", False if "action" in spec else None)
        for flag, spec in options
    }
    sources = []
    words = iter(argv)
    for word in words:
        spec = specs.get(word)
        if spec is None:
            if word.startswith("-"):
                return None
            sources.append(word)
            continue
        value: Any = True
        if "action" not in spec:
            value = next(words, "-")
            if value.startswith("-") or value not in spec.get("choices", (value,)):
                return None
            if spec.get("type") is int:
                try:
                    value = int(value)
                except ValueError:
                    return None
        values[word[2:].replace("-", "_")] = value
    if len(sources) != 1:
        return None
    return QuickArguments(command="restore", func=run, source=sources[0], **values)


def start_early(argv: list[str]) -> None:
    """Before the arguments `argv` are parsed (the CLI calls it): start the native worker, which
    then loads on the other core while we parse, load the snapshot and plan. run() lets it go
    if the arguments want no forked native worker."""
    from timertui.restore.native import runner as native

    if not _big_source(argv):
        native.prestart()


# A source file past this size gets no prestarted worker. That worker takes plans of up to
# runner.PRESTART_MAX_TIMERS timers (a snapshot of them is ~2.5 KB), and forking it costs a big
# restore more than the fork: the pages it shares are copied as we go on to decode and plan
# (measured: ~7 ms of a 10,000-timer restore's start to verified).
_PRESTART_MAX_BYTES = 64 << 10


def _big_source(words: list[str]) -> bool:
    """Whether a word of the command line names a regular file past _PRESTART_MAX_BYTES (a word
    that names nothing, an option or its value, is passed over)."""
    for word in words:
        if word.startswith("-"):
            continue
        try:
            info = os.stat(word)  # noqa: PTH116 - pathlib is not loaded here
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(info.st_mode) and info.st_size > _PRESTART_MAX_BYTES:
            return True
    return False


def run(args: Arguments) -> int:
    import gc

    # A restore allocates its snapshot and plan (tens of thousands of records for 10,000
    # timers) and no garbage cycles to speak of: the collector would only walk them, ~10 ms
    # of a dense restore. On again once the restore is done and a --hold goes on.
    gc.disable()
    from timertui.restore.native import runner as native_backend

    try:
        if args.host is not None:
            native_backend.discard_prestarted()
            return _run_remote(args)
        if args.remote_timertui is not None:
            from timertui.errors import InputError

            raise InputError("--remote-timertui goes with --host")
        if args.backend == "native" and args.start != "spawn" and not _big_source([args.source]):
            native_backend.prestart()  # if start_early did not: it still overlaps load and plan
        return _run(args, native_backend)
    finally:
        native_backend.discard_prestarted()  # unused: bad input, or only big plans


def _run(args: Arguments, native_backend: ModuleType) -> int:
    from timertui.clocks import uses_alarm_clocks
    from timertui.restore.plan import TargetSpec, build_plan
    from timertui.sources import open_source

    if args.backend != "sim" and (args.kernel is not None or args.pace is not None):
        from timertui.restore import BackendError

        raise BackendError("--kernel and --pace apply to the simulator (--backend sim)")
    snapshot = open_source(args.source)
    processes = _select(snapshot.processes, args.pid, args.source)
    target = TargetSpec(sigpending_limit=args.sigpending)
    # Host facts only to probe alarm support; without them the worker checks the target's
    # RLIMIT_SIGPENDING headroom itself (probing here loads capture.host on the start path).
    alarms = any(uses_alarm_clocks(p.timers) for p in processes)
    facts = None
    if args.backend == "native" and alarms:
        facts = native_backend.local_facts(probe_alarm=True)
    extra = {k: v for k in ("kernel", "pace") if (v := getattr(args, k)) is not None}
    if args.backend == "sim":
        # The simulated target runs on this host where --kernel says nothing.
        extra["host"] = native_backend.local_facts(probe_alarm=alarms)
    ok = True
    for process in processes:
        plan = build_plan(process, target=target, facts=facts, dead_threads=args.dead_threads)
        ok = _restore(plan, args, extra) and ok
    return 0 if ok else 1


def _run_remote(args: Arguments) -> int:
    """The restore run by timertui on --host, its output shown here as it comes and its exit
    status ours. The file is checked here first (bad input never travels); a connection lost
    meanwhile ends the restore there, worker and all, and is one line here (exit 2)."""
    from pathlib import Path

    from timertui.commands.hosts import remote
    from timertui.remote.ssh import RemoteError
    from timertui.sources import open_source

    source = Path(args.source)
    open_source(args.source)
    if not source.is_file():
        raise RemoteError(
            f"{args.source}: --host sends a snapshot file or checkpoint archive, not a directory"
            " (take a snapshot of it with inspect, or copy it there)"
        )
    argv = []
    for flag, spec in _options():
        name = flag[2:].replace("-", "_")
        value = getattr(args, name)
        if name in ("host", "remote_timertui") or value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif value != spec.get("default"):
            argv += [flag, str(value)]
    status, started = 0, False
    with remote(args) as there:
        try:
            frames = there.connection.stream(
                "restore",
                data=source.read_bytes(),
                name=source.name,
                argv=argv,
                timertui=args.remote_timertui,
            )
            for frame in frames:
                started = True
                for key, stream in (("out", sys.stdout), ("err", sys.stderr)):
                    chunk = frame.get(key)
                    if isinstance(chunk, bytes):
                        stream.buffer.write(chunk)
                        stream.flush()
                result = frame.get("ok")
                if isinstance(result, dict):
                    status = int(result.get("status", 1))
        except RemoteError as exc:
            if not started:
                raise
            raise RemoteError(f"{exc}: the restore there was ended with it") from None
    # A restore there ended by a signal gives a negative status: a failed restore here.
    return status if 0 <= status <= 2 else 1


def _select(
    processes: tuple[ProcessTimers, ...], pid: int | None, source: str
) -> list[ProcessTimers]:
    from timertui.restore.plan import PlanError

    if pid is not None:
        chosen = [p for p in processes if p.pid == pid]
        if not chosen:
            raise PlanError(f"{source}: no process {pid} in it")
        if not chosen[0].holds_timers:
            raise PlanError(f"{source}: process {pid} has no timers to restore")
        return chosen
    chosen = [p for p in processes if p.holds_timers]
    if not chosen:
        raise PlanError(f"{source}: no process with timers in it")
    return chosen


def _restore(plan: RestorePlan, args: Arguments, backend_options: dict[str, Any]) -> bool:
    import gc

    from timertui.restore import run as run_restore

    stream = run_restore(
        plan,
        args.backend,
        args.mode,
        args.hold,
        allow_wrap=args.allow_wrap,
        start=args.start,
        **backend_options,
    )
    view: _Json | _Text = _Json() if args.json else _Text(plan, sys.stdout, sys.stderr)
    try:
        for event in stream:
            view.show(event)
            if event.kind == "done":
                gc.enable()
    except KeyboardInterrupt:
        if not (args.hold and view.ok):
            raise
    finally:
        stream.close()
    view.finish()
    return view.ok


class _Json:
    def __init__(self) -> None:
        self.ok = False

    def show(self, event: Event) -> None:
        from timertui.restore.events import Done, to_json

        if isinstance(event, Done):
            self.ok = event.ok
        sys.stdout.write(to_json(event) + "\n")
        sys.stdout.flush()

    def finish(self) -> None:
        pass


class _Text:
    """The human display: progress while running, the report at `done`, expirations after."""

    def __init__(self, plan: RestorePlan, out: TextIO, err: TextIO) -> None:
        self.plan = plan
        self.out = out
        self.err = err
        self.tty = err.isatty()
        self.ok = False
        self.events: list[Event] = []
        self.last_plain = 0  # plain lines start a second in: short restores print none
        self.progress_shown = False

    def show(self, event: Event) -> None:
        from timertui.restore import events as ev

        self.events.append(event)
        if isinstance(event, ev.Progress):
            self.progress(event)
        elif isinstance(event, ev.Done):
            self.ok = event.ok
            self.report(event)
        elif isinstance(event, ev.Expiration):
            self.out.write(
                f"  {_ms(event.t_ns):>12}  timer {event.timer_id}: {event.count} expirations "
                f"(total {event.total}, overrun {event.overrun})\n"
            )
            self.out.flush()
        elif isinstance(event, ev.Error):
            self.clear_progress()
            self.err.write(f"timertui: restore error ({event.code}): {event.message}\n")

    def progress(self, p: Any) -> None:
        from timertui.words import duration_text

        share = (p.current_id + 1) / (p.max_id + 1) if p.max_id >= 0 else 1.0
        eta = f"ETA {duration_text(p.eta_ns)}" if p.eta_ns >= 0 else "ETA ?"
        line = (
            f"{p.phase}: ID {p.current_id:,} of {p.max_id:,} ({share:.1%}), timer "
            f"{p.timers_done}/{p.timers_total}, {p.creates:,} creates, "
            f"{p.rate / 1e6:.2f} M/s, {eta}"
        )
        if self.tty:
            self.err.write("\r\x1b[K" + line)
            self.progress_shown = True
        elif p.t_ns - self.last_plain >= _PLAIN_PROGRESS_NS:
            self.err.write(line + "\n")
            self.last_plain = p.t_ns
        self.err.flush()

    def clear_progress(self) -> None:
        if self.progress_shown:
            self.err.write("\r\x1b[K")
            self.progress_shown = False

    def report(self, done: Any) -> None:
        from timertui.commands.output import format_table
        from timertui.restore import events as ev
        from timertui.words import counted, duration_text

        self.clear_progress()
        start = next((e for e in self.events if isinstance(e, ev.Start)), None)
        plan = self.plan
        w = self.out.write
        target = f"target pid {start.pid}" if start else "target"
        w(
            f"restore of pid {plan.source_pid} ({plan.comm}): "
            f"{counted(len(plan.timers), 'timer')}, max ID {plan.max_id:,}"
            f"{_other_kinds(plan)} -> {target}, {done.mode or 'no'} mode\n"
        )
        decisions = [e for e in self.events if isinstance(e, ev.Decision)]
        if decisions:
            rows = [(_ms(d.t_ns), d.code, d.severity, d.reason) for d in decisions]
            w("\ndecisions:\n" + _indent(format_table(("TIME", "CODE", "LEVEL", "REASON"), rows)))
        timing = [(name, duration_text(ns)) for name, ns in done.phases.items()]
        timing.append(("total", duration_text(done.wall_ns)))
        w("\ntiming:\n" + _indent(format_table(("PHASE", "TIME"), timing, right="TIME")))
        w(
            f"  {counted(done.creates, 'create')}, {counted(done.deletes, 'delete')}, "
            f"{counted(done.syscalls, 'syscall')}\n"
        )
        verify = next((e for e in self.events if isinstance(e, ev.Verify)), None)
        if verify is not None:
            w("\nverification:\n" + _indent(self.verification(verify)))
        verdict = "verified" if done.ok else "FAILED"
        total = len(plan.timers) + len(plan.timerfds) + len(plan.itimers)
        w(f"\nresult: {verdict}, {done.verified} of {total} timers equal\n")
        if done.holding:
            w(f"\nholding pid {start.pid if start else '?'}; expirations below (Ctrl-C ends)\n")
        self.out.flush()

    def verification(self, verify: ev.Verify) -> str:
        from timertui.capture.describe import clock_text, notify_text, signal_text
        from timertui.commands.output import format_table
        from timertui.words import duration_text

        by_id = {t.id: t.source for t in self.plan.timers}
        rows = []
        others = [c for c in verify.checks if c.timer_kind != "posix"]
        for check in verify.posix_checks():
            t = by_id[check.timer_id]
            values = t.values
            rows.append(
                (
                    t.id,
                    clock_text(t),
                    notify_text(t),
                    signal_text(t),
                    f"{t.sigval:#x}",
                    duration_text(values.remaining_ns) if values else "-",
                    duration_text(values.interval_ns) if values else "-",
                    "equal"
                    if check.equal
                    else "differs: " + ", ".join(d.text() for d in check.diffs),
                )
            )
        headers = ("ID", "CLOCK", "NOTIFY", "SIGNAL", "SIGVAL", "VALUE", "INTERVAL", "RESULT")
        text = format_table(headers, rows, right="ID,VALUE,INTERVAL") if rows else ""
        if others:
            from timertui.model import ITIMER_NAMES

            kinds = [
                (
                    f"fd {c.timer_id}" if c.timer_kind == "timerfd" else ITIMER_NAMES[c.timer_id],
                    c.timer_kind,
                    "equal" if c.equal else "differs: " + ", ".join(d.text() for d in c.diffs),
                )
                for c in others
            ]
            table = format_table(("TIMER", "KIND", "RESULT"), kinds)
            text = f"{text}\n{table}" if text else table
        return text

    def finish(self) -> None:
        self.clear_progress()
        self.err.flush()


def _other_kinds(plan: RestorePlan) -> str:
    from timertui.words import counted

    parts = []
    if plan.timerfds:
        parts.append(counted(len(plan.timerfds), "timerfd"))
    if plan.itimers:
        parts.append(counted(sum(t.arm for t in plan.itimers), "interval timer"))
    return "".join(f", {p}" for p in parts)


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


def _ms(ns: int) -> str:
    return f"+{ns / 1e6:.3f} ms"
