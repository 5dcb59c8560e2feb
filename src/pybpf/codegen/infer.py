"""Types for expressions the front end has not annotated (its type pass fills ``expr.type``).

Code generation needs a type for every value it stores; when ``expr.type`` is set it wins.
This fallback covers what the generator itself synthesises and scripts compiled without the
type pass, following bpftrace's rules: integers are 64-bit, comparisons are booleans
stored as 64-bit, ``comm`` is ``string[16]``, ``str()`` is ``string[max_strlen]``.
"""

from __future__ import annotations

from collections.abc import Callable

from pybpf.lang import ast
from pybpf.lang.literals import byte_len
from pybpf.passes.types import (
    BOOL,
    INT64,
    UINT8,
    UINT64,
    AggKind,
    AggType,
    ArrayType,
    InetType,
    IntType,
    OpaqueIdType,
    RecordType,
    StackType,
    StringType,
    SymbolType,
    TupleType,
    Type,
)

_UNSIGNED_BUILTINS = {
    "pid",
    "tid",
    "uid",
    "gid",
    "nsecs",
    "elapsed",
    "cpu",
    "ncpus",
    "rand",
    "cgroup",
    "curtask",
    "jiffies",
    "func",
    "retval",
}

_AGG = {k.value: k for k in AggKind}


def type_of(e: ast.Expr, max_strlen: int, var: Callable[[str], Type | None]) -> Type:
    """The type of ``e``: the front end's annotation, else bpftrace's default."""
    if e.type is not None and str(e.type) not in ("none", "void"):
        return e.type
    t = _infer(e, max_strlen, var)
    e.type = t
    return t


def _infer(e: ast.Expr, max_strlen: int, var: Callable[[str], Type | None]) -> Type:
    if isinstance(e, ast.String):
        return StringType(byte_len(e.value) + 1)
    if isinstance(e, ast.Builtin):
        if e.name == "comm":
            return StringType(16)
        if e.name == "probe":
            return OpaqueIdType("probe")
        if e.name in ("kstack", "ustack"):
            return StackType(e.name == "ustack")
        if e.name in _UNSIGNED_BUILTINS:
            return UINT64
        return INT64
    if isinstance(e, ast.Variable):
        return var(e.name) or INT64
    if isinstance(e, ast.Call):
        if e.name == "str":
            n = max_strlen
            if len(e.args) > 1 and isinstance(e.args[1], ast.Integer):
                n = min(max_strlen, e.args[1].value + 1)
            return StringType(n)
        if e.name in ("kstack", "ustack"):
            return StackType(e.name == "ustack")
        if e.name == "ntop":
            return InetType()
        if e.name == "pton":
            from pybpf.codegen.strings import pton_bytes

            return ArrayType(UINT8, len(pton_bytes(e)))
        if e.name == "strerror":
            return OpaqueIdType("strerror")
        if e.name == "ksym":
            return SymbolType("ksym")
        if e.name in _AGG:
            kind = _AGG[e.name]
            params: tuple[int, ...] = ()
            if kind is AggKind.HIST:
                params = (
                    (e.args[1].value,)
                    if len(e.args) > 1 and isinstance(e.args[1], ast.Integer)
                    else (0,)
                )
            elif kind is AggKind.LHIST:
                params = tuple(a.value for a in e.args[1:4] if isinstance(a, ast.Integer))
            return AggType(kind, INT64, params)
        return INT64
    if isinstance(e, ast.Tuple):
        return TupleType(tuple(type_of(x, max_strlen, var) for x in e.elems))
    if isinstance(e, ast.Record):
        return RecordType(
            tuple(f.name for f in e.fields),
            tuple(type_of(f.value, max_strlen, var) for f in e.fields),
        )
    if isinstance(e, ast.Ternary):
        a = type_of(e.then, max_strlen, var)
        b = type_of(e.else_, max_strlen, var)
        if a.is_string() and b.is_string():
            return StringType(max(a.size, b.size))
        return a
    if isinstance(e, ast.TupleAccess):
        tt = type_of(e.expr, max_strlen, var)
        if isinstance(tt, TupleType | RecordType) and 0 <= e.index < len(tt.elems):
            return tt.elems[e.index]
        return INT64
    if isinstance(e, ast.FieldAccess):
        rt = type_of(e.expr, max_strlen, var)
        if isinstance(rt, RecordType):
            return rt.field(e.field) or INT64
        return INT64
    if isinstance(e, ast.Binary):
        if e.op in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
            return BOOL
        lt = type_of(e.left, max_strlen, var)
        rt = type_of(e.right, max_strlen, var)
        signed = not (isinstance(lt, IntType) and not lt.signed) or not (
            isinstance(rt, IntType) and not rt.signed
        )
        return IntType(64, signed)
    return INT64


__all__ = ["type_of"]
