"""The decisions a restore makes once it meets the kernel (real or modelled), as Decision events
with t_ns 0 (the emitter stamps the time). Pure: the native worker and the simulator build their
decisions here, so both say the same thing in the same words. CRIU's own messages
(criu/pie/restorer.c) are quoted word for word, typos included, so users can search for them.
"""

from __future__ import annotations

import errno

from timertui.clocks import ALARM_CLOCKS
from timertui.errors import errno_text
from timertui.restore.events import Decision

# CRIU's messages, exactly as criu/pie/restorer.c prints them.
CRIU_PRCTL_ON = "Can't enabled PR_TIMER_CREATE_RESTORE_IDS: {ret}"
CRIU_PRCTL_OFF = "Can't disable PR_TIMER_CREATE_RESTORE_IDS: {ret}"
CRIU_CREATE_EXACT = "Can't create posix timer - {index}: {ret}"
CRIU_CREATE_WALK = "Can't create posix timer - {index}"
CRIU_UNEXPECTED_ID = "Unexpected timer id {got} (expected {wanted})"
CRIU_NOT_CONSECUTIVE = "Can't create timers, kernel don't give them consequently"
CRIU_DELETE = "Can't remove temporaty posix timer 0x{id:x}"


def exact_mode(forced: bool) -> Decision:
    forced_text = " (forced)" if forced else ""
    return Decision(
        0,
        "exact-mode",
        f"PR_TIMER_CREATE_RESTORE_IDS is on: each timer is created at its ID{forced_text}",
        "info",
    )


def walk_mode(forced: bool, kernel_has_exact: bool) -> Decision:
    if forced:
        reason = (
            "walk forced (mode walk): timers are recreated by creating and deleting until the "
            "kernel hands out each wanted ID"
            + (" (this kernel has exact IDs)" if kernel_has_exact else "")
        )
    else:
        reason = (
            "PR_TIMER_CREATE_RESTORE_IDS gave EINVAL (kernel before 6.15): timers are recreated "
            "by the create/delete walk"
        )
    return Decision(0, "walk-mode", reason, "info")


def exact_unsupported() -> Decision:
    return Decision(
        0,
        "exact-unsupported",
        "exact mode forced, but the kernel refused PR_TIMER_CREATE_RESTORE_IDS with EINVAL "
        "(it needs Linux 6.15+)",
        "fatal",
    )


def prctl_failed(ret: int) -> Decision:
    """The probe gave an errno other than EINVAL: CRIU stops there, so do we."""
    return Decision(
        0, "prctl-failed", f"{CRIU_PRCTL_ON.format(ret=ret)} ({errno_text(-ret)})", "fatal"
    )


def prctl_off_failed(ret: int) -> Decision:
    return Decision(0, "prctl-off-failed", CRIU_PRCTL_OFF.format(ret=ret), "error")


def exact_create_failed(index: int, timer_id: int, clock: int, err: int) -> Decision:
    """timer_create at the timer's ID gave `err` (positive errno). EAGAIN stops the restore:
    the timers after it would fail the same way."""
    criu = CRIU_CREATE_EXACT.format(index=index, ret=-err)
    if err == errno.EBUSY:
        return Decision(
            0,
            "id-busy",
            f"{criu} (ID {timer_id} is already in use in the target: EBUSY)",
            "error",
            timer_id,
        )
    if err == errno.EOPNOTSUPP and clock in ALARM_CLOCKS:
        return Decision(
            0,
            "alarm-unsupported",
            f"{criu} (alarm clocks need an RTC wake-up alarm and CAP_WAKE_ALARM: EOPNOTSUPP)",
            "error",
            timer_id,
        )
    if err == errno.EAGAIN:
        return Decision(
            0,
            "create-failed",
            f"{criu} (EAGAIN: RLIMIT_SIGPENDING reached or every ID in use; the timers after "
            "it are not attempted)",
            "fatal",
            timer_id,
        )
    return Decision(0, "create-failed", f"{criu} ({errno_text(err)})", "error", timer_id)


def unexpected_id(got: int, wanted: int) -> Decision:
    return Decision(
        0, "unexpected-id", CRIU_UNEXPECTED_ID.format(got=got, wanted=wanted), "error", wanted
    )


def walk_overshoot(wanted: int, got: int) -> Decision:
    """The walk came from below and the kernel skipped the wanted ID: it is taken."""
    return Decision(
        0,
        "walk-overshoot",
        f"{CRIU_NOT_CONSECUTIVE} (wanted ID {wanted} is already in use in the target; the "
        f"kernel skipped it and gave {got})",
        "fatal",
        wanted,
    )


def walk_overshoot_system_wide(wanted: int, got: int) -> Decision:
    """The walk's overshoot when another process holds the wanted ID (before 3.10)."""
    return Decision(
        0,
        "walk-overshoot",
        f"{CRIU_NOT_CONSECUTIVE} (wanted ID {wanted} is held by another process: before 3.10 "
        f"timer IDs are system-wide; the kernel gave {got})",
        "fatal",
        wanted,
    )


def wrap_needed(wanted: int, got: int, cost: int, allowed: bool, rate: float | None) -> Decision:
    """The target's counter is past the wanted ID: only a wrap past INT_MAX reaches it, `cost`
    creates (at `rate` creates/s when known)."""
    eta = f", about {cost / rate:.0f} s at {rate / 1e6:.2f} M creates/s" if rate else ""
    text = (
        f"wanted ID {wanted} is below the target's ID counter (the kernel gave {got}): the walk "
        f"must wrap past INT_MAX, {cost} creates{eta}"
    )
    if allowed:
        return Decision(0, "wrap-needed", f"{text}; wrapping as allowed", "warning", wanted)
    return Decision(
        0,
        "wrap-needed",
        f"{CRIU_NOT_CONSECUTIVE} ({text}; refused, allow it with --allow-wrap)",
        "fatal",
        wanted,
    )


