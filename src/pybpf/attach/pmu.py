"""Dynamic perf PMUs (uprobe, kprobe) as sysfs describes them."""

from __future__ import annotations

import os

PMU_DIR = "/sys/bus/event_source/devices"


def pmu_type(name: str) -> int | None:
    """The perf ``type`` number of PMU ``name``, or ``None`` when the kernel has no such PMU."""
    try:
        with open(os.path.join(PMU_DIR, name, "type")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def format_bit(pmu: str, field: str) -> int | None:
    """The config bit of a one-bit format field (``retprobe`` is ``config:0``), or ``None``."""
    try:
        with open(os.path.join(PMU_DIR, pmu, "format", field)) as f:
            spec = f.read().strip()
    except OSError:
        return None
    if not spec.startswith("config:"):
        return None
    bits = spec.split(":", 1)[1]
    try:
        return int(bits.split("-")[0])
    except ValueError:
        return None


__all__ = ["PMU_DIR", "format_bit", "pmu_type"]
