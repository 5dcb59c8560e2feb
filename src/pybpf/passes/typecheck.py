"""Type inference and checking: sets ``expr.type`` on every expression.

Rules follow bpftrace: integer literals are ``int64`` (``uint64`` past INT64_MAX);
arithmetic widens to 64 bits and is unsigned only when both sides are; comparisons and
logical operators give ``bool``; string literals are ``string[len+1]``; a map's key and value
types are fixed by its first assignment and every later use must agree (across probes);
aggregations (``count()`` ...) must be assigned directly to a map.

Maps may be read in a probe before the probe that assigns them, so the pass runs twice: a
quiet round that learns map types, then a reporting round.  Results for later passes:
``checker.maps`` (name -> :class:`MapTypes`) and the ``type`` of every expression.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from pybpf.lang import ast
from pybpf.passes import builtins, cdecl, probeargs
from pybpf.passes import types as T
from pybpf.passes.context import PassContext

INT64_MAX = (1 << 63) - 1


@dataclass
class MapTypes:
    """What the checker learned about one map."""

    name: str
    keys: tuple[T.Type, ...] | None = None
    value: T.Type | None = None
    assigned: bool = False
    first_span: object = None
    decl: ast.MapDecl | None = None
    uses: list[ast.Expr] = field(default_factory=list)


class Checker:
    """One type-checking round over the program."""

    def __init__(self, program: ast.Program, ctx: PassContext, report: bool,
                 maps: dict[str, MapTypes]) -> None:  # fmt: skip
        self.program = program
        self.ctx = ctx
        self.report = report
        self.maps = maps
        self.scopes: list[dict[str, T.Type]] = []
        self.probe: ast.Probe | None = None
        self.func: ast.Function | None = None
        self.types = cdecl.TypeResolver(program, ctx)
        self.types.quiet = not report
        self.functions = {f.name: f for f in program.functions}
        self.strlen = int(ctx.config.get("max_strlen", 64))
        self.direct_agg: set[int] = set()

    # ------------------------------------------------------------ reporting

    def error(self, msg: str, span: object, *hints: str) -> None:
        """Report an error in the reporting round only."""
        if self.report:
            self.ctx.diags.error(msg, span, *hints)  # type: ignore[arg-type]

    def warning(self, msg: str, span: object) -> None:
        """Report a warning in the reporting round only."""
        if self.report:
            self.ctx.diags.warning(msg, span)  # type: ignore[arg-type]

    # ------------------------------------------------------------ scopes

    def lookup(self, name: str) -> T.Type | None:
        """The type of variable ``name`` in the enclosing scopes."""
        for s in reversed(self.scopes):
            if name in s:
                return s[name]
        return None

    def bind(self, name: str, t: T.Type, here: bool = False) -> None:
        """Set a variable's type where it lives; new ones go to the probe scope
        (``here``: the current block, for ``let``)."""
        if not here:
            for s in reversed(self.scopes):
                if name in s:
                    s[name] = t
                    return
        self.scopes[-1 if here else 0][name] = t

    # ------------------------------------------------------------ program

    def run(self) -> None:
        """Check every function and probe."""
        for d in self.program.map_decls:
            mt = self.maps.setdefault(d.map.name, MapTypes(d.map.name))
            mt.decl = d
        for f in self.program.functions:
            self.func = f
            self.scopes = [{p.name: self.types.resolve_spec(p.type_spec) for p in f.params}]
            self.stmts(f.body.stmts)
            self.func = None
        for p in self.program.probes:
            self.probe = p
            self.scopes = [{}]
            if p.predicate is not None:
                t = self.expr(p.predicate)
                self.condition(t, p.predicate, "predicate")
            self.stmts(p.body.stmts)
        self.probe = None

    def providers(self) -> list[str]:
        """Providers of the current probe's attach points."""
        if self.probe is None:
            return []
        return [ap.provider for ap in self.probe.attach_points]

    def condition(self, t: T.Type, e: ast.Expr, where: str) -> None:
        """Check that ``t`` can be a condition."""
        if T.category(t) not in ("integer", "pointer", "none"):
            self.error(f"Invalid condition in {where}: {T.category(t)}", e.span)

    # ------------------------------------------------------------ statements

    def stmts(self, stmts: list[ast.Stmt]) -> None:
        """Check statements in a new scope."""
        self.scopes.append({})
        try:
            for s in stmts:
                self.stmt(s)
        finally:
            self.scopes.pop()

    def stmt(self, s: ast.Stmt) -> None:
        """Check one statement."""
        if isinstance(s, ast.ExprStmt):
            self.expr(s.expr, statement=True)
        elif isinstance(s, ast.Assign):
            self.assign(s)
        elif isinstance(s, ast.VarDecl):
            self.var_decl(s)
        elif isinstance(s, ast.If):
            self.condition(self.expr(s.cond), s.cond, "if()")
            self.stmts(s.then.stmts)
            if isinstance(s.else_, ast.If):
                self.stmt(s.else_)
            elif s.else_ is not None:
                self.stmts(s.else_.stmts)
        elif isinstance(s, ast.While):
            self.condition(self.expr(s.cond), s.cond, "while()")
            self.stmts(s.body.stmts)
        elif isinstance(s, ast.Unroll):
            self.unroll(s)
        elif isinstance(s, ast.For):
            self.for_loop(s)
        elif isinstance(s, ast.Jump):
            self.jump(s)
        elif isinstance(s, ast.Block):
            self.stmts(s.stmts)

    def unroll(self, s: ast.Unroll) -> None:
        """``unroll(n)``: n must be a literal in 1..100."""
        self.expr(s.count)
        if not isinstance(s.count, ast.Integer):
            self.error("unroll() expects an integer literal", s.count.span)
        elif s.count.value > 100:
            self.error("unroll maximum value is 100", s.span.to(s.count.span))
        elif s.count.value < 1:
            self.error("unroll minimum value is 1", s.span.to(s.count.span))
        self.stmts(s.body.stmts)

    def for_loop(self, s: ast.For) -> None:
        """``for ($kv : @map)`` binds a (key, value) tuple; ``for ($i : a..b)`` an int."""
        it = s.iterable
        vt: T.Type
        if isinstance(it, ast.Range):
            a, b = self.expr(it.start), self.expr(it.end)
            for e, t in ((it.start, a), (it.end, b)):
                if T.category(t) != "integer":
                    self.error(f"Loop range requires an integer, got {T.type_name(t)}", e.span)
            vt = T.promote(a, b)
            it.type = vt
        elif isinstance(it, ast.Map):
            mt = self.maps.get(it.name)
            self.expr(it, for_iter=True)
            if mt is None or not mt.assigned:
                vt = T.NONE
            else:
                key: T.Type = T.NONE
                if mt.keys:
                    key = mt.keys[0] if len(mt.keys) == 1 else T.TupleType(mt.keys)
                elif mt.keys is not None:
                    self.error("Loop expression must be a map with keys", it.span)
                vt = T.TupleType((key, mt.value or T.NONE))
        else:
            self.expr(it)
            self.error("Loop expression must be a map or a range", it.span)
            vt = T.NONE
        s.var.type = vt
        self.scopes.append({s.var.name: vt})
        try:
            self.stmts(s.body.stmts)
        finally:
            self.scopes.pop()

    def jump(self, s: ast.Jump) -> None:
        """``return`` checks the function's return type."""
        if s.value is not None:
            t = self.expr(s.value)
            if self.func is not None and self.func.return_type is not None:
                want = self.types.resolve_spec(self.func.return_type)
                if T.category(want) != T.category(t):
                    self.error(
                        f"Function {self.func.name} is of type {want}, cannot return {t}",
                        s.value.span,
                    )
            elif self.func is None:
                self.error("return with a value is only allowed in functions", s.span)

    def var_decl(self, s: ast.VarDecl) -> None:
        """``let $x[: type] [= value]``."""
        t: T.Type = T.NONE
        if s.type_spec is not None:
            t = self.types.resolve_spec(s.type_spec)
        if s.value is not None:
            vt = self.expr(s.value)
            self.no_agg(s.value)
            if s.type_spec is None:
                t = vt
            elif T.category(vt) != T.category(t) and T.category(vt) != "none":
                self.error(
                    f"Type mismatch for {s.var.name}: trying to assign value of type "
                    f"'{T.type_name(vt)}' when variable already has a type '{T.type_name(t)}'",
                    s.value.span,
                )
        s.var.type = t
        self.bind(s.var.name, t, here=True)

    def no_agg(self, e: ast.Expr) -> None:
        """Aggregation calls may only be assigned directly to maps.

        The aggregation's own check reports misuse (it knows whether it was assigned
        directly); this hook stays for call sites that want to state the rule.
        """

    def assign(self, s: ast.Assign) -> None:
        """Assignments to variables, maps and map elements (plain and compound)."""
        target = s.target
        if s.op is not None:
            self.compound(s)
            return
        if isinstance(target, ast.Variable):
            vt = self.expr(s.value)
            self.no_agg(s.value)
            if isinstance(vt, T.DataLocType):
                vt = vt.elem  # a __data_loc field is read out as its (string) value
            old = self.lookup(target.name)
            if old is not None and not isinstance(old, T.NoneType):
                merged = self.merge(old, vt)
                if merged is None:
                    self.mismatch_var(target.name, old, vt, s.value)
                    merged = old
                vt = merged
            if isinstance(vt, T.VoidType):
                self.error("Value of void type can not be assigned", s.value.span)
            target.type = vt
            self.bind(target.name, vt)
        elif isinstance(target, ast.Map | ast.MapAccess):
            if isinstance(s.value, ast.Call) and s.value.name in builtins.AGGREGATIONS:
                self.direct_agg.add(id(s.value))
            vt = self.expr(s.value)
            self.map_store(target, vt, s.value)
        else:
            self.expr(target)
            self.expr(s.value)
            self.error("Only variables and maps can be assigned to", target.span)

    def mismatch_var(self, name: str, old: T.Type, new: T.Type, where: ast.Expr) -> None:
        """Report an incompatible variable assignment."""
        if isinstance(old, T.TupleType) and isinstance(new, T.TupleType):
            self.error(f"Tuple type mismatch: {old} != {new}.", where.span)
            return
        self.error(
            f"Type mismatch for {name}: trying to assign value of type '{T.type_name(new)}' "
            f"when variable already contains a value of type '{T.type_name(old)}'",
            where.span,
        )

    def compound(self, s: ast.Assign) -> None:
        """``x op= v`` is ``x = x op v``."""
        assert s.op is not None
        tt = self.expr(s.target)
        vt = self.expr(s.value)
        self.no_agg(s.value)
        if isinstance(tt, T.AggType):
            self.error(f"Type mismatch for '{s.op}': comparing '{T.type_name(tt)}' with "
                       f"'{T.type_name(vt)}'", s.span)  # fmt: skip
            return
        r = self.arith(s.op, tt, vt, s)
        if isinstance(s.target, ast.Map | ast.MapAccess):
            self.map_store(s.target, r if isinstance(tt, T.NoneType) else tt, s.value)

    def merge(self, old: T.Type, new: T.Type) -> T.Type | None:
        """The type that holds both ``old`` and ``new`` values, or None if incompatible."""
        if isinstance(new, T.NoneType) or old == new:
            return old
        if isinstance(old, T.NoneType):
            return new
        co, cn = T.category(old), T.category(new)
        if co == cn == "integer":
            return old if old.size >= new.size else T.IntType(64, T.is_signed(old))
        if co == cn == "string":
            return T.StringType(max(old.size, new.size)) if isinstance(old, T.StringType) else old
        if co == cn == "buffer":
            assert isinstance(old, T.BufferType) and isinstance(new, T.BufferType)
            return T.BufferType(max(old.length, new.length))
        if isinstance(old, T.TupleType) and isinstance(new, T.TupleType):
            if len(old.elems) != len(new.elems):
                return None
            elems = []
            for a, b in zip(old.elems, new.elems, strict=True):
                m = self.merge(a, b)
                if m is None:
                    return None
                elems.append(m)
            return T.TupleType(tuple(elems))
        if isinstance(old, T.RecordType) and isinstance(new, T.RecordType):
            if old.names != new.names:
                return None
            m2 = self.merge(old.as_tuple(), new.as_tuple())
            return None if m2 is None else T.RecordType(old.names, m2.elems)  # type: ignore[attr-defined]
        if co == cn == "pointer":
            return old
        if isinstance(old, T.AggType) and isinstance(new, T.AggType):
            return old if (old.kind, old.params) == (new.kind, new.params) else None
        if type(old) is type(new):
            return old
        return None

    # ------------------------------------------------------------ maps

    def map_keys(self, target: ast.Map | ast.MapAccess) -> tuple[T.Type, ...]:
        """Types of the key expressions (empty for a scalar map)."""
        if isinstance(target, ast.MapAccess):
            out = []
            for k in target.keys:
                kt = self.expr(k)
                self.no_agg(k)
                if isinstance(kt, T.StringType) and isinstance(k, ast.String):
                    kt = T.StringType(self.strlen)
                out.append(kt)
            return tuple(out)
        return ()

    def map_of(self, target: ast.Map | ast.MapAccess) -> ast.Map:
        """The :class:`Map` node of a map expression."""
        return target if isinstance(target, ast.Map) else target.map

    def check_keys(self, m: ast.Map, mt: MapTypes, keys: tuple[T.Type, ...], span: object) -> None:
        """Keys must agree in number and kind with earlier uses."""
        if mt.keys is None:
            mt.keys = keys
            return
        ok = len(mt.keys) == len(keys)
        merged = []
        if ok:
            for a, b in zip(mt.keys, keys, strict=True):
                c = self.merge(a, b)
                if c is None:
                    ok = False
                    break
                merged.append(c)
        if not ok:
            have = ", ".join(str(k) for k in keys)
            want = ", ".join(str(k) for k in mt.keys)
            self.error(
                f"Argument mismatch for {m.name}: trying to access with arguments: [{have}] "
                f"when map expects arguments: [{want}]",
                span,
            )
            return
        mt.keys = tuple(merged)

    def map_store(self, target: ast.Map | ast.MapAccess, vt: T.Type, value: ast.Expr) -> None:
        """Record/verify a map's value type on assignment."""
        if isinstance(vt, T.DataLocType):
            vt = vt.elem
        m = self.map_of(target)
        mt = self.maps.setdefault(m.name, MapTypes(m.name))
        self.check_keys(m, mt, self.map_keys(target), target.span)
        if isinstance(vt, T.StringType) and isinstance(value, ast.String):
            vt = T.StringType(max(vt.length, 1))
        if isinstance(vt, T.VoidType):
            self.error("Value of void type can not be assigned", value.span)
            vt = T.NONE
        if mt.value is None or isinstance(mt.value, T.NoneType):
            mt.value = vt
        elif not isinstance(vt, T.NoneType):
            merged = self.merge(mt.value, vt)
            if merged is None:
                self.error(
                    f"Type mismatch for {m.name}: trying to assign value of type "
                    f"'{T.type_name(vt)}' when map already contains a value of type "
                    f"'{T.type_name(mt.value)}'",
                    m.span,
                )
            else:
                mt.value = merged
        mt.assigned = True
        m.type = mt.value
        target.type = mt.value

    def map_load(self, target: ast.Map | ast.MapAccess, for_iter: bool = False) -> T.Type:
        """Type of reading a map (element)."""
        m = self.map_of(target)
        mt = self.maps.get(m.name)
        keys = self.map_keys(target)
        if mt is None or (not mt.assigned and mt.decl is None):
            self.error(f"Undefined map: {m.name}", target.span)
            return T.NONE
        if not for_iter:
            self.check_keys(m, mt, keys, target.span)
        m.type = mt.value
        return mt.value or T.NONE

    def map_arg(self, e: ast.Expr) -> MapTypes | None:
        """A whole-map argument (``print(@m)``, ``clear(@m)``): no key check."""
        m = self.map_of(e) if isinstance(e, ast.Map | ast.MapAccess) else None
        if m is None:
            return None
        keys = self.map_keys(e) if isinstance(e, ast.MapAccess) else ()
        mt = self.maps.get(m.name)
        if mt is None or (not mt.assigned and mt.decl is None):
            self.error(f"Undefined map: {m.name}", e.span)
            return None
        if isinstance(e, ast.MapAccess):
            self.check_keys(m, mt, keys, e.span)
        m.type = mt.value
        e.type = mt.value
        return mt

    # ------------------------------------------------------------ expressions

    def expr(self, e: ast.Expr, statement: bool = False, for_iter: bool = False) -> T.Type:
        """Infer (and store) the type of ``e``."""
        t = self._expr(e, statement, for_iter)
        e.type = t
        return t

    def _expr(self, e: ast.Expr, statement: bool, for_iter: bool) -> T.Type:
        if isinstance(e, ast.Integer):
            return T.UINT64 if e.value > INT64_MAX else T.INT64
        if isinstance(e, ast.String):
            return T.StringType(len(e.value.encode()) + 1)
        if isinstance(e, ast.Boolean):
            return T.BOOL
        if isinstance(e, ast.Variable):
            # Undefined variables are the scopes pass's to report.
            return self.lookup(e.name) or T.NONE
        if isinstance(e, ast.Map | ast.MapAccess):
            return self.map_load(e, for_iter)
        if isinstance(e, ast.Builtin):
            return probeargs.builtin_type(self, e)
        if isinstance(e, ast.Identifier):
            return self.identifier(e)
        if isinstance(e, ast.Call):
            return builtins.check_call(self, e, statement)
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.Unary):
            return self.unary(e)
        if isinstance(e, ast.IncDec):
            return self.incdec(e)
        if isinstance(e, ast.Ternary):
            return self.ternary(e)
        if isinstance(e, ast.Cast):
            return self.cast(e)
        if isinstance(e, ast.FieldAccess):
            return self.field_access(e)
        if isinstance(e, ast.TupleAccess):
            return self.tuple_access(e)
        if isinstance(e, ast.Index):
            return self.index(e)
        if isinstance(e, ast.Tuple):
            elems = []
            for x in e.elems:
                xt = self.expr(x)
                self.no_agg(x)
                elems.append(xt)
            return T.TupleType(tuple(elems))
        if isinstance(e, ast.Record):
            names = tuple(f.name for f in e.fields)
            if len(set(names)) != len(names):
                self.error("Record has duplicate field names", e.span)
            return T.RecordType(names, tuple(self.expr(f.value) for f in e.fields))
        if isinstance(e, ast.Sizeof | ast.Offsetof):
            return self.sizeof(e)
        if isinstance(e, ast.BlockExpr):
            self.scopes.append({})
            try:
                for s in e.stmts:
                    self.stmt(s)
                return self.expr(e.value) if e.value is not None else T.VOID
            finally:
                self.scopes.pop()
        if isinstance(e, ast.Range):
            self.error("A range is only allowed in a for loop", e.span)
            return T.NONE
        if isinstance(e, ast.PositionalParam | ast.ParamCount):
            return T.INT64
        return T.NONE

    def identifier(self, e: ast.Identifier) -> T.Type:
        """Enum constants (script, then kernel BTF), then well-known header macros."""
        v = self.types.enum_value(e.name)
        if v is not None:
            return v[1]
        self.error(f"Unknown identifier: '{e.name}'", e.span)
        return T.NONE

    def arith(self, op: str, a: T.Type, b: T.Type, e: ast.Node) -> T.Type:
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
        self.error(
            f"Type mismatch for '{op}': comparing '{T.type_name(a)}' with '{T.type_name(b)}'",
            e.span,
        )
        return T.NONE

    def binary(self, e: ast.Binary) -> T.Type:
        """Binary operators."""
        a, b = self.expr(e.left), self.expr(e.right)
        self.no_agg(e.left)
        self.no_agg(e.right)
        op = e.op
        ca, cb = T.category(a), T.category(b)
        if op in ("&&", "||"):
            for x, cx in ((e.left, ca), (e.right, cb)):
                if cx not in ("integer", "pointer", "none"):
                    self.error(f"The {op} operator can not be used on expressions of type "
                               f"'{T.type_name(x.type)}'", x.span)  # fmt: skip
            return T.BOOL
        if op in ("==", "!=", "<", "<=", ">", ">="):
            if "none" in (ca, cb):
                return T.BOOL
            if ca == cb == "string":
                if op not in ("==", "!="):
                    self.error(f"The {op} operator can not be used on expressions of types "
                               f"{a}, {b}", e.span)  # fmt: skip
                return T.BOOL
            if {ca, cb} <= {"integer", "pointer"}:
                return T.BOOL
            if ca == cb and ca in ("tuple", "buffer", "record") and op in ("==", "!="):
                return T.BOOL
            self.error(
                f"Type mismatch for '{op}': comparing '{T.type_name(a)}' with '{T.type_name(b)}'",
                e.span,
            )
            return T.BOOL
        return self.arith(op, a, b, e)

    def unary(self, e: ast.Unary) -> T.Type:
        """``- ! ~ * &``."""
        t = self.expr(e.operand)
        self.no_agg(e.operand)
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
        self.error(
            f"The {e.op} operator can not be used on expressions of type '{T.type_name(t)}'",
            e.span,
        )
        return T.NONE

    def incdec(self, e: ast.IncDec) -> T.Type:
        """``++``/``--`` on a variable or map element."""
        tgt = e.target
        if isinstance(tgt, ast.Map | ast.MapAccess):
            m = self.map_of(tgt)
            mt = self.maps.get(m.name)
            if mt is None or mt.value is None or isinstance(mt.value, T.NoneType):
                self.map_store(tgt, T.INT64, e)
                return T.INT64
            t = self.expr(tgt)
            mt.assigned = True
        elif isinstance(tgt, ast.Variable):
            t = self.expr(tgt)
        else:
            self.expr(tgt)
            self.error(f"The {e.op} operator must be applied to a map or variable", e.span)
            return T.NONE
        if T.category(t) not in ("integer", "pointer", "none"):
            self.error(f"The {e.op} operator can not be used on expressions of type "
                       f"'{T.type_name(t)}'", e.span)  # fmt: skip
            return T.NONE
        return t

    def ternary(self, e: ast.Ternary) -> T.Type:
        """``c ? a : b``: both branches of one kind."""
        ct = self.expr(e.cond)
        if T.category(ct) not in ("integer", "pointer", "none"):
            self.error(f"Invalid condition in ternary: {T.category(ct)}", e.span)
        a, b = self.expr(e.then), self.expr(e.else_)
        merged = self.merge(a, b)
        if merged is None:
            if T.category(a) == T.category(b) == "integer":
                return T.promote(a, b)
            self.error(
                f"Ternary operator must return the same type: have '{T.category(a)}' "
                f"and '{T.category(b)}'",
                e.span,
            )
            return T.NONE
        if T.category(merged) == "integer" and a != b:
            return T.promote(a, b)
        return merged

    def cast(self, e: ast.Cast) -> T.Type:
        """``(type)expr``: integers, pointers and int arrays."""
        src = self.expr(e.expr)
        want = self.types.resolve_spec(e.type_spec)
        cs = T.category(src)
        if isinstance(want, T.NoneType) or cs == "none":
            return want
        if isinstance(want, T.ArrayType):
            if (cs == "integer" and want.size == src.size) or (cs == "integer" and want.size <= 8):
                return want
            if cs in ("array", "buffer", "string") and want.size <= src.size:
                return want
            self.error(f'Cannot cast from "{T.type_name(src)}" to "{want}"', e.span)
            return want
        if cs not in ("integer", "pointer"):
            self.error(f'Casts are not supported for type: "{T.type_name(src)}"', e.span)
            return want
        if isinstance(want, T.StructType):
            self.error(f'Cannot cast to "{want}"', e.span)
        return want

    def field_access(self, e: ast.FieldAccess) -> T.Type:
        """``.field`` / ``->field`` on structs, pointers to structs, records."""
        t = self.expr(e.expr)
        if isinstance(t, T.NoneType):
            return t
        base: T.Type = t
        if isinstance(t, T.PointerType):
            if not e.arrow:
                self.error(f"Can not access field '{e.field}' on type '{t}'. Try dereferencing "
                           "it first, or using '->'", e.span)  # fmt: skip
                return T.NONE
            base = t.target
        elif e.arrow and not isinstance(t, T.StructType | T.RecordType):
            self.error(f"Can not access field '{e.field}' on expression of type '{T.type_name(t)}'",
                       e.span)  # fmt: skip
            return T.NONE
        if isinstance(base, T.RecordType):
            ft = base.field(e.field)
            if ft is None:
                self.error(f"Record does not contain a field named '{e.field}'", e.span)
                return T.NONE
            return ft
        if isinstance(base, T.StructType):
            f = base.field(e.field)
            if f is None:
                if not base.fields and base.origin == "btf" and not base.byte_size:
                    self.error(f"Incomplete type '{base}' has no known fields", e.span)
                else:
                    close = difflib.get_close_matches(e.field, [x.name for x in base.fields], 1)
                    hints = [f"Did you mean '{close[0]}'?"] if close else []
                    self.error(f"Struct/union of type '{base}' does not contain a field named "
                               f"'{e.field}'", e.span, *hints)  # fmt: skip
                return T.NONE
            if isinstance(e.expr, ast.Builtin) and e.expr.name == "args":
                self.args_in_all_matches(e)
            return f.type
        self.error(f"Can not access field '{e.field}' on expression of type '{T.type_name(t)}'",
                   e.span)  # fmt: skip
        return T.NONE

    def args_in_all_matches(self, e: ast.FieldAccess) -> None:
        """A wildcard probe's ``args.f`` must exist in every tracepoint it matched."""
        if self.probe is None or not self.report:
            return
        for ap in self.probe.attach_points:
            for m in ap.matches:
                t = self.ctx.args_by_match.get(m)
                if t is None and ap.provider == "tracepoint" and m.count(":") == 2:
                    _, cat, name = m.split(":")
                    t = probeargs.tracepoint_struct(self, cat, name)
                    if t is not None:
                        self.ctx.args_by_match[m] = t
                if isinstance(t, T.StructType) and t.field(e.field) is None:
                    self.error(f"{m} has no field named '{e.field}' (the probe's other matches "
                               "do)", e.span)  # fmt: skip
                    return

    def tuple_access(self, e: ast.TupleAccess) -> T.Type:
        """``$t.N``."""
        t = self.expr(e.expr)
        if isinstance(t, T.NoneType):
            return t
        elems = t.elems if isinstance(t, T.TupleType | T.RecordType) else None
        if elems is None:
            self.error(f"Can not access index '{e.index}' on expression of type "
                       f"'{T.type_name(t)}'", e.span)  # fmt: skip
            return T.NONE
        if e.index >= len(elems):
            self.error(f"Invalid tuple index: {e.index}. Found {len(elems)} elements in tuple.",
                       e.span)  # fmt: skip
            return T.NONE
        return elems[e.index]

    def index(self, e: ast.Index) -> T.Type:
        """``a[i]`` on arrays and pointers."""
        t = self.expr(e.expr)
        it = self.expr(e.index)
        if T.category(it) not in ("integer", "none"):
            self.error("The array index must be an integer", e.index.span)
        if isinstance(t, T.ArrayType):
            if isinstance(e.index, ast.Integer) and not 0 <= e.index.value < t.count:
                self.error(f"The array index {e.index.value} is out of bounds "
                           f"(array has {t.count} elements)", e.index.span)  # fmt: skip
            return t.elem
        if isinstance(t, T.PointerType):
            return t.target if not isinstance(t.target, T.VoidType) else T.UINT8
        if isinstance(t, T.StringType) or isinstance(t, T.NoneType):
            if isinstance(t, T.StringType):
                # bpftrace 0.26 indexes strings bytewise.
                return T.INT8
            return t
        self.error(f"The array index operator [] can only be used on arrays and pointers, "
                   f"found {T.category(t)}.", e.span)  # fmt: skip
        return T.NONE

    def sizeof(self, e: ast.Sizeof | ast.Offsetof) -> T.Type:
        """``sizeof``/``offsetof`` are uint64 constants."""
        arg = e.arg
        t = self.types.resolve_spec(arg) if isinstance(arg, ast.TypeSpec) else self.expr(arg)
        if isinstance(e, ast.Offsetof):
            cur = t.target if isinstance(t, T.PointerType) else t
            for name in e.path:
                if not isinstance(cur, T.StructType):
                    self.error(f"'{T.type_name(cur)}' is not a struct or union", e.span)
                    return T.UINT64
                f = cur.field(name)
                if f is None:
                    self.error(f"'{cur}' has no field named '{name}'", e.span)
                    return T.UINT64
                cur = f.type
        return T.UINT64


def run(program: ast.Program, ctx: PassContext) -> dict[str, MapTypes]:
    """Type-check ``program``; returns the map table (also kept for the resources pass)."""
    maps: dict[str, MapTypes] = {}
    for report in (False, True):
        Checker(program, ctx, report, maps).run()
    ctx.map_types = maps
    return maps
