"""A fake 64-bit address space made of bounds-checked regions.

Region ``k`` occupies addresses ``k << 32`` up to ``(k << 32) + len(buf)``; the high half of
an address names the region, so finding it is one list index, and any address whose low half
falls past the region's end (or below its start, which borrows from the high half) misses
every region. Region 0 is never mapped, so NULL and small integers always fault.
"""

from __future__ import annotations

from pybpf.vm.errors import MemoryFault

_M32 = 0xFFFF_FFFF


class Region:
    """One mapped buffer: ``name`` says what it is in fault messages."""

    __slots__ = ("base", "buf", "name", "writable")

    def __init__(self, base: int, buf: bytearray, name: str, writable: bool) -> None:
        self.base = base
        self.buf = buf
        self.name = name
        self.writable = writable


class Memory:
    """The regions of one VM; loads and stores are little-endian and bounds-checked."""

    def __init__(self) -> None:
        self.regions: list[Region | None] = [None]
        self._free: list[int] = []
        # buffers by region index, for the translator's inline accesses: a missing region
        # is None (TypeError), an out-of-range offset raises IndexError or struct.error
        self.rbufs: list[bytearray | None] = [None]
        self.wbufs: list[bytearray | None] = [None]

    def map(self, buf: bytearray, name: str, writable: bool = True) -> int:
        """Map ``buf`` and return its base address."""
        idx = self._free.pop() if self._free else len(self.regions)
        base = idx << 32
        region = Region(base, buf, name, writable)
        if idx == len(self.regions):
            self.regions.append(region)
            self.rbufs.append(buf)
            self.wbufs.append(buf if writable else None)
        else:
            self.regions[idx] = region
            self.rbufs[idx] = buf
            self.wbufs[idx] = buf if writable else None
        return base

    def unmap(self, base: int) -> None:
        """Forget the region at ``base`` (later accesses fault)."""
        idx = base >> 32
        if 0 < idx < len(self.regions) and self.regions[idx] is not None:
            self.regions[idx] = None
            self.rbufs[idx] = None
            self.wbufs[idx] = None
            self._free.append(idx)

    def region(self, addr: int, size: int) -> tuple[Region, int]:
        """The region holding ``[addr, addr+size)`` and the offset in it, or MemoryFault."""
        idx = addr >> 32
        off = addr & _M32
        regions = self.regions
        if idx < len(regions):
            r = regions[idx]
            if r is not None and off + size <= len(r.buf):
                return r, off
        raise MemoryFault(f"invalid memory access at {addr:#x} size {size}")

    def load(self, addr: int, size: int) -> int:
        """Unsigned little-endian load."""
        r, off = self.region(addr, size)
        return int.from_bytes(r.buf[off : off + size], "little")

    def store(self, addr: int, size: int, value: int) -> None:
        """Little-endian store of the low ``size`` bytes of ``value``."""
        r, off = self.region(addr, size)
        if not r.writable:
            raise MemoryFault(f"write to read-only {r.name} at {addr:#x}")
        r.buf[off : off + size] = (value & ((1 << (size * 8)) - 1)).to_bytes(size, "little")

    def read(self, addr: int, size: int) -> bytes:
        """``size`` raw bytes."""
        if size == 0:
            return b""
        r, off = self.region(addr, size)
        return bytes(r.buf[off : off + size])

    def write(self, addr: int, data: bytes) -> None:
        """Write raw bytes."""
        if not data:
            return
        r, off = self.region(addr, len(data))
        if not r.writable:
            raise MemoryFault(f"write to read-only {r.name} at {addr:#x}")
        r.buf[off : off + len(data)] = data

    def read_str(self, addr: int, limit: int) -> bytes:
        """Bytes up to (not including) the first NUL, at most ``limit``; stops at region end."""
        idx = addr >> 32
        off = addr & _M32
        r = self.regions[idx] if idx < len(self.regions) else None
        if r is None or off >= len(r.buf):
            raise MemoryFault(f"invalid memory access at {addr:#x}")
        chunk = bytes(r.buf[off : off + limit])
        nul = chunk.find(b"\0")
        return chunk if nul < 0 else chunk[:nul]


__all__ = ["Memory", "Region"]
