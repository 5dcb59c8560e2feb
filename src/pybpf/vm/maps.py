"""In-memory BPF maps with the kernel's semantics, their values living in VM memory.

Every value is a VM region, so a pointer returned by ``map_lookup_elem`` is bounds-checked
like any other. Helper-facing methods take and return raw bytes and errno-style ints
(0 or a negative errno); host-facing methods (``get``, ``set``, ``items``) are for callers
and tests.
"""

from __future__ import annotations

import errno
from collections import OrderedDict
from enum import IntEnum

from pybpf.vm.memory import Memory

BPF_ANY, BPF_NOEXIST, BPF_EXIST = 0, 1, 2


class MapType(IntEnum):
    """Kernel map type numbers the VM implements."""

    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    LRU_HASH = 9
    LRU_PERCPU_HASH = 10
    RINGBUF = 27


class VMMap:
    """Common shape: sizes and the memory values are mapped into."""

    def __init__(
        self, mem: Memory, key_size: int, value_size: int, max_entries: int, ncpus: int = 1
    ) -> None:
        self.mem = mem
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.ncpus = ncpus

    def lookup(self, key: bytes, cpu: int) -> int:
        """Address of the value for ``key`` (this CPU's copy), or 0."""
        raise NotImplementedError

    def update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        """0 or a negative errno."""
        raise NotImplementedError

    def delete(self, key: bytes) -> int:
        """0 or a negative errno."""
        raise NotImplementedError

    def _new_value(self, data: bytes = b"") -> tuple[int, bytearray]:
        buf = bytearray(self.value_size)
        buf[: len(data)] = data[: self.value_size]
        return self.mem.map(buf, "map_value"), buf


class HashMap(VMMap):
    """``BPF_MAP_TYPE_HASH`` (and the per-CPU / LRU variants through subclasses)."""

    percpu = False
    lru = False

    def __init__(
        self, mem: Memory, key_size: int, value_size: int, max_entries: int, ncpus: int = 1
    ) -> None:
        super().__init__(mem, key_size, value_size, max_entries, ncpus)
        # key -> one (address, buffer) per CPU (one entry when not per-CPU)
        self.elems: OrderedDict[bytes, list[tuple[int, bytearray]]] = OrderedDict()

    def _copies(self) -> int:
        return self.ncpus if self.percpu else 1

    def lookup(self, key: bytes, cpu: int) -> int:
        """Address of the value, or 0; LRU maps note the use."""
        e = self.elems.get(bytes(key))
        if e is None:
            return 0
        if self.lru:
            self.elems.move_to_end(bytes(key))
        return e[cpu if self.percpu else 0][0]

    def update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        """Insert or replace; an LRU map evicts its least recently used key when full."""
        key = bytes(key)
        e = self.elems.get(key)
        if flags == BPF_NOEXIST and e is not None:
            return -errno.EEXIST
        if flags == BPF_EXIST and e is None:
            return -errno.ENOENT
        if flags not in (BPF_ANY, BPF_NOEXIST, BPF_EXIST):
            return -errno.EINVAL
        if e is None:
            if len(self.elems) >= self.max_entries:
                if not self.lru:
                    return -errno.E2BIG
                _, copies = self.elems.popitem(last=False)
                for addr, _ in copies:
                    self.mem.unmap(addr)
            e = [self._new_value() for _ in range(self._copies())]
            self.elems[key] = e
        elif self.lru:
            self.elems.move_to_end(key)
        # A per-CPU update from a program writes only the running CPU's copy.
        e[cpu if self.percpu else 0][1][:] = bytes(value[: self.value_size]).ljust(
            self.value_size, b"\0"
        )
        return 0

    def delete(self, key: bytes) -> int:
        """Remove ``key``; its value's region is unmapped."""
        e = self.elems.pop(bytes(key), None)
        if e is None:
            return -errno.ENOENT
        for addr, _ in e:
            self.mem.unmap(addr)
        return 0

    # host side
    def get(self, key: bytes) -> bytes | list[bytes] | None:
        """The value (a list per CPU for per-CPU maps) or None."""
        e = self.elems.get(bytes(key))
        if e is None:
            return None
        vals = [bytes(b) for _, b in e]
        return vals if self.percpu else vals[0]

    def set(self, key: bytes, value: bytes) -> None:
        """Host-side update (every CPU's copy)."""
        for cpu in range(self._copies()):
            rc = self.update(key, value, BPF_ANY, cpu)
            if rc:
                raise ValueError(f"map update failed: {errno.errorcode.get(-rc, rc)}")

    def keys(self) -> list[bytes]:
        """Keys in insertion (LRU: recency) order."""
        return list(self.elems)


class PerCpuHashMap(HashMap):
    """``BPF_MAP_TYPE_PERCPU_HASH``."""

    percpu = True


class LruHashMap(HashMap):
    """``BPF_MAP_TYPE_LRU_HASH``."""

    lru = True


class LruPerCpuHashMap(HashMap):
    """``BPF_MAP_TYPE_LRU_PERCPU_HASH``."""

    lru = True
    percpu = True


