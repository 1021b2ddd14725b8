"""Known CRIU errors in plain words, each true to the CRIU 4.2 source that prints it (file and line
given; tests/unit/test_criulog_source.py checks every one against the source tarball). A message
matched by nothing here is shown as it is: never guessed at.

The message is matched as CRIU formats it: `pr_err("Can't create posix timer - %d: %d\\n", i,
ret)` prints the restorer's raw syscall return, a negative errno."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable

from timertui.criulog.report import Explanation

# Roles: what the line means for the run.
CAUSE = "cause"
HARMLESS = "harmless"
FOLLOW_ON = "follow-on"  # says that an earlier error failed the step; the cause is above it

_RESTORER = "criu/pie/restorer.c"


def errno_name(value: int) -> str:
    """-22 -> EINVAL (the restorer logs -errno)."""
    return errno.errorcode.get(abs(value), str(value))


def _timer_errno(ret: int, index: int) -> tuple[str, str]:
    """(title, check) for timer_create's errno in exact-ID mode."""
    name = errno_name(ret)
    which = f"timer #{index} of the process (counted in ID order)"
    if ret == -errno.EINVAL:
        return (
            f"the kernel refused {which}: EINVAL, its sigevent or clock is not valid here",
            "the image's notify for that timer: a SIGEV_THREAD_ID whose notify_thread_id is not "
            "a thread of this process (the threads are restored before the timers, so a tid "
            "the image does not hold), a signal number out of range, a clock timers may not "
            "use (MONOTONIC_RAW, the coarse clocks) or a CPU clock of a pid that does not "
            "exist; `timertui inspect IMAGE_DIR` lists each timer's notify, signal and clock",
        )
    if ret == -errno.EAGAIN:
        return (
            f"the kernel refused {which}: EAGAIN, RLIMIT_SIGPENDING is used up",
            "each POSIX timer holds one slot of the user's RLIMIT_SIGPENDING (ulimit -i). The "
            "restorer sets the task's rlimits from the image just before it creates the timers "
            f"({_RESTORER}:2197) and restores the task's credentials only after them "
            f"({_RESTORER}:2274): compare the image's RLIMIT_SIGPENDING with the number of "
            "timers (`timertui inspect`), and look at the pending signals and timers the "
            "restoring user already holds (`timertui check`)",
        )
    if ret == -errno.EBUSY:
        return (
            f"the kernel refused {which}: EBUSY, that timer ID is already taken in the process",
            "the image holds the same timer ID twice for one process (`timertui inspect` "
            "reports duplicate IDs)",
        )
    if ret in (-errno.EOPNOTSUPP, -errno.EPERM):
        return (
            f"the kernel refused {which}: {name}",
            "an alarm clock (REALTIME_ALARM, BOOTTIME_ALARM): it needs an RTC that can wake "
            "the host (EOPNOTSUPP without one) and CAP_WAKE_ALARM (EPERM without it)",
        )
    return (f"the kernel refused {which}: {name}", "the timer's fields in the image")


def _create_exact(m: re.Match[str]) -> Explanation:
    index, ret = int(m[1]), int(m[2])
    title, check = _timer_errno(ret, index)
    return Explanation(
        "posix-timer-create",
        title,
        "With PR_TIMER_CREATE_RESTORE_IDS on, the restorer asks timer_create for each timer's "
        "own ID; this call returned an error, so no timer of this process was restored.",
        check,
        f"{_RESTORER}:1293",
    )


def _create_walk(m: re.Match[str]) -> Explanation:
    return Explanation(
        "posix-timer-create-walk",
        f"timer_create failed for timer #{m[1]} during the create/delete walk",
        "Without PR_TIMER_CREATE_RESTORE_IDS (the prctl gave EINVAL: a kernel before 6.15) the "
        "restorer creates and deletes timers until the kernel hands out the wanted ID; this "
        "log line does not carry the errno.",
        "the same causes as in exact mode: EAGAIN when RLIMIT_SIGPENDING is used up, EINVAL "
        "for a notify thread or clock the process does not have (`timertui restore IMAGE_DIR "
        "--backend sim --kernel 3.10-6.14` replays the walk)",
        f"{_RESTORER}:1307",
    )


def _unexpected_id(m: re.Match[str]) -> Explanation:
    return Explanation(
        "posix-timer-unexpected-id",
        f"the kernel created timer {m[1]} where {m[2]} was asked for",
        "prctl(PR_TIMER_CREATE_RESTORE_IDS) was accepted, so the restorer passed the wanted ID "
        "to timer_create, yet the kernel picked another: its exact-ID mode does not behave as "
        "Linux 6.15's does.",
        "the kernel (a backport of the prctl, or a sandbox that emulates it): `timertui check` "
        "probes exact-ID creation in a child process",
        f"{_RESTORER}:1297",
    )


