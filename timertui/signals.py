"""Signal numbers to names (Linux x86_64/aarch64 numbering). Pure, no I/O."""

from __future__ import annotations

_NAMES = (
    "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT "
    "CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS"
).split()

# glibc reserves kernel signals 32 and 33; user-visible SIGRTMIN is 34.
SIGRTMIN = 34
SIGRTMAX = 64
KERNEL_SIGRTMIN = 32


def signal_name(signo: int) -> str:
    if 1 <= signo <= len(_NAMES):
        return f"SIG{_NAMES[signo - 1]}"
    if signo == SIGRTMIN:
        return "SIGRTMIN"
    if signo == SIGRTMAX:
        return "SIGRTMAX"
    if SIGRTMIN < signo < SIGRTMAX:
        return f"SIGRTMIN+{signo - SIGRTMIN}"
    if KERNEL_SIGRTMIN <= signo < SIGRTMIN:
        return f"SIG{signo}"
    return f"invalid signal {signo}"


def valid_timer_signal(signo: int) -> bool:
    """What good_sigevent() accepts for signal-notifying timers."""
    return 1 <= signo <= SIGRTMAX
