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

from pybpf.diag.suggest import did_you_mean
from pybpf.lang import ast
from pybpf.lang.exprparse import BUILTINS
from pybpf.lang.literals import byte_len
from pybpf.passes import builtins, cdecl, exprtypes, probeargs
from pybpf.passes import types as T
from pybpf.passes.context import PassContext
from pybpf.records import dataclass, field

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
        #: Per scope, the node that declared each variable (a ``let``'s or the first
        #: assignment's ``$x``): it gets the variable's final type, which code generation
        #: gives the variable's home (``let $x;`` is typed by its first assignment).
        self.homes: list[dict[str, ast.Variable]] = []
        self.probe: ast.Probe | None = None
        self.func: ast.Function | None = None
        self.types = cdecl.TypeResolver(program, ctx)
        self.types.quiet = not report
        self.functions = {f.name: f for f in program.functions}
        self.strlen = int(ctx.config.get("max_strlen", 1024))
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

    def bind(
        self, name: str, t: T.Type, here: bool = False, node: ast.Variable | None = None
    ) -> None:
        """Set a variable's type where it lives; a new one (or a ``let``: ``here``) lives
        in the current block, as variables are block scoped (see :mod:`.scopes`).
        ``node`` is the ``$x`` of the statement, the declaring one for a new variable."""
        if not here:
            for s, h in zip(reversed(self.scopes), reversed(self.homes), strict=True):
                if name in s:
                    s[name] = t
                    decl = h.get(name)
                    if decl is not None:
                        decl.type = t
                    return
        self.scopes[-1][name] = t
        if node is not None:
            self.homes[-1][name] = node

    def push(self, names: dict[str, T.Type] | None = None) -> None:
        """Enter a block."""
        self.scopes.append(dict(names or {}))
        self.homes.append({})

    def pop(self) -> None:
        """Leave a block."""
        self.scopes.pop()
        self.homes.pop()

    # ------------------------------------------------------------ program

    def run(self) -> None:
        """Check every function and probe."""
        for d in self.program.map_decls:
            mt = self.maps.setdefault(d.map.name, MapTypes(d.map.name))
            mt.decl = d
        for f in self.program.functions:
            self.func = f
            self.scopes, self.homes = [], []
            self.push({p.name: self.types.resolve_spec(p.type_spec) for p in f.params})
            self.stmts(f.body.stmts)
            self.func = None
        from pybpf.passes.uprobeargs import struct_resolver

        for p in self.program.probes:
            self.probe = p
            # Struct names in uprobes also mean the target binary's DWARF structs.
            self.types.user_structs = struct_resolver(self.ctx, p)
            self.scopes, self.homes = [], []
            self.push()
            if p.predicate is not None:
                t = self.expr(p.predicate)
                self.condition(t, p.predicate, "predicate")
            self.stmts(p.body.stmts)
        self.probe = None
        self.types.user_structs = None

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
        self.push()
        try:
            for s in stmts:
                self.stmt(s)
        finally:
            self.pop()

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
        self.push({s.var.name: vt})
        try:
            self.stmts(s.body.stmts)
        finally:
            self.pop()

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
        self.bind(s.var.name, t, here=True, node=s.var)

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
            self.bind(target.name, vt, node=target)
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
        r = exprtypes.arith(self, s.op, tt, vt, s)
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
            return T.StringType(byte_len(e.value) + 1)
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
            return exprtypes.binary(self, e)
        if isinstance(e, ast.Unary):
            return exprtypes.unary(self, e)
        if isinstance(e, ast.IncDec):
            return exprtypes.incdec(self, e)
        if isinstance(e, ast.Ternary):
            return exprtypes.ternary(self, e)
        if isinstance(e, ast.Cast):
            return exprtypes.cast(self, e)
        if isinstance(e, ast.FieldAccess):
            return exprtypes.field_access(self, e)
        if isinstance(e, ast.TupleAccess):
            return exprtypes.tuple_access(self, e)
        if isinstance(e, ast.Index):
            return exprtypes.index(self, e)
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
            return exprtypes.sizeof(self, e)
        if isinstance(e, ast.BlockExpr):
            self.push()
            try:
                for s in e.stmts:
                    self.stmt(s)
                return self.expr(e.value) if e.value is not None else T.VOID
            finally:
                self.pop()
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
        names = sorted(b for b in BUILTINS if not b.startswith("__"))
        self.error(f"Unknown identifier: '{e.name}'", e.span, *did_you_mean(e.name, names))
        return T.NONE


def run(program: ast.Program, ctx: PassContext) -> dict[str, MapTypes]:
    """Type-check ``program``; returns the map table (also kept for the resources pass)."""
    maps: dict[str, MapTypes] = {}
    for report in (False, True):
        Checker(program, ctx, report, maps).run()
    ctx.map_types = maps
    return maps
