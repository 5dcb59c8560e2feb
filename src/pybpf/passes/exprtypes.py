"""Typing rules for operators, casts, field/tuple/array access, sizeof/offsetof.

Functions of the :class:`~pybpf.passes.typecheck.Checker` (split out to keep modules
small); each takes the checker, types its operands through it and returns the result type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.diag.suggest import did_you_mean
from pybpf.lang import ast
from pybpf.passes import probeargs
from pybpf.passes import types as T

if TYPE_CHECKING:
    from pybpf.passes.typecheck import Checker


def arith(chk: Checker, op: str, a: T.Type, b: T.Type, e: ast.Node) -> T.Type:
    """Result of ``a op b`` for arithmetic/bitwise operators."""
    ca, cb = T.category(a), T.category(b)
    if "none" in (ca, cb):
        return T.INT64
    if ca == "pointer" and cb == "integer" and op in ("+", "-"):
        return a
    if ca in ("integer", "pointer") and cb in ("integer", "pointer"):
        # A non-negative literal takes the other side's signedness (nsecs / 1000 is
        # unsigned), as bpftrace sizes literals to their context.
        if isinstance(e, ast.Binary | ast.Assign):
            lhs = e.left if isinstance(e, ast.Binary) else e.target
            rhs = e.right if isinstance(e, ast.Binary) else e.value
            if isinstance(rhs, ast.Integer) and rhs.value >= 0:
                b = a
            elif isinstance(lhs, ast.Integer) and lhs.value >= 0:
                a = b
        return T.promote(a, b)
    chk.error(
        f"Type mismatch for '{op}': comparing '{T.type_name(a)}' with '{T.type_name(b)}'",
        e.span,
    )
    return T.NONE


def binary(chk: Checker, e: ast.Binary) -> T.Type:
    """Binary operators."""
    a, b = chk.expr(e.left), chk.expr(e.right)
    chk.no_agg(e.left)
    chk.no_agg(e.right)
    op = e.op
    ca, cb = T.category(a), T.category(b)
    if op in ("&&", "||"):
        for x, cx in ((e.left, ca), (e.right, cb)):
            if cx not in ("integer", "pointer", "none"):
                chk.error(f"The {op} operator can not be used on expressions of type "
                           f"'{T.type_name(x.type)}'", x.span)  # fmt: skip
        return T.BOOL
    if op in ("==", "!=", "<", "<=", ">", ">="):
        if "none" in (ca, cb):
            return T.BOOL
        if ca == cb == "string":
            if op not in ("==", "!="):
                chk.error(f"The {op} operator can not be used on expressions of types "
                           f"{a}, {b}", e.span)  # fmt: skip
            return T.BOOL
        if {ca, cb} <= {"integer", "pointer"}:
            return T.BOOL
        if ca == cb and ca in ("tuple", "buffer", "record") and op in ("==", "!="):
            return T.BOOL
        chk.error(
            f"Type mismatch for '{op}': comparing '{T.type_name(a)}' with '{T.type_name(b)}'",
            e.span,
        )
        return T.BOOL
    return arith(chk, op, a, b, e)


def unary(chk: Checker, e: ast.Unary) -> T.Type:
    """``- ! ~ * &``."""
    t = chk.expr(e.operand)
    chk.no_agg(e.operand)
    c = T.category(t)
    if c == "none":
        return T.NONE
    if e.op == "*":
        if isinstance(t, T.PointerType):
            return t.target if not isinstance(t.target, T.VoidType) else T.UINT64
        if c == "integer":
            return T.UINT64
    elif e.op == "&":
        if isinstance(e.operand, ast.Variable | ast.Map | ast.MapAccess):
            return T.PointerType(t, T.AddrSpace.NONE)
        if isinstance(e.operand, ast.FieldAccess | ast.Index):
            return T.PointerType(t, T.AddrSpace.KERNEL)
    elif c in ("integer", "pointer") and not (e.op != "!" and c == "pointer"):
        if e.op == "!":
            return T.BOOL
        if e.op == "-":
            return (
                T.IntType(64, True)
                if isinstance(t, T.BoolType)
                else T.IntType(max(t.size * 8, 8) if t.size in (1, 2, 4, 8) else 64, True)
            )
        return t if isinstance(t, T.IntType) else T.UINT64
    chk.error(
        f"The {e.op} operator can not be used on expressions of type '{T.type_name(t)}'",
        e.span,
    )
    return T.NONE


def incdec(chk: Checker, e: ast.IncDec) -> T.Type:
    """``++``/``--`` on a variable or map element."""
    tgt = e.target
    if isinstance(tgt, ast.Map | ast.MapAccess):
        m = chk.map_of(tgt)
        mt = chk.maps.get(m.name)
        if mt is None or mt.value is None or isinstance(mt.value, T.NoneType):
            chk.map_store(tgt, T.INT64, e)
            return T.INT64
        t = chk.expr(tgt)
        mt.assigned = True
    elif isinstance(tgt, ast.Variable):
        t = chk.expr(tgt)
    else:
        chk.expr(tgt)
        chk.error(f"The {e.op} operator must be applied to a map or variable", e.span)
        return T.NONE
    if T.category(t) not in ("integer", "pointer", "none"):
        chk.error(f"The {e.op} operator can not be used on expressions of type "
                   f"'{T.type_name(t)}'", e.span)  # fmt: skip
        return T.NONE
    return t


def ternary(chk: Checker, e: ast.Ternary) -> T.Type:
    """``c ? a : b``: both branches of one kind."""
    ct = chk.expr(e.cond)
    if T.category(ct) not in ("integer", "pointer", "none"):
        chk.error(f"Invalid condition in ternary: {T.category(ct)}", e.span)
    a, b = chk.expr(e.then), chk.expr(e.else_)
    merged = chk.merge(a, b)
    if merged is None:
        if T.category(a) == T.category(b) == "integer":
            return T.promote(a, b)
        chk.error(
            f"Ternary operator must return the same type: have '{T.category(a)}' "
            f"and '{T.category(b)}'",
            e.span,
        )
        return T.NONE
    if T.category(merged) == "integer" and a != b:
        return T.promote(a, b)
    return merged


def cast(chk: Checker, e: ast.Cast) -> T.Type:
    """``(type)expr``: integers, pointers and int arrays."""
    src = chk.expr(e.expr)
    want = chk.types.resolve_spec(e.type_spec)
    cs = T.category(src)
    if isinstance(want, T.NoneType) or cs == "none":
        return want
    if isinstance(want, T.ArrayType):
        if (cs == "integer" and want.size == src.size) or (cs == "integer" and want.size <= 8):
            return want
        if cs in ("array", "buffer", "string") and want.size <= src.size:
            return want
        chk.error(f'Cannot cast from "{T.type_name(src)}" to "{want}"', e.span)
        return want
    if cs not in ("integer", "pointer"):
        chk.error(f'Casts are not supported for type: "{T.type_name(src)}"', e.span)
        return want
    if isinstance(want, T.StructType):
        chk.error(f'Cannot cast to "{want}"', e.span)
    return want


def field_access(chk: Checker, e: ast.FieldAccess) -> T.Type:
    """``.field`` / ``->field`` on structs, pointers to structs, records."""
    t = chk.expr(e.expr)
    if isinstance(t, T.NoneType):
        return t
    base: T.Type = t
    if isinstance(t, T.PointerType):
        # Current bpftrace dereferences struct pointers on '.' too (x.y is x->y).
        if not e.arrow and not isinstance(t.target, T.StructType | T.RecordType):
            chk.error(f"Can not access field '{e.field}' on type '{t}'. Try dereferencing "
                       "it first, or using '->'", e.span)  # fmt: skip
            return T.NONE
        base = t.target
    elif e.arrow and not isinstance(t, T.StructType | T.RecordType):
        chk.error(f"Can not access field '{e.field}' on expression of type '{T.type_name(t)}'",
                   e.span)  # fmt: skip
        return T.NONE
    if isinstance(base, T.RecordType):
        ft = base.field(e.field)
        if ft is None:
            chk.error(f"Record does not contain a field named '{e.field}'", e.span)
            return T.NONE
        return ft
    if isinstance(base, T.StructType):
        f = base.field(e.field)
        if base.origin == "args" and (f is None or isinstance(f.type, T.NoneType)):
            from pybpf.passes.uprobeargs import unsupported_param

            return _funcarg_error(chk, e, base, f is None and not unsupported_param(base, e.field))
        if f is None:
            if not base.fields and base.origin == "btf" and not base.byte_size:
                chk.error(f"Incomplete type '{base}' has no known fields", e.span)
            else:
                hints = did_you_mean(e.field, [x.name for x in base.fields])
                chk.error(f"Struct/union of type '{base}' does not contain a field named "
                           f"'{e.field}'", e.span, *hints)  # fmt: skip
            return T.NONE
        if isinstance(e.expr, ast.Builtin) and e.expr.name == "args":
            args_in_all_matches(chk, e)
        return f.type
    chk.error(f"Can not access field '{e.field}' on expression of type '{T.type_name(t)}'",
               e.span)  # fmt: skip
    return T.NONE


def _funcarg_error(chk: Checker, e: ast.FieldAccess, st: T.StructType, missing: bool) -> T.Type:
    """bpftrace's errors for function-parameter ``args`` (uprobe, fentry, raw tracepoint)."""
    if not missing:
        chk.error(f"{e.field} has unsupported type", e.span)
        return T.NONE
    hints = did_you_mean(e.field, [x.name for x in st.fields])
    chk.error(f"Can't find function parameter {e.field}", e.span, *hints)
    return T.NONE


