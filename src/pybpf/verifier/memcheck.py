"""Memory access rules per pointer kind: stack, context, map values, packets, helper memory."""

from __future__ import annotations

from pybpf.verifier import scalar as sc
from pybpf.verifier.cfg import Reject
from pybpf.verifier.progtypes import ProgType
from pybpf.verifier.state import INVALID, MISC, SPILL, ZERO, Frame, Kind, Reg, State, scalar

STACK = 512


def var_range(r: Reg) -> tuple[int, int]:
    """Signed range of the variable offset part."""
    return r.var.smin, r.var.smax


def _check_var(pc: int, regno: int, r: Reg) -> tuple[int, int]:
    lo, hi = var_range(r)
    if lo < 0 and r.kind is not Kind.STACK:
        raise Reject(
            pc,
            f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.",
        )
    if hi >= 1 << 29 or lo <= -(1 << 29):
        raise Reject(
            pc,
            f"R{regno} unbounded memory access, make sure to bound it with a check against the maximum size",
        )
    return lo, hi


def stack_frame(st: State, r: Reg) -> Frame:
    """The frame a stack pointer points into."""
    return st.frames[r.frame]


def stack_bounds(pc: int, regno: int, r: Reg, off: int, size: int) -> tuple[int, int]:
    """Lowest and highest byte offset from fp touched; Reject when outside the 512 bytes."""
    lo, hi = _check_var(pc, regno, r)
    first = r.off + off + lo
    last = r.off + off + hi + size
    if first < -STACK or last > 0 or size <= 0:
        raise Reject(pc, f"invalid stack off={r.off + off + lo} size={size}")
    return first, last


def check_stack_read(
    pc: int, st: State, regno: int, r: Reg, off: int, size: int, uninit_ok: bool = False
) -> Reg:
    """Result register of loading ``size`` bytes from the stack at ``r + off``.

    ``uninit_ok``: privileged programs may read never-written bytes (an unknown value).
    """
    first, last = stack_bounds(pc, regno, r, off, size)
    f = stack_frame(st, r)
    if r.var.is_const and r.var.value == 0 and size == 8 and first % 8 == 0:
        spilled = f.spills.get(first + STACK)
        if spilled is not None:
            return spilled
    for slot, sp in f.spills.items():
        if sp.is_ptr and slot < last + STACK and first + STACK < slot + 8:
            raise Reject(pc, "invalid size of register fill")
    kinds = f.stack[first + STACK : last + STACK]
    for i, k in enumerate(kinds):
        if k == INVALID and not uninit_ok:
            raise Reject(pc, f"invalid read from stack R{regno} off {r.off + off}+{i} size {size}")
    if all(k == ZERO for k in kinds):
        return scalar(sc.const(0))
    return scalar(sc.bounded(0, (1 << (size * 8)) - 1))


def check_stack_write(
    pc: int, st: State, regno: int, r: Reg, off: int, size: int, value: Reg | None
) -> None:
    """Record a store of ``value`` (None: an unknown scalar) to the stack."""
    first, last = stack_bounds(pc, regno, r, off, size)
    f = stack_frame(st, r)
    exact = r.var.is_const
    # any spill overlapping the written bytes is gone
    for slot in list(f.spills):
        if slot < last + STACK and first + STACK < slot + 8:
            del f.spills[slot]
            for i in range(slot, slot + 8):
                if f.stack[i] == SPILL:
                    f.stack[i] = MISC
    if (
        exact
        and size == 8
        and first % 8 == 0
        and value is not None
        and (value.is_ptr or (value.kind is Kind.SCALAR and not value.var.is_const))
    ):
        f.spills[first + STACK] = value
        f.stack[first + STACK : last + STACK] = [SPILL] * 8
        return
    zero = (
        value is not None
        and value.kind is Kind.SCALAR
        and value.var.is_const
        and value.var.value == 0
    )
    if exact:
        f.stack[first + STACK : last + STACK] = [ZERO if zero else MISC] * (last - first)
        if (
            value is not None
            and value.kind is Kind.SCALAR
            and value.var.is_const
            and size == 8
            and first % 8 == 0
            and not zero
        ):
            f.spills[first + STACK] = value
            f.stack[first + STACK : last + STACK] = [SPILL] * 8
    else:
        # a variable-offset write may hit any byte in range: initialised only where it was
        for i in range(first + STACK, last + STACK):
            if f.stack[i] != INVALID:
                f.stack[i] = MISC