class ArrayMap(VMMap):
    """``BPF_MAP_TYPE_ARRAY``: preallocated, zeroed, never deleted."""

    percpu = False

    def __init__(
        self, mem: Memory, key_size: int, value_size: int, max_entries: int, ncpus: int = 1
    ) -> None:
        super().__init__(mem, key_size, value_size, max_entries, ncpus)
        copies = ncpus if self.percpu else 1
        self.values = [[self._new_value() for _ in range(copies)] for _ in range(max_entries)]

    def _index(self, key: bytes) -> int:
        return int.from_bytes(bytes(key[:4]).ljust(4, b"\0"), "little")

    def lookup(self, key: bytes, cpu: int) -> int:
        """Address of element ``key`` or 0 past the end."""
        i = self._index(key)
        if i >= self.max_entries:
            return 0
        return self.values[i][cpu if self.percpu else 0][0]

    def update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        """Overwrite in place; NOEXIST is always EEXIST (every element exists)."""
        i = self._index(key)
        if flags > BPF_EXIST:
            return -errno.EINVAL
        if i >= self.max_entries:
            return -errno.E2BIG
        if flags == BPF_NOEXIST:
            return -errno.EEXIST
        self.values[i][cpu if self.percpu else 0][1][:] = bytes(value[: self.value_size]).ljust(
            self.value_size, b"\0"
        )
        return 0

    def delete(self, key: bytes) -> int:
        """Arrays cannot delete: EINVAL."""
        return -errno.EINVAL

    def get(self, key: bytes) -> bytes | list[bytes] | None:
        """Element value (a list per CPU for per-CPU arrays) or None past the end."""
        i = self._index(key)
        if i >= self.max_entries:
            return None
        vals = [bytes(b) for _, b in self.values[i]]
        return vals if self.percpu else vals[0]

    def set(self, key: bytes, value: bytes) -> None:
        """Host-side update of every CPU's copy."""
        for cpu in range(self.ncpus if self.percpu else 1):
            rc = self.update(key, value, BPF_ANY, cpu)
            if rc:
                raise ValueError(f"map update failed: {errno.errorcode.get(-rc, rc)}")


class PerCpuArrayMap(ArrayMap):
    """``BPF_MAP_TYPE_PERCPU_ARRAY``."""

    percpu = True


class ProgArray(VMMap):
    """``BPF_MAP_TYPE_PROG_ARRAY``: slot -> program, for ``bpf_tail_call``."""

    def __init__(self, mem: Memory, max_entries: int) -> None:
        super().__init__(mem, 4, 4, max_entries)
        self.progs: dict[int, object] = {}

    def lookup(self, key: bytes, cpu: int) -> int:
        """Programs cannot look up a prog array."""
        return 0

    def update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        """Programs cannot update a prog array."""
        return -errno.EINVAL

    def delete(self, key: bytes) -> int:
        """Programs cannot delete from a prog array."""
        return -errno.EINVAL


class RingBuf(VMMap):
    """``BPF_MAP_TYPE_RINGBUF``: records go to ``records`` until the host drains them."""

    HDR = 8

    def __init__(self, mem: Memory, size: int) -> None:
        super().__init__(mem, 0, 0, size)
        self.records: list[bytes] = []
        self.used = 0
        self.reserved: dict[int, tuple[bytearray, int]] = {}

    def _cost(self, n: int) -> int:
        return self.HDR + (n + 7) // 8 * 8

    def output(self, data: bytes) -> int:
        """Copy a record in: 0 or -EAGAIN when it does not fit."""
        if self.used + self._cost(len(data)) > self.max_entries:
            return -errno.EAGAIN
        self.used += self._cost(len(data))
        self.records.append(bytes(data))
        return 0

    def reserve(self, size: int) -> int:
        """Address of a fresh ``size``-byte record, or 0 when full."""
        if size <= 0 or self.used + self._cost(size) > self.max_entries:
            return 0
        self.used += self._cost(size)
        buf = bytearray(size)
        addr = self.mem.map(buf, "ringbuf record")
        self.reserved[addr] = (buf, size)
        return addr

    def finish(self, addr: int, keep: bool) -> bool:
        """Submit (``keep``) or discard the record at ``addr``; False if it is not one."""
        rec = self.reserved.pop(addr, None)
        if rec is None:
            return False
        self.mem.unmap(addr)
        if keep:
            self.records.append(bytes(rec[0]))
        else:
            self.used -= self._cost(rec[1])
        return True

    def drain(self) -> list[bytes]:
        """Take every submitted record (the consumer side)."""
        out, self.records, self.used = self.records, [], 0
        return out

    def lookup(self, key: bytes, cpu: int) -> int:
        """Ring buffers have no elements."""
        return 0

    def update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        """Ring buffers have no elements."""
        return -errno.EINVAL

    def delete(self, key: bytes) -> int:
        """Ring buffers have no elements."""
        return -errno.EINVAL


def create_map(
    mem: Memory, map_type: int, key_size: int, value_size: int, max_entries: int, ncpus: int = 1
) -> VMMap:
    """A map of ``map_type`` (a :class:`MapType` number) mapped into ``mem``."""
    t = MapType(map_type)
    if t is MapType.RINGBUF:
        return RingBuf(mem, max_entries)
    if t is MapType.PROG_ARRAY:
        return ProgArray(mem, max_entries)
    cls: type[VMMap] = {
        MapType.HASH: HashMap,
        MapType.ARRAY: ArrayMap,
        MapType.PERCPU_HASH: PerCpuHashMap,
        MapType.PERCPU_ARRAY: PerCpuArrayMap,
        MapType.LRU_HASH: LruHashMap,
        MapType.LRU_PERCPU_HASH: LruPerCpuHashMap,
    }[t]
    return cls(mem, key_size, value_size, max_entries, ncpus)


__all__ = [
    "ArrayMap",
    "HashMap",
    "LruHashMap",
    "LruPerCpuHashMap",
    "MapType",
    "PerCpuArrayMap",
    "PerCpuHashMap",
    "ProgArray",
    "RingBuf",
    "VMMap",
    "create_map",
]
