"""Builtin functions: argument checks and result types (``check_call``).

Messages follow bpftrace (``hist() requires one argument (0 provided)``,
``printf() expects a string literal (integer provided)``).  User ``fn`` functions are
checked here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpf.diag.suggest import did_you_mean
from pybpf.lang import ast
from pybpf.passes import printf
from pybpf.passes import types as T

if TYPE_CHECKING:
    from pybpf.passes.typecheck import Checker

AGGREGATIONS = {"count", "sum", "avg", "min", "max", "stats", "hist", "lhist"}
UNSAFE = {"system", "signal", "override", "write_user"}
_MAP_FUNCS = {"delete", "clear", "zero", "print", "len", "has_key"}
_WORDS = {0: "no arguments", 1: "one argument"}


def _n(chk: Checker, c: ast.Call, lo: int, hi: int | None = None) -> bool:
    """Check the argument count (``hi`` None: exactly ``lo``; -1: at least ``lo``)."""
    n = len(c.args)
    if hi is None and n != lo:
        want = _WORDS.get(lo, f"{lo} arguments")
        chk.error(f"{c.name}() requires {want} ({n} provided)", c.span)
        return False
    if hi == -1 and n < lo:
        want = "at least one argument" if lo == 1 else f"at least {lo} arguments"
        chk.error(f"{c.name}() requires {want} ({n} provided)", c.span)
        return False
    if hi is not None and hi >= 0 and not lo <= n <= hi:
        if n > hi:
            noun = "argument" if hi == 1 else "arguments"
            chk.error(f"{c.name}() takes up to {hi} {noun} ({n} provided)", c.span)
        else:
            chk.error(f"{c.name}() requires at least {_WORDS.get(lo, f'{lo} arguments')} "
                      f"({n} provided)", c.span)  # fmt: skip
        return False
    return True


def _literal_str(chk: Checker, c: ast.Call, i: int) -> str | None:
    a = c.args[i]
    if isinstance(a, ast.String):
        return a.value
    chk.error(f"{c.name}() expects a string literal ({T.category(a.type)} provided)", c.span)
    return None


def _literal_int(chk: Checker, c: ast.Call, i: int) -> int | None:
    a = c.args[i]
    if isinstance(a, ast.Integer):
        return a.value
    chk.error(f"{c.name}() expects an integer literal ({T.category(a.type)} provided)", c.span)
    return None


def _int_arg(chk: Checker, c: ast.Call, i: int) -> bool:
    t = c.args[i].type
    if T.category(t) not in ("integer", "pointer", "none"):
        chk.error(f"{c.name}() only supports integer arguments ({T.category(t)} provided)",
                  c.span)  # fmt: skip
        return False
    return True


def _agg(chk: Checker, c: ast.Call) -> T.Type:
    if id(c) not in chk.direct_agg:
        chk.error(f"{c.name}() should be directly assigned to a map", c.span)
        # Already reported: the value must not cause follow-on type errors.
        return T.NONE
    name = c.name
    kind = T.AggKind(name)
    if name == "count":
        _n(chk, c, 0)
        return T.AggType(kind)
    if name == "lhist":
        if not _n(chk, c, 4):
            return T.AggType(kind, T.INT64, (0, 1, 1))
        _int_arg(chk, c, 0)
        vals = [_literal_int(chk, c, i) for i in (1, 2, 3)]
        if any(v is None for v in vals):
            return T.AggType(kind, T.INT64, (0, 1, 1))
        lo, hi, step = (int(v or 0) for v in vals)
        ok = True
        if lo < 0:
            chk.error(f"lhist() min must be non-negative (provided min {lo})", c.span)
            ok = False
        if lo >= hi:
            chk.error(f"lhist() min must be less than max (provided min {lo} and max {hi})",
                      c.span)  # fmt: skip
            ok = False
        if step < 1:
            chk.error(f"lhist() step must be >= 1 ({step} provided)", c.span)
            ok = False
        elif ok and (hi - lo) // step > 10000:
            chk.error("lhist() too many buckets, will exceed 10000 "
                      f"(provided min {lo}, max {hi}, step {step})", c.span)  # fmt: skip
            ok = False
        return T.AggType(kind, T.INT64, (lo, hi, step) if ok else (0, 1, 1))
    if name == "hist":
        if not _n(chk, c, 1, 2):
            return T.AggType(kind, T.INT64, (0,))
        _int_arg(chk, c, 0)
        bits = 0
        if len(c.args) == 2:
            b = _literal_int(chk, c, 1)
            if b is not None and not 0 <= b <= 5:
                chk.error(f"hist() bits must be between 0 and 5 ({b} provided)", c.span)
            bits = b if b is not None and 0 <= b <= 5 else 0
        return T.AggType(kind, T.INT64, (bits,))
    if not _n(chk, c, 1):
        return T.AggType(kind)
    _int_arg(chk, c, 0)
    at = c.args[0].type
    elem = at if isinstance(at, T.IntType) else T.INT64
    if name in ("sum", "min", "max", "avg", "stats"):
        elem = T.IntType(64, elem.signed)
    return T.AggType(kind, elem)


def _format(chk: Checker, c: ast.Call, at_least: int = 1) -> T.Type:
    """printf/errorf/warnf/system/cat: literal format + matching arguments."""
    if not _n(chk, c, at_least, -1):
        return T.VOID
    if not isinstance(c.args[0], ast.String):
        t = T.category(c.args[0].type)
        chk.error(f"{c.name}() expects a string literal ({t} provided)", c.span)
        return T.VOID
    types = [a.type or T.NONE for a in c.args[1:]]
    if any(isinstance(t, T.NoneType) for t in types):
        return T.VOID
    for msg, _ in printf.check(c.name, c.args[0].value, types):
        chk.error(msg, c.span)
    for a in c.args[1:]:
        if isinstance(a.type, T.AggType | T.VoidType):
            chk.error(f"{c.name}() can not print a value of type '{T.type_name(a.type)}'", a.span)
    return T.VOID


def _map_func(chk: Checker, c: ast.Call) -> T.Type:
    name = c.name
    if name == "print":
        if not _n(chk, c, 1, 3):
            return T.VOID
        a = c.args[0]
        if isinstance(a, ast.Map | ast.MapAccess):
            chk.map_arg(a)
            for i in range(1, len(c.args)):
                chk.expr(c.args[i])
                _literal_int(chk, c, i)
        else:
            if len(c.args) > 1:
                chk.error("Non-map print() only takes 1 argument", c.span)
            t = chk.expr(a)
            if isinstance(t, T.VoidType):
                chk.error("print() can not print a value of type 'void'", a.span)
        return T.VOID
    if name == "delete":
        if not _n(chk, c, 1, 2):
            return T.VOID
        a = c.args[0]
        if not isinstance(a, ast.Map | ast.MapAccess):
            chk.expr(a)
            chk.error("delete() expects a map to be provided", c.span)
            return T.VOID
        if len(c.args) == 2:
            if isinstance(a, ast.MapAccess):
                chk.error("delete() with two arguments expects a map without a key", c.span)
            key = c.args[1]
            mt = chk.map_arg(a)
            kt = chk.expr(key)
            if mt is not None:
                keys = kt.elems if isinstance(kt, T.TupleType) and len(mt.keys or ()) > 1 else (kt,)
                chk.check_keys(a if isinstance(a, ast.Map) else a.map, mt, tuple(keys), c.span)
            return T.VOID
        mt = chk.map_arg(a)
        if mt is not None and isinstance(a, ast.Map) and mt.keys:
            chk.error(f"delete() on map {a.name} needs a key", c.span)
        return T.VOID
    if name in ("clear", "zero", "len"):
        if not _n(chk, c, 1):
            return T.VOID if name != "len" else T.INT64
        a = c.args[0]
        if name == "len" and isinstance(a, ast.Builtin) and a.name == "ustack":
            chk.expr(a)
            return T.INT64
        if not isinstance(a, ast.Map):
            chk.expr(a)
            chk.error(f"{name}() expects a map to be provided", c.span)
        else:
            chk.map_arg(a)
        return T.INT64 if name == "len" else T.VOID
    # has_key(@m, k)
    if not _n(chk, c, 2):
        return T.BOOL
    a = c.args[0]
    if not isinstance(a, ast.Map):
        chk.expr(a)
        chk.error("has_key() expects a map to be provided", c.span)
        return T.BOOL
    mt = chk.map_arg(a)
    kt = chk.expr(c.args[1])
    if mt is not None:
        keys = kt.elems if isinstance(kt, T.TupleType) and len(mt.keys or ()) > 1 else (kt,)
        chk.check_keys(a, mt, tuple(keys), c.span)
    return T.BOOL


def _stack(chk: Checker, c: ast.Call) -> T.Type:
    if not _n(chk, c, 0, 2):
        return T.StackType(c.name == "ustack")
    mode = T.StackMode(str(chk.ctx.config.get("stack_mode", "bpftrace")))
    limit = 127
    for a in c.args:
        if isinstance(a, ast.Identifier):
            if a.name in ("bpftrace", "perf", "raw"):
                mode = T.StackMode(a.name)
                a.type = T.VOID
            else:
                chk.error(f"Unknown stack mode: '{a.name}'", a.span)
        elif isinstance(a, ast.Integer):
            if a.value < 0 or a.value > 1024:
                chk.error(f"{c.name}([int limit]): limit shouldn't exceed 1024, {a.value} given",
                          c.span)  # fmt: skip
            limit = a.value
        else:
            chk.expr(a)
            chk.error(f"{c.name}() expects a stack mode or an integer literal", a.span)
    return T.StackType(c.name == "ustack", mode, limit)


def _simple(result: T.Type | Callable[[Checker, ast.Call], T.Type], lo: int, hi: int | None,
            kinds: str = "") -> Callable[[Checker, ast.Call], T.Type]:  # fmt: skip
    """A handler checking count and per-argument kinds ('i' int, 's' string literal, '*' any)."""

    def handler(chk: Checker, c: ast.Call) -> T.Type:
        for a in c.args:
            chk.expr(a)
            chk.no_agg(a)
        if not _n(chk, c, lo, hi):
            return result(chk, c) if callable(result) else result
        for i, k in enumerate(kinds[: len(c.args)]):
            if k == "i":
                _int_arg(chk, c, i)
            elif k == "s":
                _literal_str(chk, c, i)
            elif k == "t" and T.category(c.args[i].type) not in ("string", "none"):
                chk.error(f"{c.name}() only supports string arguments "
                          f"({T.category(c.args[i].type)} provided)", c.span)  # fmt: skip
        return result(chk, c) if callable(result) else result

    return handler


def _str_result(chk: Checker, c: ast.Call) -> T.Type:
    strlen = chk.strlen
    if len(c.args) == 2 and isinstance(c.args[1], ast.Integer):
        n = c.args[1].value
        if n < 0:
            chk.error(f"{c.name}() cannot use negative length ({n})", c.span)
        strlen = max(1, min(n + 1, strlen)) if n >= 0 else strlen
    if c.args and isinstance(c.args[0].type, T.StringType):
        return c.args[0].type
    return T.StringType(strlen)


BUF_HEADER = 4
"""Bytes of a buffer's length prefix; bpftrace's longest buffer is ``max_strlen`` minus it."""


def buf_max(chk: Checker) -> int:
    """The longest ``buf()``: ``max_strlen - 4`` (the length prefix), like bpftrace."""
    return max(chk.strlen - BUF_HEADER, 0)


def _path_result(chk: Checker, c: ast.Call) -> T.Type:
    """``path(p [, size])``: clamped by ``size``, else 1024 bytes (current bpftrace's
    max_strlen; d_path fails outright when the name does not fit)."""
    if len(c.args) == 2 and isinstance(c.args[1], ast.Integer) and c.args[1].value > 0:
        return T.StringType(min(c.args[1].value, 1024))
    return T.StringType(1024)


def _buf_result(chk: Checker, c: ast.Call) -> T.Type:
    """``buf(data[, length])``: a literal length or an array's size, else the maximum."""
    limit = buf_max(chk)
    n = limit
    if not c.args:
        return T.BufferType(n)
    data = c.args[0]
    kind = T.category(data.type)
    if kind not in ("integer", "string", "pointer", "array", "none"):
        chk.error(f"buf() expects an integer, string, or array argument but saw {kind}", c.span)
    if len(c.args) == 1:
        if isinstance(data.type, T.ArrayType):
            n = data.type.size
        elif kind != "none":
            chk.error(f"buf() expects a length argument for non-array type {kind}", c.span)
    elif isinstance(c.args[1], ast.Integer):
        n = c.args[1].value
        if n < 0:
            chk.error(f"buf cannot use negative length ({n})", c.span)
            n = 0
    return T.BufferType(min(n, limit))