def _not_consecutive(_m: re.Match[str]) -> Explanation:
    return Explanation(
        "posix-timer-walk-order",
        "the kernel did not hand out timer IDs 0, 1, 2, ... in order during the walk",
        "The restorer counts the IDs it expects from 0 and compares each new timer's ID with "
        "that count; any other ID ends the restore. Linux 3.10 to 6.14 give each process a "
        "counter that only goes up, which the walk relies on; before 3.10 IDs came from one "
        "system-wide allocator (criu #98), and an allocator that reuses the lowest free ID "
        "gives the deleted ID back.",
        "the kernel version and its timer ID allocator (`timertui check`); `timertui restore "
        "IMAGE_DIR --backend sim --kernel pre-3.10` (or lowest-free) replays this failure",
        f"{_RESTORER}:1312",
    )


def _prctl_on(m: re.Match[str]) -> Explanation:
    name = errno_name(int(m[1]))
    return Explanation(
        "prctl-restore-ids",
        f"prctl(PR_TIMER_CREATE_RESTORE_IDS, ON) failed with {name}",
        "Only EINVAL (a kernel before 6.15) makes the restorer fall back to the create/delete "
        "walk; any other error ends the timer step. The kernel itself answers this prctl with "
        "0 or EINVAL only, so another errno comes from a seccomp filter or security module on "
        "the restoring process.",
        "seccomp profiles and LSM policies around CRIU (the container runtime's, a sandbox's): "
        "prctl option 77 must be allowed, or fail with EINVAL",
        f"{_RESTORER}:1270",
    )


def _prctl_off(m: re.Match[str]) -> Explanation:
    return Explanation(
        "prctl-restore-ids-off",
        f"prctl(PR_TIMER_CREATE_RESTORE_IDS, OFF) failed with {errno_name(int(m[1]))}",
        "After creating the timers the restorer turns exact-ID mode off again; that failed, "
        "and the restore fails with it.",
        "seccomp profiles and LSM policies around CRIU",
        f"{_RESTORER}:1334",
    )


def _temp_delete(m: re.Match[str]) -> Explanation:
    return Explanation(
        "posix-timer-walk-delete",
        f"timer_delete of the walk's temporary timer {m[1]} failed",
        "The walk deletes each timer whose ID is not a wanted one; the kernel refused.",
        "seccomp profiles around CRIU (timer_delete must be allowed)",
        f"{_RESTORER}:1322",
    )


def _timers_follow_on(_m: re.Match[str]) -> Explanation:
    return Explanation(
        "posix-timers-failed",
        "the timer step of the restorer failed",
        "Printed after any failure in create_posix_timers; the line before it names the cause.",
        "the error just above this one",
        f"{_RESTORER}:2201",
        role=FOLLOW_ON,
    )


def _itimer(m: re.Match[str]) -> Explanation:
    field, posix = m[1], bool(m[2])
    where = "criu/timer.c:144" if posix else "criu/timer.c:45"
    if field == "interval":
        where = "criu/timer.c:127" if posix else "criu/timer.c:28"
    part = "it_interval" if field == "interval" else "it_value"
    kind = (
        "a POSIX timer (tc.timers.posix)"
        if posix
        else "an interval timer (tc.timers.real / virt / prof)"
    )
    return Explanation(
        "timer-value",
        f"the image holds an impossible {part} for {kind}",
        "CRIU checks each timer's time from core-PID.img before restoring: seconds must not be "
        "negative and the fraction must be under one second (microseconds for interval timers, "
        "nanoseconds for POSIX timers). A zero value is replaced by the interval first. criu "
        "#3001 shows garbage itimer values written by a dump on 32-bit ARM.",
        "the process's timers in the image: `timertui inspect IMAGE_DIR` (or `crit decode -i "
        "core-PID.img`); if they are garbage, the dump that wrote them is at fault",
        where,
    )