def walk_create_failed(index: int, timer_id: int, err: int) -> Decision:
    hint = " (EAGAIN: RLIMIT_SIGPENDING reached)" if err == errno.EAGAIN else ""
    return Decision(
        0,
        "create-failed",
        f"{CRIU_CREATE_WALK.format(index=index)} ({errno_text(err)}){hint}",
        "fatal",
        timer_id,
    )


def delete_failed(temporary_id: int, timer_id: int, err: int) -> Decision:
    return Decision(
        0,
        "delete-failed",
        f"{CRIU_DELETE.format(id=temporary_id)} ({errno_text(err)})",
        "fatal",
        timer_id,
    )


def arm_failed(timer_id: int, err: int) -> Decision:
    return Decision(0, "arm-failed", f"timer_settime: {errno_text(err)}", "error", timer_id)


def rlimit_headroom(limit: int, in_use: int, count: int, taken: int = 0) -> Decision:
    """RLIMIT_SIGPENDING leaves less room than `count` timers (and `taken` IDs held by other
    timers of the target) need at once."""
    held = f" and {taken} taken IDs" if taken else ""
    return Decision(
        0,
        "rlimit-headroom",
        f"RLIMIT_SIGPENDING is {limit} with {in_use} in use by this user: room for "
        f"{max(limit - in_use, 0)} timers, the restore holds {count + taken} ({count} "
        f"timers{held}) at once in either mode (the walk's temporary timer becomes the next "
        "one); timer_create fails with EAGAIN past the limit",
        "error",
    )


def target_prepared(taken_ids: tuple[int, ...], start_counter: int) -> Decision:
    return Decision(
        0,
        "target-prepared",
        f"target prepared: IDs {list(taken_ids)} taken, ID counter at {start_counter}",
        "info",
    )


def target_failed(detail: str) -> Decision:
    return Decision(0, "target-failed", f"preparing the target: {detail}", "fatal")


# -- timerfds and interval timers ---------------------------------------------------------------

# CRIU's messages for interval timers, as criu/cr-restore.c prints them.
CRIU_ITIMER_VALUE = "Invalid timer value"
CRIU_ITIMER_INTERVAL = "Invalid timer interval"


def timerfd_rearmed(fd: int, interval_ns: int, ticks: int) -> Decision:
    """A periodic timerfd that fired and was not read: fdinfo (and CRIU's dump) shows it_value
    0, and the kernel re-arms it only on read() or timerfd_gettime() in the process."""
    return Decision(
        0,
        "timerfd-rearmed",
        f"fd {fd}: a periodic timerfd (every {interval_ns} ns) dumped with {ticks} pending "
        "tick(s) and it_value 0: the kernel re-arms it only when the process reads it, and CRIU "
        "restores it disarmed, so the periodic timer stops (criu #3162); re-armed at its period",
        "warning",
        fd,
        "timerfd",
    )


def timerfd_failed(fd: int, stage: str, err: int) -> Decision:
    if stage == "busy":
        return Decision(
            0,
            "timerfd-fd-busy",
            f"fd {fd}: already open in the target: the timerfd cannot be put at its number",
            "error",
            fd,
            "timerfd",
        )
    return Decision(
        0, "timerfd-failed", f"fd {fd}: {stage}: {errno_text(err)}", "error", fd, "timerfd"
    )


def ticks_not_restored(fd: int, ticks: int, err: int) -> Decision:
    """TFD_IOC_SET_TICKS failed: ENOTTY on a kernel built without CONFIG_CHECKPOINT_RESTORE."""
    why = (
        "this kernel has no TFD_IOC_SET_TICKS (it needs CONFIG_CHECKPOINT_RESTORE)"
        if err == errno.ENOTTY
        else f"TFD_IOC_SET_TICKS: {errno_text(err)}"
    )
    return Decision(
        0,
        "ticks-not-restored",
        f"fd {fd}: {ticks} pending tick(s) not put back: {why}; the timerfd is armed without them",
        "warning",
        fd,
        "timerfd",
    )


def itimer_invalid(which: int, name: str, field: str, seconds: int, micros: int) -> Decision:
    """A timeval CRIU's restorer refuses (criu/cr-restore.c decode_itimer; criu #3001)."""
    criu = CRIU_ITIMER_VALUE if field == "value" else CRIU_ITIMER_INTERVAL
    return Decision(
        0,
        "itimer-invalid",
        f"{criu} ({name} {field} {seconds} s {micros} us: microseconds must be 0..999999 and "
        "seconds not negative; criu #3001): not restored",
        "error",
        which,
        "itimer",
    )


def itimer_one_shot(which: int, name: str, value_us: int) -> Decision:
    return Decision(
        0,
        "itimer-one-shot",
        f"{name}: a one-shot interval timer ({value_us} us left, no interval): restored; CRIU "
        "skips an interval timer without an interval, so it never fires there (criu #2559)",
        "info",
        which,
        "itimer",
    )


def itimer_value_from_interval(which: int, name: str, interval_us: int) -> Decision:
    return Decision(
        0,
        "value-from-interval",
        f"{name}: remaining time was 0 at capture: armed with its interval ({interval_us} us) "
        "so it keeps running, as CRIU does",
        "info",
        which,
        "itimer",
    )


def itimer_failed(which: int, name: str, err: int) -> Decision:
    return Decision(
        0, "itimer-failed", f"{name}: setitimer: {errno_text(err)}", "error", which, "itimer"
    )
