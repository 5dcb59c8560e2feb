"""Variable scopes and loop context, with current bpftrace's rules.

Every block is a scope: a probe or function body, each branch of an ``if``, the bodies of
``while``/``unroll``/``for``, a bare ``{ }`` and a block expression.  A variable lives in the
block where it is declared -- by ``let $x``, or by its first plain assignment when no
enclosing block knows it -- and in the blocks nested inside; after that block ends it is
``Undefined or undeclared variable: $x``.  So ``if (c) { $a = 1; } print($a);`` is an
error in bpftrace 0.26 (0.17 had one scope per probe); ``let $a;`` before the ``if`` is the
way to share it.  Such 0.17 scripts (Debian's own tcpconnect.bt and tcpdrop.bt) are accepted
here with a warning, as if they opened with that ``let`` (see :func:`_checked`).  A ``let`` of a name an enclosing block already has is an error (no
shadowing), so is a loop variable that shadows one.  Reading a declared variable no
statement has assigned yet warns ``Variable used before it was assigned`` (not inside
``sizeof``/``offsetof``), and a ``let $x;`` never assigned warns at the end of its probe.
``break``/``continue`` must sit in a ``while`` or ``for`` loop.
"""

from __future__ import annotations

from pybpf.diag import DiagnosticBag, Span
from pybpf.lang import ast
from pybpf.passes.context import PassContext
from pybpf.records import dataclass

#: How bpftrace names where a variable came from, for the shadowing error's context line.
_ORIGIN = {
    "let": "This is the initial declaration.",
    "assign": "This is the initial assignment.",
    "param": "This is the function parameter.",
    "loop": "This is the loop variable.",
}


@dataclass(slots=True)
class _Var:
    """One declared variable: how and where it came to be, and whether it was assigned."""

    origin: str
    span: Span
    assigned: bool


def decl_span(s: ast.VarDecl) -> Span:
    """``let $x`` (with its ``: type``): where bpftrace points for a declaration."""
    end = s.type_spec.span if s.type_spec is not None else s.var.span
    return s.span.to(end)