def _fork(m: re.Match[str]) -> Explanation:
    pid, reason = m[1], m[2]
    source = "criu/cr-restore.c:1230"
    if reason == os.strerror(errno.EEXIST):
        return Explanation(
            "fork-pid-taken",
            f"pid {pid} is taken: a process with that pid already exists where CRIU restores",
            "CRIU recreates each task with its own pid (clone3 with set_tid, or ns_last_pid on "
            "old kernels); the kernel answers EEXIST when that pid is in use in the target pid "
            "namespace.",
            f"`ps -p {pid}`: the dumped process itself (still running after --leave-running, "
            "or a zombie for a moment after the dump) or any other process holding the pid. "
            "Restore into a new pid namespace (as container engines do), or wait until the pid "
            "is free",
            source,
        )
    if reason == os.strerror(errno.EPERM):
        return Explanation(
            "fork-pid-permission",
            f"not allowed to create a task with pid {pid}",
            "Choosing a pid (clone3 set_tid) needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in "
            "the user namespace that owns the target pid namespace; the kernel said EPERM.",
            "CRIU's capabilities (run as root, or give it CAP_CHECKPOINT_RESTORE)",
            source,
        )
    if reason == os.strerror(errno.EINVAL):
        return Explanation(
            "fork-pid-invalid",
            f"pid {pid} cannot exist here",
            "clone3 with set_tid gives EINVAL for a pid outside 1..pid_max-1 of the target "
            "pid namespace.",
            f"/proc/sys/kernel/pid_max on this host against pid {pid} (CRIU logs it at the "
            "start: 'kernel pid_max=')",
            source,
        )
    return Explanation(
        "fork",
        f"fork of pid {pid} failed: {reason}",
        "CRIU could not create the task with its own pid.",
        "the error above, and the host's limits on processes (ulimit -u, pids cgroup)",
        source,
    )


def _rlimit_nofile(_m: re.Match[str]) -> Explanation:
    return Explanation(
        "rlimit-nofile",
        "CRIU could not raise its own open-file limit",
        "At start CRIU tries to raise its RLIMIT_NOFILE to fs/nr_open to have room for its "
        "service descriptors; without CAP_SYS_RESOURCE the kernel says EPERM, and CRIU keeps "
        "the limit it has and carries on.",
        "nothing, unless a later error is about file descriptors: then raise the hard "
        "`ulimit -n` CRIU starts with",
        "criu/util.c:1534",
        role=HARMLESS,
    )


def _failed(m: re.Match[str]) -> Explanation:
    what = m[1]
    source = {
        "Restoring": "criu/cr-restore.c:2324",
        "Dumping": "criu/cr-dump.c:2128",
        "Pre-dumping": "criu/cr-dump.c:1922",
    }[what]
    return Explanation(
        "failed",
        f"{what.lower()} failed",
        "CRIU's last word on a failed run; the first error above it is the cause.",
        "the first error above this line",
        source,
        role=FOLLOW_ON,
    )


def _timerfd(m: re.Match[str]) -> Explanation:
    return Explanation(
        "timerfd-arm",
        f"the restorer could not re-arm timerfd #{m[1]}",
        "timerfd_settime, or the TFD_IOC_SET_TICKS ioctl that puts back expirations not yet "
        "read (only when ticks > 0), failed.",
        "the timerfd's entry in files.img (clockid, settime flags, it_value); "
        "TFD_IOC_SET_TICKS needs CONFIG_CHECKPOINT_RESTORE",
        f"{_RESTORER}:1247",
    )


# (pattern over the message, its explanation). First match wins.
_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Explanation]], ...] = (
    (re.compile(r"Can't create posix timer - (\d+): (-?\d+)$"), _create_exact),
    (re.compile(r"Can't create posix timer - (\d+)$"), _create_walk),
    (re.compile(r"Unexpected timer id (\d+) \(expected (\d+)\)"), _unexpected_id),
    (re.compile(r"Can't create timers, kernel don't give them consequently"), _not_consecutive),
    (re.compile(r"Can't enabled PR_TIMER_CREATE_RESTORE_IDS: (-?\d+)"), _prctl_on),
    (re.compile(r"Can't disable PR_TIMER_CREATE_RESTORE_IDS: (-?\d+)"), _prctl_off),
    (re.compile(r"Can't remove temporaty posix timer (0x[0-9a-f]+)"), _temp_delete),
    (re.compile(r"Can't restore posix timers -?\d+$"), _timers_follow_on),
    (re.compile(r"Invalid timer (value|interval)(\(posix\))?$"), _itimer),
    (re.compile(r"Can't fork for (\d+): (.*)$"), _fork),
    (re.compile(r"rlimit: Can't setup RLIMIT_NOFILE for self: "), _rlimit_nofile),
    (re.compile(r"(Restoring|Dumping|Pre-dumping) FAILED\.$"), _failed),
    (re.compile(r"Can't restore ticks/time for timerfd - (\d+)$"), _timerfd),
)


def explain(message: str) -> Explanation | None:
    """The explanation of an error or warning message (without CRIU's prefixes), or None."""
    for pattern, build in _RULES:
        m = pattern.search(message)
        if m:
            return build(m)
    return None
