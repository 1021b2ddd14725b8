"""Decoded views of timers and processes: JSON-ready dicts, and one-line texts for tables.

Pure functions over the model; the decoding itself lives in timertui.clocks and timertui.signals.
"""

from __future__ import annotations

from typing import Any

from timertui.clocks import decode_clock
from timertui.model import Container, IntervalTimer, Notify, ProcessTimers, Timer, TimerFd
from timertui.signals import signal_name


def timer_view(t: Timer) -> dict[str, Any]:
    info = decode_clock(t.clock)
    cpu = info.cpu
    return {
        "id": t.id,
        "clock": {
            "raw": t.clock,
            "name": info.name,
            "cpu": None
            if cpu is None
            else {
                "type": cpu.type.name,
                "per_thread": cpu.per_thread,
                "pid": cpu.pid,
                "self": cpu.is_self,
            },
            "timer_allowed": info.timer_allowed,
            "alarm": info.alarm,
        },
        "notify": {
            "raw": t.notify,
            "mode": t.notify_kind.value,
            "thread_id": t.thread_targeted,
            "target": t.target,
        },
        "signal": {"signo": t.signo, "name": signal_name(t.signo)},
        "sigval": {"int": t.sigval, "hex": f"0x{t.sigval:016x}"},
        "values": None
        if t.values is None
        else {
            "remaining_ns": t.values.remaining_ns,
            "interval_ns": t.values.interval_ns,
            "overrun": t.values.overrun,
        },
    }


def process_view(p: ProcessTimers) -> dict[str, Any]:
    return {
        "pid": p.pid,
        "ppid": p.ppid,
        "uid": p.uid,
        "user": p.user,
        "comm": p.comm,
        "command": p.command,
        "cmdline": list(p.cmdline),
        "status": p.status,
        "tids": list(p.tids),
        "access": p.access.value,
        "sigpending": None
        if p.sigpending is None
        else {"soft": p.sigpending[0], "hard": p.sigpending[1]},
        "timers": [timer_view(t) for t in p.timers],
        "container": None if p.container is None else container_view(p.container),
        "ns_pid": p.ns_pid,
        "timerfds": [timerfd_view(t) for t in p.timerfds],
        "itimers": None if p.itimers is None else [itimer_view(t) for t in p.itimers],
        "problems": list(p.problems),
    }


def timerfd_view(t: TimerFd) -> dict[str, Any]:
    return {
        "fd": t.fd,
        "clock": {"raw": t.clock, "name": decode_clock(t.clock).name},
        "ticks": t.ticks,
        "settime_flags": {
            "raw": t.settime_flags,
            "abstime": t.absolute,
            "cancel_on_set": t.cancel_on_set,
        },
        "remaining_ns": t.remaining_ns,
        "interval_ns": t.interval_ns,
        "deadline_ns": t.deadline_ns,
        "flags": {"raw": t.flags, "nonblock": t.nonblock, "cloexec": t.cloexec},
        "stalled_periodic": t.stalled_periodic,
    }


def itimer_view(t: IntervalTimer) -> dict[str, Any]:
    return {
        "which": t.which,
        "name": t.name,
        "value": {"sec": t.value_s, "usec": t.value_us},
        "interval": {"sec": t.interval_s, "usec": t.interval_us},
        "armed": t.armed,
    }


def timerfd_flags_text(t: TimerFd) -> str:
    """'ABSTIME|CANCEL_ON_SET', 'NONBLOCK|CLOEXEC': the settime flags then the fd's, or '-'."""
    names = [
        name
        for name, on in (
            ("ABSTIME", t.absolute),
            ("CANCEL_ON_SET", t.cancel_on_set),
            ("NONBLOCK", t.nonblock),
            ("CLOEXEC", t.cloexec),
        )
        if on
    ]
    return "|".join(names) or "-"


def seconds_text(ns: int) -> str:
    """A duration for people: '0', '100 ms', '3595.970 s'."""
    if ns == 0:
        return "0"
    if ns < 1_000_000_000 and ns % 1_000_000 == 0:
        return f"{ns // 1_000_000} ms"
    return f"{ns / 1e9:.3f} s"


def container_view(c: Container) -> dict[str, Any]:
    return {**vars(c), "short_id": c.short_id, "label": c.label}


def clock_text(t: Timer) -> str:
    """The clock's name; clocks timer_create refuses say so."""
    info = decode_clock(t.clock)
    return info.name if info.timer_allowed else f"{info.name} (not for timers)"


def notify_text(t: Timer) -> str:
    """'signal → pid 1234', 'thread-id → tid 1240', 'thread → pid 1234' or 'none'."""
    kind = t.notify_kind
    if not t.thread_targeted:
        return "none" if kind is Notify.NONE else f"{kind.value} → pid {t.target}"
    # SIGEV_THREAD_ID goes with SIGEV_SIGNAL; other pairings only come from hand-made input.
    mode = "thread-id" if kind is Notify.SIGNAL else f"{kind.value}+thread-id"
    return f"{mode} → tid {t.target}"


def signal_text(t: Timer) -> str:
    """The signal's name; a SIGEV_NONE timer never sends its signal, so it shows '-'."""
    if t.notify_kind is Notify.NONE:
        return "-" if t.signo == 0 else f"({signal_name(t.signo)}, unused)"
    return signal_name(t.signo)
