"""Reading a ``BPF_MAP_TYPE_RINGBUF`` map from user space.

Layout (kernel/bpf/ringbuf.c): page 0 holds the consumer position (we write it), page 1 the
producer position (read-only), then the data area mapped twice in a row so that a record
that wraps is still contiguous. Each record has an 8-byte header: ``u32 len`` whose top two
bits are BUSY (still being written) and DISCARD (dropped by the program), then ``u32 pg_off``.
Records are 8-byte aligned. x86 is TSO, so plain loads of the positions are ordered enough.
"""

from __future__ import annotations

import mmap
import select
import struct
from collections.abc import Callable
from types import TracebackType

from pybpf.bpf.maps import Map
from pybpf.bpf.syscall import MapType
from pybpf.errors import UsageError

BUSY_BIT = 1 << 31
DISCARD_BIT = 1 << 30
HEADER_SIZE = 8
_PAGE = mmap.PAGESIZE
# Positions are read with native ("@") formats, one aligned 8-byte load each (the standard
# "<" formats read byte by byte and can see a half-updated value). The consumer position is
# written through a memoryview cast to "Q", a single store: struct.pack_into first zeroes
# its destination, and the kernel saw that zero as "nothing consumed", so a reservation
# now and then found the ring full and an event was lost even at 100k events/s.
_U32 = struct.Struct("@I")
_U64 = struct.Struct("@Q")
_PUBLISH_EVERY = 4096
"""Bytes consumed between two updates of the consumer position: small against any ring
(pybpftrace's is 2 MiB), so the producer never sees much less free space than there is."""


class RingBuffer:
    """Consumer side of one ring buffer map. Does not own the map; owns its mappings."""

    def __init__(self, m: Map) -> None:
        if m.spec.type != MapType.RINGBUF:
            raise UsageError(f"map {m.spec.label} is not a ring buffer")
        self.map = m
        self._size = m.spec.max_entries
        self._mask = self._size - 1
        self._cons = mmap.mmap(m.fd, _PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._cons_pos = memoryview(self._cons).cast("Q")
        self._data = mmap.mmap(
            m.fd, _PAGE + 2 * self._size, mmap.MAP_SHARED, mmap.PROT_READ, offset=_PAGE
        )
        self._epoll = select.epoll()
        self._epoll.register(m.fd, select.EPOLLIN)
        self.discarded = 0
        """Records the BPF program discarded (seen and skipped)."""

    def fileno(self) -> int:
        """An fd that becomes readable when records arrive (the epoll set over the map)."""
        return self._epoll.fileno()

    @property
    def consumer_pos(self) -> int:
        """How far user space has consumed."""
        pos: int = self._cons_pos[0]
        return pos

    @property
    def producer_pos(self) -> int:
        """How far the BPF side has reserved."""
        pos: int = _U64.unpack_from(self._data, 0)[0]
        return pos

    def available(self) -> int:
        """Bytes reserved by producers and not yet consumed (headers included)."""
        return self.producer_pos - self.consumer_pos

    def consume(self, callback: Callable[[memoryview], object]) -> int:
        """Hand every ready record to ``callback`` (the view is valid only during the call).

        Returns the number of records handed over. Stops at a record still being written.
        The consumer position is published every few records rather than after each one
        (a store the producer reads): the reader's per-record cost bounds how fast a
        printf-heavy script can run without losing events.
        """
        n = 0
        cons = self.consumer_pos
        prod = self.producer_pos
        data, mask, header = self._data, self._mask, _U32.unpack_from
        published = cons
        try:
            with memoryview(data) as view:
                while cons < prod:
                    at = _PAGE + (cons & mask)
                    hdr = header(data, at)[0]
                    if hdr & BUSY_BIT:
                        break
                    length = hdr & ~(BUSY_BIT | DISCARD_BIT)
                    # Counted as consumed before the callback runs: if it raises, handing
                    # the same record over again would raise again, forever.
                    nxt = cons + ((length + HEADER_SIZE + 7) & ~7)
                    cons = nxt
                    if hdr & DISCARD_BIT:
                        self.discarded += 1
                    else:
                        n += 1
                        rec = view[at + HEADER_SIZE : at + HEADER_SIZE + length]
                        try:
                            callback(rec)
                        finally:
                            rec.release()
                    if cons - published >= _PUBLISH_EVERY:
                        self._cons_pos[0] = cons
                        published = cons
                    if cons >= prod:
                        prod = self.producer_pos
        finally:
            if cons != published:
                self._cons_pos[0] = cons
        return n

    def poll(self, callback: Callable[[memoryview], object], timeout: float | None = None) -> int:
        """Consume ready records; if there are none, wait up to ``timeout`` seconds
        (``None``: forever) for a wakeup and consume again. Returns the record count."""
        n = self.consume(callback)
        if n:
            return n
        self._epoll.poll(-1 if timeout is None else timeout)
        return self.consume(callback)

    def read(self, timeout: float | None = 0) -> list[bytes]:
        """Records ready now (or after waiting up to ``timeout`` seconds if none are)."""
        out: list[bytes] = []
        self.poll(lambda r: out.append(bytes(r)), timeout)
        return out

    def close(self) -> None:
        """Unmap and stop polling (the map itself stays open)."""
        self._epoll.close()
        self._data.close()
        self._cons_pos.release()  # an exported view would keep the mapping from closing
        self._cons.close()

    def __enter__(self) -> RingBuffer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["BUSY_BIT", "DISCARD_BIT", "HEADER_SIZE", "RingBuffer"]
