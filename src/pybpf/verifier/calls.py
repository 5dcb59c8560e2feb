"""Calls and exits: helper argument checks from the helper registry, bpf-to-bpf frames."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.asm.helpers import ArgKind, RetKind, helper_spec
from pybpf.asm.insn import Insn
from pybpf.verifier import scalar as sc
from pybpf.verifier.cfg import Reject
from pybpf.verifier.memcheck import check_region, check_stack_init
from pybpf.verifier.state import (
    NOT_INIT,
    UNKNOWN_SCALAR,
    ZERO,
    Frame,
    Kind,
    MapInfo,
    Reg,
    State,
    scalar,
)

if TYPE_CHECKING:
    from pybpf.verifier.check import Verifier

MAX_FRAMES = 8
_CHANGES_PKT = frozenset({9, 10, 11, 39, 43, 44, 50, 53, 65, 67})
_MAP_HELPERS = {1, 2, 3}
_RINGBUF_MAP_HELPERS = {130, 131, 134}
_MEM_KINDS = (Kind.STACK, Kind.MAP_VALUE, Kind.MEM, Kind.PACKET, Kind.PACKET_META, Kind.MAP_KEY)
_CALLBACK_HELPERS = {164, 181}
_FOREACH_MAPS = {1, 2, 5, 6, 9, 10}  # hash, array and their per-CPU / LRU forms


def do_call(v: Verifier, pc: int, insn: Insn, st: State) -> list[tuple[int, State]]:
    """A helper call or a bpf-to-bpf call."""
    if insn.src == 1:
        return _local_call(v, pc, insn, st)
    if insn.src == 2:
        raise Reject(pc, "kernel function calls are not supported")
    if insn.imm in _CALLBACK_HELPERS and insn.imm in v.pt.helpers:
        return _callback_call(v, pc, insn.imm, st)
    _helper_call(v, pc, insn.imm, st)
    return [(pc + 1, st)]


def _local_call(v: Verifier, pc: int, insn: Insn, st: State) -> list[tuple[int, State]]:
    if len(st.frames) >= MAX_FRAMES:
        raise Reject(pc, f"the call stack of {len(st.frames) + 1} frames is too deep !")
    target = pc + 1 + insn.imm
    caller = st.cur
    regs = [NOT_INIT] * 11
    for i in range(1, 6):
        regs[i] = caller.regs[i]
    regs[10] = Reg(Kind.STACK, frame=len(st.frames))
    st.frames.append(Frame(regs, ret_pc=pc + 1, entry=target))
    v.call_edges.add((caller.entry, target))
    return [(target, st)]


def _callback_call(v: Verifier, pc: int, hid: int, st: State) -> list[tuple[int, State]]:
    """``bpf_for_each_map_elem`` / ``bpf_loop``: check the arguments, then walk into the
    callback as a function of its own (its exit checks r0 and returns to ``pc + 1``)."""
    regs = st.cur.regs
    for regno in range(1, 5):
        if regs[regno].kind is Kind.NOT_INIT:
            raise Reject(pc, f"R{regno} !read_ok")
    name = "bpf_for_each_map_elem" if hid == 164 else "bpf_loop"
    fn, ctx = regs[2], regs[3]
    if fn.kind is not Kind.FUNC:
        raise Reject(pc, f"R2 type={fn.describe()} expected=func")
    if ctx.kind is not Kind.STACK and not (
        ctx.kind is Kind.SCALAR and ctx.var.is_const and ctx.var.value == 0
    ):
        raise Reject(pc, f"R3 type={ctx.describe()} expected=fp")
    if regs[4].kind is not Kind.SCALAR:
        raise Reject(pc, f"R4 type={regs[4].describe()} expected=scalar")
    assert v.cfg is not None
    target = fn.off
    if target == 0 or target not in v.cfg.funcs:
        raise Reject(pc, f"callback at insn {target} is not the start of a function")
    if len(st.frames) >= MAX_FRAMES:
        raise Reject(pc, f"the call stack of {len(st.frames) + 1} frames is too deep !")
    new = [NOT_INIT] * 11
    if hid == 164:
        mp_reg = regs[1]
        if mp_reg.kind is not Kind.MAP_PTR:
            raise Reject(pc, f"R1 type={mp_reg.describe()} expected=map_ptr")
        mp = mp_reg.map
        assert mp is not None
        if mp.map_type not in _FOREACH_MAPS:
            raise Reject(pc, f"cannot pass map_type {mp.map_type} into func {name}#{hid}")
        new[1] = mp_reg
        new[2] = Reg(Kind.MAP_KEY, size=mp.key_size)
        new[3] = Reg(Kind.MAP_VALUE, map=mp)
        new[4] = ctx
    else:
        if regs[1].kind is not Kind.SCALAR:
            raise Reject(pc, f"R1 type={regs[1].describe()} expected=scalar")
        new[1] = scalar(sc.bounded(0, 0xFFFF_FFFF))
        new[2] = ctx
    new[10] = Reg(Kind.STACK, frame=len(st.frames))
    v.call_edges.add((st.cur.entry, target))
    st.frames.append(Frame(new, ret_pc=pc + 1, entry=target, callback=hid))
    return [(target, st)]


def do_exit(v: Verifier, pc: int, st: State) -> list[tuple[int, State]]:
    """``exit``: the program ends, or a callee returns to its caller."""
    r0 = st.cur.regs[0]
    if r0.kind is Kind.NOT_INIT:
        raise Reject(pc, "R0 !read_ok")
    if len(st.frames) == 1:
        if st.refs:
            rid, alloc = next(iter(st.refs.items()))
            raise Reject(pc, f"Unreleased reference id={rid} alloc_insn={alloc}")
        return []
    if r0.kind is Kind.STACK and r0.frame == len(st.frames) - 1:
        raise Reject(pc, "cannot return stack pointer to the caller")
    if st.cur.callback:
        if r0.kind is not Kind.SCALAR:
            raise Reject(pc, f"At callback return the register R0 is {r0.describe()}")
        if r0.var.smin < 0 or r0.var.umax > 1:
            raise Reject(
                pc,
                f"At callback return the register R0 has smin={r0.var.smin} "
                f"smax={r0.var.smax} should have been in [0, 1]",
            )
        r0 = scalar(sc.UNKNOWN)  # the helper returns a count
    callee = st.frames.pop()
    regs = st.cur.regs
    regs[0] = r0
    for i in range(1, 6):
        regs[i] = NOT_INIT
    # pointers into the dead frame's stack must not survive
    for f in st.frames:
        for i, r in enumerate(f.regs):
            if r.kind is Kind.STACK and r.frame >= len(st.frames):
                f.regs[i] = NOT_INIT
    return [(callee.ret_pc, st)]


def _helper_call(v: Verifier, pc: int, hid: int, st: State) -> None:
    spec = helper_spec(hid)
    if hid not in v.pt.helpers or spec is None:
        name = spec.name if spec else "unknown"
        raise Reject(pc, f"program of this type cannot use helper {name}#{hid}")
    regs = st.cur.regs
    mp: MapInfo | None = None
    alloc_size = 0
    for i, kind in enumerate(spec.args):
        regno = i + 1
        r = regs[regno]
        if r.kind is Kind.NOT_INIT:
            raise Reject(pc, f"R{regno} !read_ok")
        if kind is ArgKind.ANYTHING:
            continue
        if kind is ArgKind.CONST_MAP_PTR:
            if r.kind is not Kind.MAP_PTR:
                raise Reject(pc, f"R{regno} type={r.describe()} expected=map_ptr")
            mp = r.map
            assert mp is not None
            _check_map_compat(pc, hid, spec.name, mp)
        elif kind in (ArgKind.PTR_TO_MAP_KEY, ArgKind.PTR_TO_MAP_VALUE):
            assert mp is not None
            size = mp.key_size if kind is ArgKind.PTR_TO_MAP_KEY else mp.value_size
            _mem_arg(v, pc, st, regno, r, size, False)
        elif kind in (ArgKind.PTR_TO_MEM, ArgKind.PTR_TO_MEM_OR_NULL, ArgKind.PTR_TO_UNINIT_MEM):
            continue  # checked with the size argument that follows
        elif kind in (ArgKind.CONST_SIZE, ArgKind.CONST_SIZE_OR_ZERO):
            _size_arg(v, pc, st, spec.args, regno, kind)
        elif kind is ArgKind.CONST_ALLOC_SIZE_OR_ZERO:
            if r.kind is not Kind.SCALAR or not r.var.is_const:
                raise Reject(pc, f"R{regno} is not a known constant'")
            alloc_size = r.var.value
        elif kind is ArgKind.PTR_TO_CTX:
            if r.kind is not Kind.CTX or r.off or not r.var.is_const or r.var.value:
                raise Reject(pc, f"R{regno} type={r.describe()} expected=ctx")
        elif kind is ArgKind.PTR_TO_RINGBUF_MEM:
            if r.kind is not Kind.MEM or r.id not in st.refs or r.off or r.var.value:
                raise Reject(pc, f"R{regno} type={r.describe()} expected=ringbuf_mem")
            rid = r.id
            del st.refs[rid]
            st.replace_id(rid, lambda x: UNKNOWN_SCALAR)
        else:
            raise Reject(
                pc, f"helper {spec.name}#{hid} argument kind {kind.value} is not supported"
            )
    if hid == 12 and st.refs:
        raise Reject(pc, "tail_call would lead to reference leak")
    key_zero = hid == 1 and mp is not None and _key_is_zero(st, regs[2])
    for i in range(1, 6):
        regs[i] = NOT_INIT
    if hid in _CHANGES_PKT:
        _forget_packets(st)
    regs[0] = _ret(v, pc, spec.ret, mp, alloc_size, st)
    if key_zero and mp is not None and mp.map_type in (2, 6):
        # a constant in-range key into an array always finds its element
        regs[0] = Reg(Kind.MAP_VALUE, map=mp)


def _key_is_zero(st: State, r: Reg) -> bool:
    if r.kind is not Kind.STACK or not r.var.is_const or r.var.value:
        return False
    f = st.frames[r.frame]
    start = r.off + 512
    return start >= 0 and all(b == ZERO for b in f.stack[start : start + 4])


def _forget_packets(st: State) -> None:
    """Helpers that may move packet data invalidate every packet pointer."""
    for f in st.frames:
        for i, r in enumerate(f.regs):
            if r.kind in (Kind.PACKET, Kind.PACKET_END, Kind.PACKET_META):
                f.regs[i] = UNKNOWN_SCALAR
        for s, r in list(f.spills.items()):
            if r.kind in (Kind.PACKET, Kind.PACKET_END, Kind.PACKET_META):
                f.spills[s] = UNKNOWN_SCALAR


def _ret(v: Verifier, pc: int, ret: RetKind, mp: MapInfo | None, size: int, st: State) -> Reg:
    if ret is RetKind.VOID:
        return NOT_INIT
    if ret is RetKind.PTR_TO_MAP_VALUE_OR_NULL:
        return Reg(Kind.MAP_VALUE_OR_NULL, map=mp, id=v.new_id())
    if ret is RetKind.PTR_TO_RINGBUF_MEM_OR_NULL:
        rid = v.new_id()
        st.refs[rid] = pc
        return Reg(Kind.MEM_OR_NULL, size=size, id=rid)
    return scalar(sc.UNKNOWN)


def _check_map_compat(pc: int, hid: int, name: str, mp: MapInfo) -> None:
    ok = True
    if mp.map_type == 27:
        ok = hid in _RINGBUF_MAP_HELPERS
    elif mp.map_type == 3:
        ok = hid == 12
    elif hid in _RINGBUF_MAP_HELPERS or hid == 12:
        ok = False
    if not ok:
        raise Reject(pc, f"cannot pass map_type {mp.map_type} into func {name}#{hid}")


def _size_arg(
    v: Verifier, pc: int, st: State, kinds: tuple[ArgKind, ...], regno: int, kind: ArgKind
) -> None:
    regs = st.cur.regs
    r = regs[regno]
    if r.kind is not Kind.SCALAR:
        raise Reject(pc, f"R{regno} type={r.describe()} expected=scalar")
    if r.var.smin < 0:
        raise Reject(pc, f"R{regno} min value is negative, either use unsigned or 'var &= const'")
    if r.var.umax >= 1 << 29:
        raise Reject(
            pc, f"R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'"
        )
    if kind is ArgKind.CONST_SIZE and r.var.umin == 0:
        raise Reject(pc, f"R{regno} invalid zero-sized read")
    ptr_kind = kinds[regno - 2]
    ptr = regs[regno - 1]
    size = r.var.umax
    if (
        ptr_kind is ArgKind.PTR_TO_MEM_OR_NULL
        and ptr.kind is Kind.SCALAR
        and ptr.var.is_const
        and ptr.var.value == 0
    ):
        return
    if size == 0 and ptr.kind is Kind.SCALAR and ptr.var.is_const and ptr.var.value == 0:
        return
    _mem_arg(v, pc, st, regno - 1, ptr, size, ptr_kind is ArgKind.PTR_TO_UNINIT_MEM)


def _mem_arg(v: Verifier, pc: int, st: State, regno: int, r: Reg, size: int, write: bool) -> None:
    if r.kind not in _MEM_KINDS:
        raise Reject(pc, f"R{regno} type={r.describe()} expected=fp, pkt, pkt_meta, map_value, mem")
    if write and r.kind is Kind.MAP_KEY:
        raise Reject(pc, f"write to change key R{regno} not allowed")
    if r.kind is Kind.STACK:
        check_stack_init(pc, st, regno, r, size, write, v.pt.uninit_stack)
        f = st.frames[r.frame]
        d = -(r.off + r.var.smin)
        v.stack_depth[f.entry] = max(v.stack_depth.get(f.entry, 0), d)
        return
    if write and r.kind in (Kind.PACKET, Kind.PACKET_META) and not v.pt.packet_write:
        raise Reject(pc, "cannot write into packet")
    if size:
        check_region(pc, regno, r, 0, size)


__all__ = ["do_call", "do_exit"]
