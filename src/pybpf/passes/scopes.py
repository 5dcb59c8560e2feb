"""Variable scopes and loop context.

A ``let`` declares a ``$var`` in the current block (bpftrace 0.26); a first plain assignment
declares it for the whole probe or function, as bpftrace always did (tools assign in both
branches of an ``if`` and read after it); reading a variable no enclosing block has
declared is ``Undefined or undeclared variable: $x``.  ``break``/``continue`` must sit in
a ``while`` or ``for`` loop.

The body of ``for ($kv : @map)`` is a function of its own (a ``bpf_for_each_map_elem``
callback): it reads and writes the probe's variables, but a variable it assigns first is
its own and undefined after the loop, as in bpftrace.
"""

from __future__ import annotations

from pybpf.lang import ast
from pybpf.passes.context import PassContext


class _Scopes:
    def __init__(self, ctx: PassContext) -> None:
        self.ctx = ctx
        self.stack: list[set[str]] = []
        self.loops = 0
        #: Where a first plain assignment declares: the probe's scope, or a map loop body's.
        self.home = 0

    def defined(self, name: str) -> bool:
        return any(name in s for s in self.stack)

    def block(self, stmts: list[ast.Stmt], extra: set[str] | None = None) -> None:
        self.stack.append(set(extra or ()))
        try:
            for s in stmts:
                self.stmt(s)
        finally:
            self.stack.pop()

    def stmt(self, s: ast.Stmt) -> None:
        if isinstance(s, ast.VarDecl):
            if s.value is not None:
                self.expr(s.value)
            if self.defined(s.var.name):
                self.ctx.diags.error(f"Variable {s.var.name} was already declared", s.var.span)
            self.stack[-1].add(s.var.name)
        elif isinstance(s, ast.Assign):
            self.expr(s.value)
            t = s.target
            if isinstance(t, ast.Variable):
                if s.op is not None and not self.defined(t.name):
                    self.undefined(t)
                if not self.defined(t.name):
                    self.stack[self.home].add(t.name)
            else:
                self.expr(t)
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
            self.expr(s.iterable)
            if isinstance(s.iterable, ast.Map):
                home, self.home = self.home, len(self.stack)
                try:
                    self.loop(s.body.stmts, {s.var.name})
                finally:
                    self.home = home
            else:
                self.loop(s.body.stmts, {s.var.name})
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

    def loop(self, stmts: list[ast.Stmt], extra: set[str] | None = None) -> None:
        self.loops += 1
        try:
            self.block(stmts, extra)
        finally:
            self.loops -= 1

    def undefined(self, v: ast.Variable) -> None:
        self.ctx.diags.error(f"Undefined or undeclared variable: {v.name}", v.span)

    def expr(self, e: ast.Node) -> None:
        if isinstance(e, ast.Variable):
            if not self.defined(e.name):
                self.undefined(e)
            return
        if isinstance(e, ast.BlockExpr):
            self.stack.append(set())
            try:
                for s in e.stmts:
                    self.stmt(s)
                if e.value is not None:
                    self.expr(e.value)
            finally:
                self.stack.pop()
            return
        if isinstance(e, ast.Range):
            self.expr(e.start)
            self.expr(e.end)
            return
        for c in e.children():
            self.expr(c)


def run(program: ast.Program, ctx: PassContext) -> None:
    """Check variable definitions and loop-only statements."""
    sc = _Scopes(ctx)
    for f in program.functions:
        sc.block(f.body.stmts, {p.name for p in f.params})
    for p in program.probes:
        sc.stack, sc.home = [set()], 0
        if p.predicate is not None:
            sc.expr(p.predicate)
        sc.block(p.body.stmts)
