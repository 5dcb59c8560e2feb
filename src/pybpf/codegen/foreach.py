# mypy: disable-error-code="no-any-return"
"""``for ($kv : @map) { body }`` as a ``bpf_for_each_map_elem`` callback subprogram.

The body becomes a separate BPF function (its own frame), called by the kernel once per
element with r2 = key pointer and r3 = value pointer; the generator keeps both on the
callback's stack and ``$kv.0`` / ``$kv.1`` read through them. ``break`` returns 1 (stop),
``continue`` and the end of the body return 0. The body may use maps, builtins and events;
variables of the enclosing probe are not visible inside it (yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpf.asm.opcodes import AluOp, JmpOp
from pybpf.codegen.emit import FP, R0, R1, R2, R3, Emitter, Label
from pybpf.codegen.frame import CodegenError, Frame, Val
from pybpf.codegen.helpers import Helper
from pybpf.codegen.memory import SCRATCH_SLOT
from pybpf.lang import ast
from pybpf.passes.types import INT64, UINT64, TupleType, Type

if TYPE_CHECKING:
    from pybpf.codegen.probe import ProbeGen
    from pybpf.codegen.spec import MapDef


def _outer_vars(body: ast.Block, kv: str) -> list[ast.Variable]:
    declared = {kv}
    for n in ast.walk(body):
        if isinstance(n, ast.Assign) and isinstance(n.target, ast.Variable):
            declared.add(n.target.name)
        elif isinstance(n, ast.VarDecl):
            declared.add(n.var.name)
    return [n for n in ast.walk(body) if isinstance(n, ast.Variable) and n.name not in declared]


def callback(gen: ProbeGen, s: ast.For, m: MapDef) -> tuple[Label, Emitter]:
    """Generate the callback for ``s`` over map ``m``; returns its entry label and code."""
    from pybpf.codegen.probe import ProbeGen, uses_ctx

    if m.agg in ("hist", "lhist", "avg", "stats", "min", "max"):
        raise CodegenError(f"for over a {m.agg}() map is not supported", s.span)
    if uses_ctx(s.body):
        raise CodegenError("probe arguments cannot be used inside a for-over-map body", s.span)
    outer = _outer_vars(s.body, s.var.name)
    if outer:
        raise CodegenError(
            f"variable {outer[0].name} of the enclosing probe cannot be used in this loop body",
            outer[0].span,
        )
    sub = ProbeGen(gen.script, gen.probe, gen.probe_id, user_space=gen.user_space_default)
    sub.ctx = False
    sub.frame = Frame(sub.em)
    sub.frame.alloc_stack(8)  # SCRATCH_SLOT
    kslot = sub.frame.alloc_stack(8)
    vslot = sub.frame.alloc_stack(8)
    kt: Type = m.key_type or UINT64
    vt: Type = INT64 if m.agg else (m.value_type or INT64)
    home = Val("kv", TupleType((kt, vt)), imm=vslot, off=kslot, owned=False)
    sub.vars = [{s.var.name: home}]
    stop = sub.em.label("fe_stop")
    sub.loops = [(stop, sub.epilogue)]
    body = sub.em
    with body.at(s.span):
        sub.block(s.body)
        body.place(sub.epilogue)
        body.movi(R0, 0)
        body.exit()
        body.place(stop)
        body.movi(R0, 1)
        body.exit()
    entry = Label("foreach")
    pro = Emitter()
    with pro.at(s.span):
        pro.function(entry)
        pro.stx(8, FP, kslot, R2)
        pro.stx(8, FP, vslot, R3)
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