def args_in_all_matches(chk: Checker, e: ast.FieldAccess) -> None:
    """A wildcard probe's ``args.f`` must exist in every tracepoint it matched."""
    if chk.probe is None or not chk.report:
        return
    for ap in chk.probe.attach_points:
        for m in ap.matches:
            t = chk.ctx.args_by_match.get(m)
            if t is None and ap.provider == "tracepoint" and m.count(":") == 2:
                _, cat, name = m.split(":")
                t = probeargs.tracepoint_struct(chk, cat, name)
                if t is not None:
                    chk.ctx.args_by_match[m] = t
            if isinstance(t, T.StructType) and t.field(e.field) is None:
                chk.error(f"{m} has no field named '{e.field}' (the probe's other matches "
                           "do)", e.span)  # fmt: skip
                return


def tuple_access(chk: Checker, e: ast.TupleAccess) -> T.Type:
    """``$t.N``."""
    t = chk.expr(e.expr)
    if isinstance(t, T.NoneType):
        return t
    elems = t.elems if isinstance(t, T.TupleType | T.RecordType) else None
    if elems is None:
        chk.error(f"Can not access index '{e.index}' on expression of type "
                   f"'{T.type_name(t)}'", e.span)  # fmt: skip
        return T.NONE
    if e.index >= len(elems):
        chk.error(f"Invalid tuple index: {e.index}. Found {len(elems)} elements in tuple.",
                   e.span)  # fmt: skip
        return T.NONE
    return elems[e.index]


