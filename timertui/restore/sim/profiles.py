"""Kernel profiles for the simulator: which kernel, with which parameters, as `--kernel NAME:
key=value,...` names it (timertui.restore.sim.allocator models how each hands out IDs).

- `6.15+`: a per-process counter. timer_create takes `counter & INT_MAX`, skips IDs in use and
  leaves the counter after the ID it gave. PR_TIMER_CREATE_RESTORE_IDS (prctl 77) creates at a
  wanted ID instead (taken: EBUSY, negative: EINVAL) and sets the counter to wanted + 1.
- `3.10-6.14`: the same counter; the prctl gives EINVAL, so a restore walks.
- `pre-3.10`: one system-wide allocator handing out the lowest free ID; other processes' timers
  hold IDs too.
- `lowest-free`: the 2023 proposal, the lowest free ID per process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal, cast

from timertui.errors import InputError
from timertui.model import (
    INT_MAX,
)

ProfileName = Literal["6.15+", "3.10-6.14", "pre-3.10", "lowest-free"]

PROFILES: dict[str, str] = {
    "6.15+": "per-process ID counter; exact IDs with PR_TIMER_CREATE_RESTORE_IDS",
    "3.10-6.14": "per-process ID counter; the prctl gives EINVAL, so a restore walks",
    "pre-3.10": "one system-wide lowest-free ID allocator shared with other processes",
    "lowest-free": "the 2023 proposal: lowest free ID per process; the walk never advances",
}
_LOWEST_FREE = frozenset({"pre-3.10", "lowest-free"})

# IDs a profile may list (taken=, others=): the model holds them in memory.
MAX_LISTED_IDS = 1_000_000


class KernelError(InputError):
    """A kernel profile the simulator does not know, or a bad parameter of one."""


@dataclass(frozen=True)
class KernelParams:
    """The modelled target and host. None: as on this host when the run starts."""

    counter: int = 0  # the target's ID counter (counter kernels)
    taken: tuple[int, ...] = ()  # IDs the target's other timers hold
    sigpending: int | None = None  # RLIMIT_SIGPENDING soft limit; negative: unlimited
    in_use: int | None = None  # slots of it the user holds outside the target
    alarm: bool | None = None  # alarm clocks work (an RTC and CAP_WAKE_ALARM)
    others: tuple[int, ...] = ()  # pre-3.10: IDs other processes' timers hold
    fillers: bool = False  # lowest-free kernels: restore with filler timers kept alive


@dataclass(frozen=True)
class Kernel:
    name: ProfileName
    params: KernelParams = field(default_factory=KernelParams)

    @property
    def exact_ids(self) -> bool:
        return self.name == "6.15+"

    @property
    def lowest_free(self) -> bool:
        return self.name in _LOWEST_FREE

    @property
    def label(self) -> str:
        """The profile as `parse_kernel` reads it back."""
        p, default = self.params, KernelParams()
        parts = []
        if p.counter != default.counter:
            parts.append(f"counter={p.counter}")
        if p.taken:
            parts.append(f"taken={format_ids(p.taken)}")
        if p.sigpending is not None:
            parts.append(f"sigpending={'unlimited' if p.sigpending < 0 else p.sigpending}")
        if p.in_use is not None:
            parts.append(f"in-use={p.in_use}")
        if p.alarm is not None:
            parts.append(f"alarm={'yes' if p.alarm else 'no'}")
        if p.others:
            parts.append(f"others={format_ids(p.others)}")
        if p.fillers:
            parts.append("fillers=yes")
        return self.name + (":" + ",".join(parts) if parts else "")


def host_profile(release: str | None = None) -> ProfileName:
    """The profile of a kernel release (this host's by default)."""
    text = release if release is not None else os.uname().release
    try:
        major, minor = (int(x) for x in text.split("-")[0].split(".")[:2])
    except ValueError:
        return "6.15+"
    if (major, minor) >= (6, 15):
        return "6.15+"
    return "3.10-6.14" if (major, minor) >= (3, 10) else "pre-3.10"


def parse_kernel(text: str) -> Kernel:
    """`NAME[:KEY=VALUE,...]`, e.g. `3.10-6.14:counter=5000000,taken=7+10-12`; "" is this
    host's profile. Keys: counter, taken, sigpending (N or unlimited), in-use, alarm (yes/no),
    others (pre-3.10), fillers (yes/no; lowest-free kernels). ID lists join IDs and inclusive
    ranges A-B with "+"."""
    name, _, rest = text.strip().partition(":")
    name = name or host_profile()
    if name not in PROFILES:
        raise KernelError(f"unknown kernel profile {name!r} (have: {', '.join(PROFILES)})")
    params = KernelParams()
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise KernelError(f"kernel parameter {item!r}: expected KEY=VALUE")
        params = _with_param(params, key.strip(), value.strip())
    kernel = Kernel(cast(ProfileName, name), params)
    _check_params(kernel)
    return kernel


def _with_param(params: KernelParams, key: str, value: str) -> KernelParams:
    if key == "counter":
        return replace(params, counter=_id(value, key))
    if key == "taken":
        return replace(params, taken=parse_id_ranges(value, key))
    if key == "others":
        return replace(params, others=parse_id_ranges(value, key))
    if key == "sigpending":
        return replace(params, sigpending=-1 if value == "unlimited" else _count(value, key))
    if key == "in-use":
        return replace(params, in_use=_count(value, key))
    if key == "alarm":
        return replace(params, alarm=_yes(value, key))
    if key == "fillers":
        return replace(params, fillers=_yes(value, key))
    raise KernelError(
        f"unknown kernel parameter {key!r} "
        "(have: counter, taken, sigpending, in-use, alarm, others, fillers)"
    )


def _check_params(kernel: Kernel) -> None:
    p = kernel.params
    if p.others and kernel.name != "pre-3.10":
        raise KernelError("kernel parameter others: only pre-3.10 shares IDs between processes")
    if p.fillers and not kernel.lowest_free:
        raise KernelError(f"kernel parameter fillers: {kernel.name} walks, it needs no fillers")
    if p.counter and kernel.lowest_free:
        raise KernelError(f"kernel parameter counter: {kernel.name} has no ID counter")
    clash = set(p.taken) & set(p.others)
    if clash:
        raise KernelError(f"IDs {format_ids(sorted(clash))} are both taken and others'")
    if len(set(p.taken)) != len(p.taken):
        raise KernelError("kernel parameter taken: an ID is listed twice")


def _yes(value: str, key: str) -> bool:
    if value not in ("yes", "no"):
        raise KernelError(f"kernel parameter {key}: expected yes or no, got {value!r}")
    return value == "yes"


def _count(value: str, key: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise KernelError(f"kernel parameter {key}: {value!r} is not a number") from None
    if n < 0:
        raise KernelError(f"kernel parameter {key}: {n} is negative")
    return n


def _id(value: str, key: str) -> int:
    n = _count(value, key)
    if n > INT_MAX:
        raise KernelError(f"kernel parameter {key}: {n} is outside 0..{INT_MAX}")
    return n


def parse_id_ranges(text: str, key: str = "IDs") -> tuple[int, ...]:
    """`3+7+10-20`: IDs and inclusive ranges, at most MAX_LISTED_IDS of them."""
    ids: list[int] = []
    for part in filter(None, text.split("+")):
        low, dash, high = part.partition("-")
        first = _id(low, key)
        last = _id(high, key) if dash else first
        if last < first:
            raise KernelError(f"kernel parameter {key}: range {part} runs backwards")
        if len(ids) + last - first + 1 > MAX_LISTED_IDS:
            raise KernelError(f"kernel parameter {key}: more than {MAX_LISTED_IDS:,} IDs")
        ids.extend(range(first, last + 1))
    return tuple(ids)


def format_ids(ids: Iterable[int]) -> str:
    """The `parse_id_ranges` form, runs of consecutive IDs as ranges."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return "+".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
