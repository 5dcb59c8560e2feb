"""``perf_event_attr`` packing and owned perf event fds."""

from __future__ import annotations

import struct

from pybpf.bpf import syscall as sc
from pybpf.bpf.errs import kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import PerfFlag
from pybpf.records import dataclass


@dataclass(frozen=True)
class PerfAttr:
    """The ``perf_event_attr`` fields pybpf uses, as plain data."""

    type: int
    config: int = 0
    sample_period: int = 0
    """Period, or frequency in Hz when ``flags`` has ``PerfFlag.FREQ``."""
    sample_type: int = 0
    flags: int = PerfFlag.NONE
    wakeup: int = 0
    """``wakeup_events`` (or ``wakeup_watermark`` bytes with ``PerfFlag.WATERMARK``)."""
    bp_type: int = 0
    config1: int = 0
    config2: int = 0

    def pack(self) -> bytearray:
        """The packed attribute (``PERF_ATTR_SIZE_VER8``)."""
        a = bytearray(sc.PERF_ATTR_SIZE)
        struct.pack_into(
            "<IIQQQQQIIQQ", a, 0, self.type, sc.PERF_ATTR_SIZE, self.config, self.sample_period,
            self.sample_type, 0, int(self.flags), self.wakeup, self.bp_type, self.config1,
            self.config2,
        )  # fmt: skip
        return a


def open_perf_event(
    attr: PerfAttr,
    pid: int = -1,
    cpu: int = -1,
    *,
    context: str = "open perf event",
    feature: str | None = None,
    keep: bytearray | None = None,
) -> Fd:
    """``perf_event_open`` returning an owned fd.

    ``keep`` is a buffer that ``attr.config1`` points into (a uprobe path); it is held
    alive across the call.
    """
    packed = attr.pack()
    try:
        fd = sc.perf_event_open(packed, pid, cpu)
    except OSError as e:
        raise kernel_error(context, e, feature) from None
    finally:
        del keep
    return Fd(fd, "perf-event")


def enable(fd: Fd) -> None:
    """``PERF_EVENT_IOC_ENABLE``."""
    sc.perf_ioctl(fd.fd, sc.PERF_EVENT_IOC_ENABLE, 0)


def disable(fd: Fd) -> None:
    """``PERF_EVENT_IOC_DISABLE``."""
    sc.perf_ioctl(fd.fd, sc.PERF_EVENT_IOC_DISABLE, 0)


__all__ = ["PerfAttr", "disable", "enable", "open_perf_event"]
