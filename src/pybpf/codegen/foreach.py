# mypy: disable-error-code="no-any-return"
"""``for ($kv : @map) { body }`` as a ``bpf_for_each_map_elem`` callback subprogram.

The body becomes a separate BPF function (its own frame), called by the kernel once per
element with r2 = key pointer and r3 = value pointer; the generator keeps both on the
callback's stack and ``$kv.0`` / ``$kv.1`` read through them. ``break`` returns 1 (stop),
``continue`` and the end of the body return 0. The body may use maps, builtins and events.

Variables of the enclosing probe are visible and writable in the body, as in bpftrace: the
caller passes its frame pointer as the callback context (r4 in the callback), the callback
copies the variables it uses from the caller's stack into its own frame on entry and back
on every return. The callback runs to completion before the loop statement ends, so this
is the same as working through pointers. Variables living in per-CPU scratch memory need
no copy: the callback looks up the same scratch memory, and allocates its own temporaries
above the caller's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, R4, Emitter, Label
from pybpf.codegen.frame import CodegenError, Frame, Val
from pybpf.codegen.helpers import Helper
from pybpf.codegen.memory import SCRATCH_SLOT
from pybpf.lang import ast
from pybpf.passes.types import INT64, UINT64, TupleType, Type
from pybpf.records import dataclass

if TYPE_CHECKING:
    from pybpf.codegen.probe import ProbeGen
    from pybpf.codegen.spec import MapDef


def _outer_vars(gen: ProbeGen, body: ast.Block, kv: str) -> list[tuple[str, Val]]:
    """Variables of the enclosing scopes that ``body`` uses, with their homes (in order)."""
    local = {kv} | {n.var.name for n in ast.walk(body) if isinstance(n, ast.VarDecl)}
    out: dict[str, Val] = {}
    for n in ast.walk(body):
        if isinstance(n, ast.Variable) and n.name not in local and n.name not in out:
            home = gen.lookup_var(n.name)
            if home is not None:
                out[n.name] = home
    return list(out.items())


@dataclass(frozen=True)
class _Copy:
    """An outer variable's bytes at ``caller`` (caller's fp) kept at ``mine`` (callback's)."""

    caller: int
    mine: int
    size: int
    written: bool


def _written(body: ast.Block) -> set[str]:
    """Variables the body assigns (in nested loops too)."""
    out: set[str] = set()
    for n in ast.walk(body):
        if isinstance(n, ast.Assign | ast.IncDec) and isinstance(n.target, ast.Variable):
            out.add(n.target.name)
    return out


def _share(sub: ProbeGen, name: str, home: Val, written: bool, span: object) -> list[_Copy]:
    """Make outer variable ``name`` visible in ``sub``; the stack copies it needs (the
    element of an enclosing loop, read-only, is copied in as its two pointers)."""
    if home.kind == "spill":
        slot = sub.frame.alloc_stack(8)
        sub.vars[0][name] = Val("spill", home.type, off=slot, owned=False)
        return [_Copy(home.off, slot, 8, written)]
    if home.kind == "mem" and home.reg == FP and home.type is not None:
        size = max((home.type.size + 7) // 8 * 8, 8)
        slot = sub.frame.alloc_stack(size)
        sub.vars[0][name] = Val("mem", home.type, reg=FP, off=slot, owned=False)
        return [_Copy(home.off, slot, size, written)]
    if home.kind == "mem" and home.base_slot == SCRATCH_SLOT:
        sub.uses_scratch = True
        sub.vars[0][name] = home
        return []
    if home.kind == "kv" and not written:
        k, v = sub.frame.alloc_stack(8), sub.frame.alloc_stack(8)
        sub.vars[0][name] = Val("kv", home.type, imm=v, off=k, owned=False)
        return [_Copy(home.off, k, 8, False), _Copy(home.imm, v, 8, False)]
    raise CodegenError(f"variable {name} of the enclosing scope cannot be used here", span)


def _copy_in(em: Emitter, copies: list[_Copy], ctx_slot: int) -> None:
    """Callback entry: read the shared variables from the caller's frame.

    Variables the body writes are read with ``bpf_probe_read_kernel``, which the verifier
    treats as unknown values: a counter it tracked exactly would make every call of the
    callback a new state and the verification of the loop would never converge."""
    for c in copies:
        if c.written:
            em.mov(R1, FP)
            em.alui(AluOp.ADD, R1, c.mine)
            em.movi(R2, c.size)
            em.ldx(8, R3, FP, ctx_slot)
            em.alui(AluOp.ADD, R3, c.caller)
            em.call(Helper.PROBE_READ_KERNEL)
            continue
        em.ldx(8, R2, FP, ctx_slot)
        for o in range(0, c.size, 8):
            em.ldx(8, R1, R2, c.caller + o)
            em.stx(8, FP, c.mine + o, R1)


def _copy_out(em: Emitter, copies: list[_Copy], ctx_slot: int) -> None:
    """Callback return: write the variables the body may have changed back to the caller."""
    written = [c for c in copies if c.written]
    if not written:
        return
    em.ldx(8, R2, FP, ctx_slot)
    for c in written:
        for o in range(0, c.size, 8):
            em.ldx(8, R1, FP, c.mine + o)
            em.stx(8, R2, c.caller + o, R1)


def callback(gen: ProbeGen, s: ast.For, m: MapDef) -> tuple[Label, Emitter]:
    """Generate the callback for ``s`` over map ``m``; returns its entry label and code."""
    from pybpf.codegen.probe import ProbeGen, uses_ctx

    if m.agg in ("hist", "lhist", "avg", "stats", "min", "max"):
        raise CodegenError(f"for over a {m.agg}() map is not supported", s.span)
    if uses_ctx(s.body):
        raise CodegenError("probe arguments cannot be used inside a for-over-map body", s.span)
    sub = ProbeGen(gen.script, gen.probe, gen.probe_id, user_space=gen.user_space_default)
    sub.ctx = False
    sub.frame = Frame(sub.em)
    sub.frame.alloc_stack(8)  # SCRATCH_SLOT
    kslot = sub.frame.alloc_stack(8)
    vslot = sub.frame.alloc_stack(8)
    ctx_slot = sub.frame.alloc_stack(8)
    # Scratch temporaries of the body go above the caller's (shared scratch variables).
    sub.scratch_top = gen.scratch_top
    kt: Type = m.key_type or UINT64
    vt: Type = INT64 if m.agg else (m.value_type or INT64)
    sub.vars = [{}]
    outer = _outer_vars(gen, s.body, s.var.name)
    written = _written(s.body)
    copies = [c for n, h in outer for c in _share(sub, n, h, n in written, s.span)]
    if gen.sys_filter:
        # A syscall wildcard program: ``probe`` reads the caller's probe id (copied in).
        sub.sys_filter, sub.filter_slot = gen.sys_filter, sub.frame.alloc_stack(8)
        copy_in = [*copies, _Copy(gen.filter_slot, sub.filter_slot, 8, False)]
    else:
        copy_in = copies
    sub.vars[0][s.var.name] = Val("kv", TupleType((kt, vt)), imm=vslot, off=kslot, owned=False)
    stop = sub.em.label("fe_stop")
    ret = sub.em.label("fe_ret")
    sub.loops = [(stop, sub.epilogue)]
    body = sub.em
    with body.at(s.span):
        sub.block(s.body)
        body.place(sub.epilogue)
        body.movi(R0, 0)
        body.ja(ret)
        body.place(stop)
        body.movi(R0, 1)
        body.place(ret)
        _copy_out(body, copies, ctx_slot)
        body.exit()
    entry = Label("foreach")
    pro = Emitter()
    with pro.at(s.span):
        pro.function(entry)
        pro.stx(8, FP, kslot, R2)
        pro.stx(8, FP, vslot, R3)
        pro.stx(8, FP, ctx_slot, R4)
        _copy_in(pro, copy_in, ctx_slot)
        if sub.uses_scratch:
            pro.sti(4, FP, SCRATCH_SLOT, 0)
            pro.ld_map(R1, gen.script.scratch_name())
            pro.mov(R2, FP)
            pro.alui(AluOp.ADD, R2, SCRATCH_SLOT)
            pro.call(Helper.MAP_LOOKUP_ELEM)
            pro.jmpi(JmpOp.JEQ, R0, 0, sub.epilogue)
            pro.stx(8, FP, SCRATCH_SLOT, R0)
    pro.join(body)
    for nested in sub.subprogs:
        pro.join(nested)
    return entry, pro


def count_callback() -> tuple[Label, Emitter]:
    """A callback that adds one to the u64 its context points at (``len(@m)``)."""
    entry = Label("len")
    em = Emitter()
    em.function(entry)
    em.ldx(8, R1, 4, 0)
    em.alui(AluOp.ADD, R1, 1)
    em.stx(8, 4, 0, R1)
    em.movi(R0, 0)
    em.exit()
    return entry, em


def map_len(gen: Any, c: ast.Call) -> Val:
    """``len(@m)``: the number of elements, counted with ``bpf_for_each_map_elem``."""
    if not c.args or not isinstance(c.args[0], ast.Map):
        raise CodegenError("len() needs a map argument", c.span)
    m = gen.script.map_for(c.args[0])
    entry, code = count_callback()
    gen.subprogs.append(code)
    slot = gen.frame.alloc_stack(8)
    gen.em.sti(8, FP, slot, 0)
    gen.frame.before_call()
    gen.em.ld_map(R1, m.name)
    gen.em.ld_func(R2, entry)
    gen.em.mov(R3, FP)
    gen.em.alui(AluOp.ADD, R3, slot)
    gen.em.movi(4, 0)
    gen.frame.call(Helper.FOR_EACH_MAP_ELEM)
    out = gen.frame.new_reg(INT64)
    gen.em.ldx(8, out.reg, FP, slot)
    return out


def kv_elem(gen: Any, home: Val, index: int, e: ast.Expr) -> Val:
    """``$kv.0`` (the key) or ``$kv.1`` (the value) inside a for-over-map body."""
    tt = home.type
    assert isinstance(tt, TupleType)
    if index not in (0, 1):
        raise CodegenError("a map element has two fields: .0 (key) and .1 (value)", e.span)
    slot = home.off if index == 0 else home.imm
    mem = Val("mem", tt, reg=-1, off=0, owned=False, base_slot=slot)
    return gen.elem_of(mem, 0, tt.elems[index])


__all__ = ["callback", "count_callback", "kv_elem", "map_len"]
