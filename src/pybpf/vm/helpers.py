"""Helper functions the VM offers programs, by kernel helper number.

Each helper is ``fn(machine, r1, r2, r3, r4, r5) -> int`` returning the new r0 (unsigned).
Kernel-facing failures become negative errnos as the kernel returns them; a misuse the
verifier would have refused (a non-map passed as a map) raises :class:`HelperFault`.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpf.vm.errors import MemoryFault
from pybpf.vm.maps import ProgArray, RingBuf, VMMap
from pybpf.vm.semantics import M64

if TYPE_CHECKING:
    from pybpf.vm.machine import Machine

Helper = Callable[["Machine", int, int, int, int, int], int]


class HelperFault(MemoryFault):
    """A helper was called with arguments no verifier would allow."""


class TailCall(Exception):
    """Raised by ``bpf_tail_call`` on success; the engine restarts in ``target``."""

    def __init__(self, target: object) -> None:
        self.target = target


def _neg(e: int) -> int:
    return -e & M64


def _map(m: Machine, addr: int) -> VMMap:
    mp = m.map_at(addr)
    if mp is None:
        raise HelperFault(f"helper argument {addr:#x} is not a map pointer")
    return mp


def map_lookup_elem(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_map_lookup_elem(map, key)``: value address or 0."""
    mp = _map(m, r1)
    return mp.lookup(m.mem.read(r2, mp.key_size), m.env.cpu)


