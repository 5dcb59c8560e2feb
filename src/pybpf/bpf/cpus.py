"""CPU sets from sysfs: per-CPU map values are sized by *possible* CPUs, perf events by *online*."""

from __future__ import annotations

import functools


def parse_cpu_list(text: str) -> list[int]:
    """Parse a kernel CPU list such as ``0-3,5,7-8`` into sorted CPU numbers."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            cpus.update(range(int(lo), int(hi) + 1))
        else:
            cpus.add(int(part))
    return sorted(cpus)


def _read(name: str) -> list[int]:
    with open(f"/sys/devices/system/cpu/{name}") as f:
        return parse_cpu_list(f.read())


@functools.cache
def possible_cpus() -> list[int]:
    """CPUs the kernel may ever bring up (per-CPU map values have one slot for each)."""
    return _read("possible")


def online_cpus() -> list[int]:
    """CPUs online right now (one perf event per online CPU); not cached, CPUs come and go."""
    return _read("online")


def num_possible_cpus() -> int:
    """Number of slots in a per-CPU map value: highest possible CPU + 1."""
    return max(possible_cpus()) + 1


__all__ = ["num_possible_cpus", "online_cpus", "parse_cpu_list", "possible_cpus"]