class _Scopes:
    def __init__(self, ctx: PassContext) -> None:
        self.ctx = ctx
        self.stack: list[dict[str, _Var]] = []
        self.loops = 0
        #: Inside ``sizeof``/``offsetof``: reads are not uses (no "before assigned" warning).
        self.meta = 0
        #: Every ``let`` of the current probe/function, for the never-assigned warning.
        self.lets: list[tuple[str, _Var]] = []
        #: Variables of blocks that have ended, for the hint on a later read.
        self.ended: dict[str, _Var] = {}
        #: Reads of those after their block (name -> first such read): what bpftrace 0.17's
        #: one scope per probe allowed, and :func:`run` accepts by declaring them up front.
        self.late: dict[str, tuple[ast.Variable, _Var]] = {}

    # -- scopes ------------------------------------------------------------------------
    def find(self, name: str) -> _Var | None:
        for scope in reversed(self.stack):
            v = scope.get(name)
            if v is not None:
                return v
        return None

    def push(self, names: dict[str, _Var] | None = None) -> None:
        self.stack.append(dict(names or {}))

    def pop(self) -> None:
        for name, v in self.stack.pop().items():
            if v.origin in ("assign", "let"):
                self.ended[name] = v

    def body(self, top: dict[str, _Var], stmts: list[ast.Stmt], pred: ast.Expr | None) -> None:
        """A probe or function: its own scope, then its block."""
        self.stack, self.lets, self.ended = [], [], {}
        self.push(top)
        if pred is not None:
            self.expr(pred)
        self.block(stmts)
        self.pop()
        for name, v in self.lets:
            if not v.assigned:
                self.ctx.diags.warning(f"Variable {name} was never assigned to.", v.span)

    def block(self, stmts: list[ast.Stmt], names: dict[str, _Var] | None = None) -> None:
        self.push(names)
        try:
            for s in stmts:
                self.stmt(s)
        finally:
            self.pop()

    def loop(self, stmts: list[ast.Stmt]) -> None:
        self.loops += 1
        try:
            self.block(stmts)
        finally:
            self.loops -= 1

    # -- statements --------------------------------------------------------------------
    def stmt(self, s: ast.Stmt) -> None:
        if isinstance(s, ast.VarDecl):
            self.let(s)
        elif isinstance(s, ast.Assign):
            self.assign(s)
        elif isinstance(s, ast.ExprStmt):
            self.expr(s.expr)
        elif isinstance(s, ast.If):
            self.expr(s.cond)
            self.block(s.then.stmts)
            if isinstance(s.else_, ast.If):
                self.stmt(s.else_)
            elif s.else_ is not None:
                self.block(s.else_.stmts)
        elif isinstance(s, ast.While):
            self.expr(s.cond)
            self.loop(s.body.stmts)
        elif isinstance(s, ast.For):
            self.for_loop(s)
        elif isinstance(s, ast.Unroll):
            self.expr(s.count)
            self.block(s.body.stmts)
        elif isinstance(s, ast.Block):
            self.block(s.stmts)
        elif isinstance(s, ast.Jump):
            if s.kind in ("break", "continue") and not self.loops:
                self.ctx.diags.error(f"{s.kind} used outside of a loop", s.span)
            if s.value is not None:
                self.expr(s.value)

    def let(self, s: ast.VarDecl) -> None:
        """``let $x [= v]``: declares in this block; the value cannot see ``$x`` yet."""
        if s.value is not None:
            self.expr(s.value)
        name, span = s.var.name, decl_span(s)
        old = self.find(name)
        if old is not None:
            self.shadowed(f"Variable {name} was already declared. Variable shadowing is not "
                          "allowed.", span, old)  # fmt: skip
            old.assigned = old.assigned or s.value is not None
            return
        v = _Var("let", span, s.value is not None)
        self.stack[-1][name] = v
        self.lets.append((name, v))

    def assign(self, s: ast.Assign) -> None:
        """``$x = v`` declares ``$x`` here unless a block around knows it; ``$x op= v``
        reads it first (bpftrace rewrites it to ``$x = $x op v``)."""
        t = s.target
        if not isinstance(t, ast.Variable):
            self.expr(t)
            self.expr(s.value)
            return
        if s.op is not None:
            self.expr(t)
        self.expr(s.value)
        old = self.find(t.name)
        if old is not None:
            old.assigned = True
        elif s.op is None:
            self.stack[-1][t.name] = _Var("assign", s.span, True)

    def for_loop(self, s: ast.For) -> None:
        """The loop variable gets a scope of its own around the body's."""
        name = s.var.name
        old = self.find(name)
        if old is not None:
            self.shadowed(f"Loop declaration shadows existing variable: {name}", s.var.span, old)
        self.expr(s.iterable)
        self.loops += 1
        try:
            self.push({name: _Var("loop", s.var.span, True)})
            self.block(s.body.stmts)
            self.stack.pop()
        finally:
            self.loops -= 1

    def shadowed(self, msg: str, span: Span, old: _Var) -> None:
        # bpftrace prints the original's place as a second error line.
        self.ctx.diags.error(msg, span)
        self.ctx.diags.error(_ORIGIN[old.origin], old.span)

    # -- expressions -------------------------------------------------------------------
    def read(self, v: ast.Variable) -> None:
        found = self.find(v.name)
        if found is None:
            self.undefined(v)
        elif not found.assigned and not self.meta:
            self.ctx.diags.warning(f"Variable used before it was assigned: {v.name}", v.span)

    def undefined(self, v: ast.Variable) -> None:
        self.ctx.diags.error(f"Undefined or undeclared variable: {v.name}", v.span)
        gone = self.ended.get(v.name)
        if gone is not None and gone.origin == "assign":  # 0.17-style (0.17 had no `let`)
            self.late.setdefault(v.name, (v, gone))

    def expr(self, e: ast.Node) -> None:
        if isinstance(e, ast.Variable):
            self.read(e)
        elif isinstance(e, ast.Unary) and e.op == "&" and isinstance(e.operand, ast.Variable):
            # The address may be handed to code that fills the variable in.
            found = self.find(e.operand.name)
            if found is None:
                self.undefined(e.operand)
            else:
                found.assigned = True
        elif isinstance(e, ast.BlockExpr):
            self.push()
            try:
                for s in e.stmts:
                    self.stmt(s)
                if e.value is not None:
                    self.expr(e.value)
            finally:
                self.pop()
        elif isinstance(e, ast.Sizeof | ast.Offsetof):
            self.meta += 1
            try:
                for c in e.children():
                    self.expr(c)
            finally:
                self.meta -= 1
        else:
            for c in e.children():
                self.expr(c)


def run(program: ast.Program, ctx: PassContext) -> None:
    """Check variable definitions and loop-only statements."""
    sc = _Scopes(ctx)
    for f in program.functions:
        params = {p.name: _Var("param", p.span, True) for p in f.params}
        _checked(sc, params, f.body.stmts, None)
    for p in program.probes:
        _checked(sc, {}, p.body.stmts, p.predicate)


def _checked(
    sc: _Scopes, top: dict[str, _Var], stmts: list[ast.Stmt], pred: ast.Expr | None
) -> None:
    """Check one probe or function, accepting bpftrace 0.17's probe-wide variables.

    A script written for 0.17 assigns ``$x`` inside an ``if`` and reads it after: current
    bpftrace rejects that (``Undefined or undeclared variable``). We accept it, with a
    warning saying so, by doing what its author meant: a ``let $x;`` opening the body (found
    by a first walk), so the types and code that follow see one probe-wide ``$x``. Only such
    scripts are walked twice; for the rest the first walk's diagnostics are the answer.
    """
    ctx = sc.ctx
    real, ctx.diags = ctx.diags, DiagnosticBag()
    sc.late = {}
    try:
        sc.body(dict(top), stmts, pred)
    finally:
        first_walk, ctx.diags = ctx.diags, real
    if not sc.late:
        real.items.extend(first_walk.items)
        return
    for name, (use, first) in sc.late.items():
        decl = ast.VarDecl(first.span, var=ast.Variable(first.span, name=name), type_spec=None,
                           value=None)  # fmt: skip
        stmts.insert(0, decl)
        ctx.diags.warning(
            f"Variable {name} is used after the block that assigned it (line "
            f"{first.span.line}) has ended: accepted as bpftrace 0.17 did, but current "
            f"bpftrace rejects it; declare it first with 'let {name};'",
            use.span,
        )
    sc.late = {}
    sc.body(top, stmts, pred)
