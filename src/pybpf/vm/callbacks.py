"""Helpers that call back into the program: ``bpf_for_each_map_elem`` and ``bpf_loop``.

A plain helper cannot run BPF code, so each engine passes an ``invoke(entry, r1..r5)``
that runs the subprogram at slot ``entry`` in a fresh frame and returns its r0; the
iteration itself (and so the semantics) lives here, shared by both engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpf.vm.helpers import HelperFault, _map
from pybpf.vm.maps import ArrayMap, HashMap
from pybpf.vm.semantics import M64

if TYPE_CHECKING:
    from pybpf.vm.machine import Machine

Invoke = Callable[[int, int, int, int, int, int], int]
"""``invoke(entry, r1, r2, r3, r4, r5) -> r0`` supplied by the engine."""

CallbackHelper = Callable[["Machine", int, int, int, int, Invoke], int]

_MAX_LOOPS = 1 << 23  # the kernel's BPF_MAX_LOOPS


def _entry(m: Machine, addr: int) -> int:
    from pybpf.vm.machine import FUNC_TAG

    if addr & ~0xFFFF_FFFF != FUNC_TAG:
        raise HelperFault(f"callback argument {addr:#x} is not a function address")
    return addr & 0xFFFF_FFFF


def for_each_map_elem(m: Machine, r1: int, r2: int, r3: int, r4: int, invoke: Invoke) -> int:
    """``bpf_for_each_map_elem(map, cb, ctx, flags)``: elements visited (cb returning 1 stops).

    The callback gets r1 = map, r2 = key pointer, r3 = value pointer (this CPU's copy for a
    per-CPU map), r4 = ``ctx``.
    """
    mp = _map(m, r1)
    entry = _entry(m, r2)
    if r4:
        return -22 & M64  # -EINVAL: no flags are defined
    if isinstance(mp, ArrayMap):
        keys = [i.to_bytes(4, "little") for i in range(mp.max_entries)]
    elif isinstance(mp, HashMap):
        keys = list(mp.keys())
    else:
        raise HelperFault("bpf_for_each_map_elem needs a hash or array map")
    done = 0
    for key in keys:
        value = mp.lookup(key, m.env.cpu)
        if not value:
            continue  # deleted by an earlier callback
        kbuf = bytearray(key)
        kaddr = m.mem.map(kbuf, "map_key", writable=False)
        try:
            ret = invoke(entry, r1, kaddr, value, r3, 0)
        finally:
            m.mem.unmap(kaddr)
        done += 1
        if ret & 0xFFFF_FFFF == 1:
            break
    return done


def loop(m: Machine, r1: int, r2: int, r3: int, r4: int, invoke: Invoke) -> int:
    """``bpf_loop(n, cb, ctx, flags)``: cb(i, ctx) for i < n until it returns 1; iterations."""
    entry = _entry(m, r2)
    n = r1 & 0xFFFF_FFFF
    if r4:
        return -22 & M64
    if n > _MAX_LOOPS:
        return -7 & M64  # -E2BIG
    i = 0
    while i < n:
        ret = invoke(entry, i, r3, 0, 0, 0)
        i += 1
        if ret & 0xFFFF_FFFF == 1:
            break
    return i


CALLBACK_HELPERS: dict[int, CallbackHelper] = {164: for_each_map_elem, 181: loop}
"""Helper number -> implementation, for helpers that take a callback."""

__all__ = ["CALLBACK_HELPERS", "CallbackHelper", "Invoke", "for_each_map_elem", "loop"]