def map_update_elem(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_map_update_elem(map, key, value, flags)``."""
    mp = _map(m, r1)
    key = m.mem.read(r2, mp.key_size)
    return mp.update(key, m.mem.read(r3, mp.value_size), r4, m.env.cpu) & M64


def map_delete_elem(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_map_delete_elem(map, key)``."""
    mp = _map(m, r1)
    return mp.delete(m.mem.read(r2, mp.key_size)) & M64


def probe_read(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_probe_read*(dst, size, src)``: a bad source zero-fills dst and gives -EFAULT."""
    size = r2 & 0xFFFF_FFFF
    try:
        data = m.mem.read(r3, size)
    except MemoryFault:
        m.mem.write(r1, bytes(size))
        return _neg(errno.EFAULT)
    m.mem.write(r1, data)
    return 0


def probe_read_str(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_probe_read*_str(dst, size, src)``: length copied including the NUL."""
    size = r2 & 0xFFFF_FFFF
    if size == 0:
        return 0
    try:
        s = m.mem.read_str(r3, size - 1)
    except MemoryFault:
        m.mem.write(r1, bytes(size))
        return _neg(errno.EFAULT)
    m.mem.write(r1, s + b"\0")
    return len(s) + 1


def ktime_get_ns(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_ktime_get_ns()`` from the injectable clock."""
    return m.env.clock() & M64


def get_prandom_u32(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_get_prandom_u32()`` from the machine's seeded generator."""
    return m.rng.getrandbits(32)


def get_smp_processor_id(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_get_smp_processor_id()``."""
    return m.env.cpu


def get_current_pid_tgid(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``tgid << 32 | pid``."""
    return (m.env.tgid << 32 | m.env.pid) & M64


def get_current_uid_gid(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``gid << 32 | uid``."""
    return (m.env.gid << 32 | m.env.uid) & M64


def get_current_comm(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Copy the task name, NUL-terminated and zero-padded, into ``r1[0:r2]``."""
    size = r2 & 0xFFFF_FFFF
    if size == 0:
        return _neg(errno.EINVAL)
    name = m.env.comm.encode()[: min(size, 16) - 1]
    m.mem.write(r1, name.ljust(size, b"\0"))
    return 0


_FMT = re.compile(rb"%(-?\d*)(ll|l|h|hh)?([diuxXpcs%])")


def trace_printk(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_trace_printk(fmt, size, a, b, c)``: the formatted line goes to ``m.trace``."""
    fmt = m.mem.read(r1, r2 & 0xFFFF_FFFF).split(b"\0", 1)[0]
    args = iter((r3, r4, r5))

    def conv(mo: re.Match[bytes]) -> bytes:
        width, length, kind = mo.group(1), mo.group(2), mo.group(3)
        if kind == b"%":
            return b"%"
        v = next(args, 0)
        if kind == b"s":
            try:
                return m.mem.read_str(v, 256)
            except MemoryFault:
                return b"(efault)"
        if length not in (b"l", b"ll"):
            v &= 0xFFFF_FFFF
        bits = 64 if length in (b"l", b"ll") else 32
        if kind in b"di" and v >> (bits - 1):
            v -= 1 << bits
        text = {b"x": f"{v:x}", b"X": f"{v:X}", b"p": f"0x{v:x}", b"c": chr(v & 0xFF)}.get(
            kind, str(v)
        )
        w = int(width or b"0")
        return (text.ljust(-w) if w < 0 else text.rjust(w)).encode()

    line = _FMT.sub(conv, fmt).decode(errors="replace")
    m.trace.append(line)
    return len(line)


def tail_call(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_tail_call(ctx, prog_array, index)``: does not return on success."""
    mp = _map(m, r2)
    if not isinstance(mp, ProgArray):
        raise HelperFault("bpf_tail_call needs a prog array")
    target = mp.progs.get(r3 & 0xFFFF_FFFF)
    if target is None or m.tail_calls >= 33:
        return _neg(errno.ENOENT)
    m.tail_calls += 1
    raise TailCall(target)


def _ringbuf(m: Machine, addr: int) -> RingBuf:
    mp = _map(m, addr)
    if not isinstance(mp, RingBuf):
        raise HelperFault("ring buffer helper needs a ringbuf map")
    return mp


def ringbuf_output(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_ringbuf_output(rb, data, size, flags)``."""
    rb = _ringbuf(m, r1)
    return rb.output(m.mem.read(r2, r3 & 0xFFFF_FFFF)) & M64


def ringbuf_reserve(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_ringbuf_reserve(rb, size, flags)``: record address or 0."""
    return _ringbuf(m, r1).reserve(r2 & 0xFFFF_FFFF)


def _finish(m: Machine, addr: int, keep: bool) -> int:
    for mp in m.maps.values():
        if isinstance(mp, RingBuf) and mp.finish(addr, keep):
            return 0
    raise HelperFault(f"{addr:#x} is not a reserved ring buffer record")


def ringbuf_submit(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_ringbuf_submit(data, flags)``."""
    return _finish(m, r1, True)


def ringbuf_discard(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_ringbuf_discard(data, flags)``."""
    return _finish(m, r1, False)


def ringbuf_query(m: Machine, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """``bpf_ringbuf_query(rb, flags)``: 0 available bytes, 1 size, 2/3 consumer/producer."""
    rb = _ringbuf(m, r1)
    return {0: rb.used, 1: rb.max_entries, 2: 0, 3: rb.used}.get(r2, 0)


HELPERS: dict[int, Helper] = {
    1: map_lookup_elem,
    2: map_update_elem,
    3: map_delete_elem,
    4: probe_read,
    5: ktime_get_ns,
    6: trace_printk,
    7: get_prandom_u32,
    8: get_smp_processor_id,
    12: tail_call,
    14: get_current_pid_tgid,
    15: get_current_uid_gid,
    16: get_current_comm,
    45: probe_read_str,
    112: probe_read,
    113: probe_read,
    114: probe_read_str,
    115: probe_read_str,
    130: ringbuf_output,
    131: ringbuf_reserve,
    132: ringbuf_submit,
    133: ringbuf_discard,
    134: ringbuf_query,
}
"""Helper number -> implementation (kernel numbering, ``enum bpf_func_id``)."""

__all__ = ["HELPERS", "Helper", "HelperFault", "TailCall"]