def _join_result(chk: Checker, c: ast.Call) -> T.Type:
    """``join(char **argv[, sep])``: the array is a pointer (or an address)."""
    kind = T.category(c.args[0].type) if c.args else "none"
    if kind not in ("integer", "pointer", "none"):
        # bpftrace prints this message without the function name ("() only supports ...").
        chk.error(f"join() only supports int or pointer arguments ({kind} provided)", c.span)
    return T.VOID


def _pton(chk: Checker, c: ast.Call) -> T.Type:
    """``pton("addr")``: 4 bytes, or 16 for an address with a ':' (bpftrace's rule)."""
    v6 = bool(c.args) and isinstance(c.args[0], ast.String) and ":" in c.args[0].value
    return T.ArrayType(T.UINT8, 16 if v6 else 4)


def _same_int(chk: Checker, c: ast.Call) -> T.Type:
    return c.args[0].type or T.INT64 if c.args else T.INT64


def _getopt(chk: Checker, c: ast.Call) -> T.Type:
    if len(c.args) == 2:
        t = c.args[1].type or T.NONE
        if isinstance(c.args[1], ast.String):
            return T.StringType(chk.strlen)
        return t
    return T.BOOL


def _strftime(chk: Checker, c: ast.Call) -> T.Type:
    return T.TimestampType()


