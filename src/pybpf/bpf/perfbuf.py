"""Reading a ``BPF_MAP_TYPE_PERF_EVENT_ARRAY`` through per-CPU perf rings.

One ``PERF_COUNT_SW_BPF_OUTPUT`` event per online CPU, its fd stored in the map at the
CPU's index, each with an mmapped ring: a metadata page (``data_head`` at 1024,
``data_tail`` at 1032) followed by ``2**n`` data pages. ``bpf_perf_event_output`` appends
``PERF_RECORD_SAMPLE`` records carrying raw data; an overflowing ring produces
``PERF_RECORD_LOST`` with the number of records dropped.
"""

from __future__ import annotations

import mmap
import select
import struct
from collections.abc import Callable
from contextlib import suppress
from types import TracebackType

from pybpf.bpf.cpus import online_cpus
from pybpf.bpf.fd import Fd
from pybpf.bpf.maps import Map
from pybpf.bpf.perf import PerfAttr, enable, open_perf_event
from pybpf.bpf.syscall import MapType, PerfFlag, PerfRecord, PerfSample, PerfSw, PerfType
from pybpf.errors import PybpfError, UsageError
from pybpf.records import dataclass

_PAGE = mmap.PAGESIZE
_HEAD, _TAIL = 1024, 1032
_POS = struct.Struct("@Q")
"""``data_head`` is read with a native format: one 8-byte load (the standard "<Q" reads byte
by byte). ``data_tail`` is written through a memoryview cast: struct.pack_into zeroes its
destination before writing, and the kernel would see a tail of 0 (see bpf.ringbuf)."""


@dataclass(frozen=True)
class PerfEvent:
    """One record from a perf ring: a sample's raw bytes, or a count of lost samples.

    ``data`` includes the kernel's padding to 8 bytes (minus the 4-byte size field).
    """

    cpu: int
    data: bytes = b""
    lost: int = 0


class _Ring:
    def __init__(self, cpu: int, fd: Fd, pages: int) -> None:
        self.cpu = cpu
        self.fd = fd
        self.size = pages * _PAGE
        self.mm = mmap.mmap(fd.fd, (pages + 1) * _PAGE, mmap.MAP_SHARED,
                            mmap.PROT_READ | mmap.PROT_WRITE)  # fmt: skip
        self._tail = memoryview(self.mm)[_TAIL : _TAIL + 8].cast("Q")

    def _copy(self, pos: int, n: int) -> bytes:
        start = _PAGE + pos % self.size
        end = start + n
        limit = _PAGE + self.size
        if end <= limit:
            return self.mm[start:end]
        return self.mm[start:limit] + self.mm[_PAGE : _PAGE + end - limit]

    def drain(self, out: Callable[[PerfEvent], object]) -> int:
        head = _POS.unpack_from(self.mm, _HEAD)[0]
        tail = _POS.unpack_from(self.mm, _TAIL)[0]
        n = 0
        try:
            while tail < head:
                rtype, _misc, size = struct.unpack("<IHH", self._copy(tail, 8))
                body = self._copy(tail + 8, size - 8)
                tail += size  # consumed even if the callback raises
                if rtype == PerfRecord.SAMPLE:
                    (raw_size,) = struct.unpack_from("<I", body, 0)
                    n += 1
                    out(PerfEvent(self.cpu, body[4 : 4 + raw_size]))
                elif rtype == PerfRecord.LOST:
                    _id, lost = struct.unpack_from("<QQ", body, 0)
                    n += 1
                    out(PerfEvent(self.cpu, lost=lost))
        finally:
            self._tail[0] = tail
        return n

    def close(self) -> None:
        self._tail.release()
        self.mm.close()
        self.fd.close()


class PerfBuffer:
    """Consumer of a perf event array map: one ring per online CPU.

    ``pages`` per CPU must be a power of two. ``wakeup_events`` wakes the reader every N
    samples; ``watermark`` (bytes) instead wakes it when that much data is waiting.
    """

    def __init__(self, m: Map, pages: int = 8, wakeup_events: int = 1, watermark: int = 0) -> None:
        if m.spec.type != MapType.PERF_EVENT_ARRAY:
            raise UsageError(f"map {m.spec.label} is not a perf event array")
        if pages <= 0 or pages & (pages - 1):
            raise UsageError(f"perf buffer pages must be a power of two, not {pages}")
        self.map = m
        self.lost = 0
        """Total samples the kernel reported lost."""
        self._rings: dict[int, _Ring] = {}
        self._epoll = select.epoll()
        flags = PerfFlag.WATERMARK if watermark else PerfFlag.NONE
        attr = PerfAttr(PerfType.SOFTWARE, PerfSw.BPF_OUTPUT, sample_period=1,
                        sample_type=PerfSample.RAW, flags=flags,
                        wakeup=watermark or wakeup_events)  # fmt: skip
        try:
            for cpu in online_cpus():
                if cpu >= m.spec.max_entries:
                    break
                fd = open_perf_event(attr, -1, cpu, context=f"open perf buffer on CPU {cpu}")
                try:
                    ring = _Ring(cpu, fd, pages)
                except BaseException:
                    fd.close()
                    raise
                self._rings[cpu] = ring
                m.update(struct.pack("<I", cpu), struct.pack("<I", fd.fd))
                enable(fd)
                self._epoll.register(fd.fd, select.EPOLLIN)
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        """An fd that becomes readable when any CPU's ring has data."""
        return self._epoll.fileno()

    def consume(self, callback: Callable[[PerfEvent], object]) -> int:
        """Hand every waiting record to ``callback``; returns how many."""

        def counting(ev: PerfEvent) -> None:
            self.lost += ev.lost
            callback(ev)

        return sum(r.drain(counting) for r in self._rings.values())

    def poll(self, callback: Callable[[PerfEvent], object], timeout: float | None = None) -> int:
        """Consume; if nothing was waiting, wait up to ``timeout`` seconds and consume again."""
        n = self.consume(callback)
        if n:
            return n
        self._epoll.poll(-1 if timeout is None else timeout)
        return self.consume(callback)

    def read(self, timeout: float | None = 0) -> list[PerfEvent]:
        """Records waiting now (or after up to ``timeout`` seconds if none are)."""
        out: list[PerfEvent] = []
        self.poll(out.append, timeout)
        return out

    def close(self) -> None:
        """Remove the events from the map, unmap the rings and close the perf fds."""
        for cpu, ring in self._rings.items():
            if not self.map.closed:
                with suppress(PybpfError):  # the rings must be released regardless
                    self.map.delete(struct.pack("<I", cpu))
            ring.close()
        self._rings.clear()
        self._epoll.close()

    def __enter__(self) -> PerfBuffer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["PerfBuffer", "PerfEvent"]