def check_stack_init(
    pc: int, st: State, regno: int, r: Reg, size: int, write: bool, uninit_ok: bool = False
) -> None:
    """Helper memory on the stack: readable (initialised) or marked written."""
    if size == 0:
        return
    first, last = stack_bounds(pc, regno, r, 0, size)
    f = stack_frame(st, r)
    if write:
        for slot in list(f.spills):
            if slot < last + STACK and first + STACK < slot + 8:
                del f.spills[slot]
        for i in range(first + STACK, last + STACK):
            f.stack[i] = MISC
        return
    for i in range(first + STACK, last + STACK):
        if f.stack[i] == INVALID and not uninit_ok:
            raise Reject(
                pc,
                f"invalid indirect read from stack R{regno} off {first}+{i - first - STACK} size {size}",
            )


def check_region(pc: int, regno: int, r: Reg, off: int, size: int) -> None:
    """Map values, helper memory and packets: ``r + off .. + size`` inside the region."""
    lo, hi = _check_var(pc, regno, r)
    start = r.off + off + lo
    end = r.off + off + hi + size
    if r.kind is Kind.MAP_VALUE:
        assert r.map is not None
        if start < 0 or end > r.map.value_size:
            raise Reject(
                pc,
                f"invalid access to map value, value_size={r.map.value_size} off={r.off + off + lo} size={size}",
            )
    elif r.kind is Kind.MAP_KEY:
        if start < 0 or end > r.size:
            raise Reject(
                pc,
                f"invalid access to map key, key_size={r.size} off={r.off + off + lo} size={size}",
            )
    elif r.kind is Kind.MEM:
        if start < 0 or end > r.size:
            raise Reject(
                pc,
                f"invalid access to memory, mem_size={r.size} off={r.off + off + lo} size={size}",
            )
    elif r.kind in (Kind.PACKET, Kind.PACKET_META):
        # the verified range is relative to the pointer's variable base, not to its maximum
        if start < 0 or r.off + off + size > r.rng:
            raise Reject(
                pc,
                f"invalid access to packet, off={r.off + off} size={size}, R{regno}(id={r.id},off={r.off},r={r.rng})",
            )


def check_ctx(pc: int, pt: ProgType, regno: int, r: Reg, off: int, size: int, write: bool) -> Reg:
    """Result of a context access (a scalar or a packet pointer)."""
    if r.off or not r.var.is_const or r.var.value:
        raise Reject(pc, f"dereference of modified ctx ptr R{regno} off={r.off} disallowed")
    f = pt.ctx_access(off, size, write)
    if f is None:
        raise Reject(pc, f"invalid bpf_context access off={off} size={size}")
    if f.kind is not Kind.SCALAR:
        return Reg(f.kind)
    return scalar(sc.bounded(0, (1 << (size * 8)) - 1))


def mem_access(
    pc: int,
    st: State,
    pt: ProgType,
    regno: int,
    off: int,
    size: int,
    write: bool,
    value: Reg | None = None,
) -> Reg | None:
    """Check a load or store through register ``regno``; a load returns the loaded value."""
    r = st.cur.regs[regno]
    k = r.kind
    if k is Kind.NOT_INIT:
        raise Reject(pc, f"R{regno} !read_ok")
    if k is Kind.STACK:
        if write:
            check_stack_write(pc, st, regno, r, off, size, value)
            return None
        return check_stack_read(pc, st, regno, r, off, size, pt.uninit_stack)
    if k is Kind.CTX:
        return check_ctx(pc, pt, regno, r, off, size, write)
    if k in (Kind.MAP_VALUE, Kind.MEM, Kind.PACKET, Kind.PACKET_META, Kind.MAP_KEY):
        if write and k is Kind.MAP_KEY:
            raise Reject(pc, f"write to change key R{regno} not allowed")
        if write and k in (Kind.PACKET, Kind.PACKET_META) and not pt.packet_write:
            raise Reject(pc, "cannot write into packet")
        if write and value is not None and value.is_ptr and k is not Kind.MAP_VALUE:
            raise Reject(pc, f"R{regno} leaks addr into mem")
        check_region(pc, regno, r, off, size)
        return None if write else scalar(sc.bounded(0, (1 << (size * 8)) - 1))
    raise Reject(pc, f"R{regno} invalid mem access '{k.value}'")


__all__ = ["check_stack_init", "mem_access", "stack_bounds"]