def _unsafe_void(chk: Checker, c: ast.Call) -> T.Type:
    return T.VOID


HANDLERS: dict[str, Callable[[Checker, ast.Call], T.Type]] = {
    "str": _simple(_str_result, 1, 2, "*i"),
    "buf": _simple(_buf_result, 1, 2, "*i"),
    "ksym": _simple(T.SymbolType("ksym"), 1, None, "i"),
    "usym": _simple(T.SymbolType("usym"), 1, None, "i"),
    "kaddr": _simple(T.UINT64, 1, None, "s"),
    "uaddr": _simple(T.PointerType(T.VOID, T.AddrSpace.USER), 1, None, "s"),
    "percpu_kaddr": _simple(T.UINT64, 1, 2, "si"),
    "cgroupid": _simple(T.UINT64, 1, None, "s"),
    "cgroup_path": _simple(T.OpaqueIdType("cgroup_path"), 1, 2, "is"),
    "ntop": _simple(T.InetType(), 1, 2, "**"),
    "pton": _simple(_pton, 1, None, "s"),
    "macaddr": _simple(T.MacAddrType(), 1, None, "*"),
    "strerror": _simple(T.OpaqueIdType("strerror"), 1, None, "i"),
    "reg": _simple(T.UINT64, 1, None, "s"),
    "exit": _simple(T.VOID, 0, 1, "i"),
    "time": _simple(T.VOID, 0, 1, "s"),
    "strftime": _simple(_strftime, 2, None, "si"),
    "join": _simple(_join_result, 1, 2, "*s"),
    "signal": _simple(_unsafe_void, 1, None, "*"),
    "override": _simple(_unsafe_void, 1, None, "i"),
    "write_user": _simple(_unsafe_void, 2, None, "*i"),
    "path": _simple(_path_result, 1, 2, "*i"),
    "strncmp": _simple(T.INT64, 3, None, "ttI"),
    "strcontains": _simple(T.BOOL, 2, None, "tt"),
    "bswap": _simple(_same_int, 1, None, "i"),
    "kptr": _simple(_same_int, 1, None, "*"),
    "uptr": _simple(_same_int, 1, None, "*"),
    "getopt": _simple(_getopt, 1, 2, "s*"),
    "socket_cookie": _simple(T.UINT64, 1, None, "*"),
    "unwatch": _simple(T.VOID, 1, None, "i"),
    "debugf": lambda chk, c: _format(chk, c),
    "skboutput": _simple(T.UINT32, 4, None, "s***"),
    "nsecs": _simple(T.UINT64, 0, 1, "*"),
    "pid": _simple(T.UINT32, 0, 1, "*"),
    "tid": _simple(T.UINT32, 0, 1, "*"),
    "offsetof": _simple(T.UINT64, 2, None, "**"),
}
KNOWN = (
    set(HANDLERS) | AGGREGATIONS | _MAP_FUNCS
    | {"printf", "errorf", "warnf", "system", "cat", "kstack", "ustack"}
)  # fmt: skip


