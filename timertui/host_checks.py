"""`timertui check`, like `criu check`: can this host show, capture and restore POSIX timers?

Each check is a CheckResult. A required check that fails is an error (exit 1); an optional one
(alarm clocks: only processes that use them need them) is a warning that does not fail `check`.
Probes that create timers or switch exact-ID mode on run in forked children (capture.host).
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from timertui.capture import host

LOOKS_GOOD = "Looks good."
# Fewer free RLIMIT_SIGPENDING slots than this fails: a restore of a modest process would hit
# EAGAIN part way.
MIN_SIGPENDING_HEADROOM = 64

_SCOPES = {
    0: "classic: any process of the same user",
    1: "restricted: descendants only, unless CAP_SYS_PTRACE",
    2: "admin only: CAP_SYS_PTRACE needed",
    3: "no attach at all",
}


class Probes(Protocol):
    """Where the checks' facts come from: capture.host itself (this host), or another host's
    answers (timertui.remote)."""

    def probe_proc_timers(self) -> host.ProbeResult: ...
    def probe_exact_ids(self) -> host.ProbeResult: ...
    def probe_ptrace(self) -> host.ProbeResult: ...
    def probe_alarm_timers(self) -> host.ProbeResult: ...
    def ptrace_scope(self) -> int | None: ...
    def sigpending_limits(self) -> tuple[int, int]: ...
    def sigpending_in_use(self) -> int | None: ...


@dataclass(frozen=True)
class CheckResult:
    """One check. `required` False makes a failure a warning; `hint` says what to do about it."""

    name: str
    ok: bool
    detail: str
    hint: str = ""
    required: bool = True

    @property
    def status(self) -> str:
        if self.ok:
            return "ok"
        return "FAIL" if self.required else "warn"


def _from_probe(
    name: str,
    res: host.ProbeResult,
    ok_detail: str,
    fail_detail: str,
    hint: str,
    required: bool = True,
) -> CheckResult:
    if res.ok:
        return CheckResult(name, True, ok_detail, required=required)
    return CheckResult(name, False, fail_detail, hint, required)


def check_proc_timers(probes: Probes = host) -> CheckResult:
    res = probes.probe_proc_timers()
    return _from_probe(
        "proc-timers",
        res,
        "/proc/PID/timers is readable",
        res.detail,
        "the kernel needs CONFIG_CHECKPOINT_RESTORE=y to list timers",
    )


def check_exact_ids(probes: Probes = host) -> CheckResult:
    res = probes.probe_exact_ids()
    return _from_probe(
        "exact-ids",
        res,
        "prctl(PR_TIMER_CREATE_RESTORE_IDS) switches exact-ID mode on (probed in a child)",
        f"prctl(PR_TIMER_CREATE_RESTORE_IDS): {res.detail}",
        "needs Linux 6.15+; without it restores fall back to the create/delete walk"
        " (max ID + 1 creates)",
    )


def _scope_text(scope: int | None) -> str:
    if scope is None:
        return "no Yama LSM (kernel.yama.ptrace_scope absent)"
    return f"kernel.yama.ptrace_scope={scope} ({_SCOPES.get(scope, 'unknown value')})"


def check_ptrace(probes: Probes = host) -> CheckResult:
    res = probes.probe_ptrace()
    scope = _scope_text(probes.ptrace_scope())
    return _from_probe(
        "ptrace",
        res,
        f"PTRACE_SEIZE of a child works; {scope}",
        f"{res.detail}; {scope}",
        "deep capture (remaining time, overruns) needs ptrace: run as root or lower"
        " kernel.yama.ptrace_scope",
    )


def check_sigpending(probes: Probes = host) -> CheckResult:
    soft, _hard = probes.sigpending_limits()
    used = probes.sigpending_in_use()
    used_text = "?" if used is None else str(used)
    if soft == resource.RLIM_INFINITY:
        return CheckResult(
            "sigpending", True, f"RLIMIT_SIGPENDING unlimited ({used_text} slots in use)"
        )
    headroom = soft - (used or 0)
    ok = headroom >= MIN_SIGPENDING_HEADROOM
    return CheckResult(
        "sigpending",
        ok,
        f"RLIMIT_SIGPENDING {soft}, {used_text} in use by this user:"
        f" {max(headroom, 0)} more timers can be created",
        ""
        if ok
        else f"fewer than {MIN_SIGPENDING_HEADROOM} free: raise `ulimit -i` (LimitSIGPENDING=)"
        " or end processes of this user that hold timers or queued signals",
    )


def check_alarm_clocks(probes: Probes = host) -> CheckResult:
    res = probes.probe_alarm_timers()
    return _from_probe(
        "alarm-clocks",
        res,
        "CLOCK_REALTIME_ALARM timers can be created",
        f"CLOCK_REALTIME_ALARM timer_create: {res.detail}",
        "optional, does not fail check: only timers on REALTIME_ALARM/BOOTTIME_ALARM need"
        " an RTC wake alarm and CAP_WAKE_ALARM",
        required=False,
    )


CHECKS: tuple[Callable[[Probes], CheckResult], ...] = (
    check_proc_timers,
    check_exact_ids,
    check_ptrace,
    check_sigpending,
    check_alarm_clocks,
)


def run_checks(probes: Probes = host) -> list[CheckResult]:
    return [check(probes) for check in CHECKS]


def passed(results: Sequence[CheckResult]) -> bool:
    """True when no required check failed (warnings allowed)."""
    return all(r.ok or not r.required for r in results)


def format_text(results: Sequence[CheckResult]) -> str:
    """One line per check, hints of the failing ones indented below, then "Looks good." or
    the list of what is missing."""
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        lines.append(f"{r.status:<4}  {r.name:<{width}}  {r.detail}")
        if r.hint:
            lines.append(f"{'':<4}  {'':<{width}}  {r.hint}")
    missing = [r.name for r in results if r.status == "FAIL"]
    if missing:
        lines.append(f"Missing: {', '.join(missing)}")
    else:
        lines.append(LOOKS_GOOD)
    return "\n".join(lines)


def to_json(results: Sequence[CheckResult]) -> dict[str, Any]:
    return {
        "ok": passed(results),
        "checks": [
            {
                "name": r.name,
                "status": r.status,
                "ok": r.ok,
                "required": r.required,
                "detail": r.detail,
                "hint": r.hint,
            }
            for r in results
        ],
    }