def index(chk: Checker, e: ast.Index) -> T.Type:
    """``a[i]`` on arrays and pointers."""
    t = chk.expr(e.expr)
    it = chk.expr(e.index)
    if T.category(it) not in ("integer", "none"):
        chk.error("The array index must be an integer", e.index.span)
    if isinstance(t, T.ArrayType):
        if isinstance(e.index, ast.Integer) and not 0 <= e.index.value < t.count:
            chk.error(f"The array index {e.index.value} is out of bounds "
                       f"(array has {t.count} elements)", e.index.span)  # fmt: skip
        return t.elem
    if isinstance(t, T.PointerType):
        return t.target if not isinstance(t.target, T.VoidType) else T.UINT8
    if isinstance(t, T.StringType) or isinstance(t, T.NoneType):
        if isinstance(t, T.StringType):
            # bpftrace 0.26 indexes strings bytewise.
            return T.INT8
        return t
    chk.error(f"The array index operator [] can only be used on arrays and pointers, "
               f"found {T.category(t)}.", e.span)  # fmt: skip
    return T.NONE


def sizeof(chk: Checker, e: ast.Sizeof | ast.Offsetof) -> T.Type:
    """``sizeof``/``offsetof`` are uint64 constants, folded here (``e.value``) when the
    type is known: code generation then needs no type of its own (a uprobe's DWARF
    ``struct`` is known only to the front end)."""
    arg = e.arg
    t = chk.types.resolve_spec(arg) if isinstance(arg, ast.TypeSpec) else chk.expr(arg)
    if isinstance(e, ast.Offsetof):
        cur = t.target if isinstance(t, T.PointerType) else t
        total = 0
        for name in e.path:
            if not isinstance(cur, T.StructType):
                chk.error(f"'{T.type_name(cur)}' is not a struct or union", e.span)
                return T.UINT64
            f = cur.field(name)
            if f is None:
                chk.error(f"'{cur}' has no field named '{name}'", e.span)
                return T.UINT64
            total += f.offset
            cur = f.type
        e.value = total
    elif isinstance(arg, ast.TypeSpec) and not isinstance(t, T.NoneType) and t.size:
        # sizeof(expr) stays with code generation, which sizes some values differently.
        e.value = t.size
    return T.UINT64