def check_call(chk: Checker, c: ast.Call, statement: bool) -> T.Type:
    """Type a call expression."""
    name = c.name
    if name in UNSAFE and not chk.ctx.options.unsafe:
        chk.error(f"{name}() is an unsafe function being used in safe mode", c.span)
    if name in AGGREGATIONS:
        for a in c.args:
            chk.expr(a)
        return _agg(chk, c)
    if name in _MAP_FUNCS:
        return _map_func(chk, c)
    if name in ("kstack", "ustack"):
        return _stack(chk, c)
    if name in ("printf", "errorf", "warnf", "system", "cat"):
        for a in c.args:
            chk.expr(a)
            chk.no_agg(a)
        return _format(chk, c)
    if name == "strncmp" and len(c.args) == 3 and isinstance(c.args[2], ast.Integer):
        if c.args[2].value < 0:
            for a in c.args:
                chk.expr(a)
            chk.error("Builtin strncmp requires a non-negative size", c.span)
            return T.INT64
    if name in HANDLERS:
        return HANDLERS[name](chk, c)
    fn = chk.functions.get(name)
    if fn is not None:
        return _user_fn(chk, c, fn)
    for a in c.args:
        chk.expr(a)
    hints = did_you_mean(name, KNOWN | set(chk.functions))
    sp = c.span
    name_span = type(sp)(sp.file, sp.line, sp.col, sp.line, sp.col + len(name), sp.start,
                         sp.start + len(name))  # fmt: skip
    chk.error(f"Unknown function: '{name}'", name_span, *hints)
    return T.NONE


def _user_fn(chk: Checker, c: ast.Call, fn: ast.Function) -> T.Type:
    for a in c.args:
        chk.expr(a)
    if len(c.args) != len(fn.params):
        chk.error(f"Function {fn.name} requires {len(fn.params)} arguments "
                  f"({len(c.args)} provided)", c.span)  # fmt: skip
    for a, p in zip(c.args, fn.params, strict=False):
        want = chk.types.resolve_spec(p.type_spec, report=False)
        if T.category(a.type) != T.category(want) and T.category(a.type) != "none":
            chk.error(f"Function {fn.name} parameter {p.name} expects {want}, "
                      f"got {T.type_name(a.type)}", a.span)  # fmt: skip
    if fn.return_type is None:
        return T.VOID
    return chk.types.resolve_spec(fn.return_type, report=False)
