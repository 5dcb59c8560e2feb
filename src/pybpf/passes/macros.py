"""Expand ``macro name(params) { body }`` at each call, inline.

A parameter spelled ``x`` takes any expression; ``$x`` must be given a variable and ``@x`` a
map (the argument's name then replaces the parameter's everywhere in the body).  A macro
whose body ends with an expression is an expression; otherwise a statement.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from pybpf.lang import ast
from pybpf.passes.context import PassContext

_MAX_DEPTH = 16


def replace_children(node: ast.Node, fn: Callable[[ast.Node], ast.Node]) -> None:
    """Replace every direct child ``c`` of ``node`` by ``fn(c)`` (in place)."""
    for name, value in list(vars(node).items()):
        if name in ("span", "type"):
            continue
        if isinstance(value, ast.Node):
            setattr(node, name, fn(value))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.Node):
                    value[i] = fn(item)


class _Expander:
    def __init__(self, macros: dict[str, ast.MacroDef], ctx: PassContext) -> None:
        self.macros = macros
        self.ctx = ctx
        self.depth = 0

    def visit(self, node: ast.Node) -> ast.Node:
        replace_children(node, self.visit)
        if isinstance(node, ast.ExprStmt) and isinstance(node.expr, ast.BlockExpr):
            if node.expr.value is None:
                return ast.Block(node.span, node.expr.stmts)
        if isinstance(node, ast.Call) and node.name in self.macros:
            return self.expand(node)
        return node

    def expand(self, call: ast.Call) -> ast.Node:
        mac = self.macros[call.name]
        if len(call.args) != len(mac.params):
            self.ctx.diags.error(
                f"Macro '{mac.name}' expects {len(mac.params)} argument(s) "
                f"({len(call.args)} provided)",
                call.span,
            )
            return call
        if self.depth >= _MAX_DEPTH:
            self.ctx.diags.error(f"Macro recursion limit reached expanding '{mac.name}'", call.span)
            return call
        exprs: dict[str, ast.Expr] = {}
        renames: dict[str, str] = {}
        for p, a in zip(mac.params, call.args, strict=True):
            if p.startswith("$"):
                if not isinstance(a, ast.Variable):
                    self.ctx.diags.error(
                        f"Macro '{mac.name}' parameter {p} expects a variable", a.span
                    )
                    return call
                renames[p] = a.name
            elif p.startswith("@"):
                if not isinstance(a, ast.Map):
                    self.ctx.diags.error(f"Macro '{mac.name}' parameter {p} expects a map", a.span)
                    return call
                renames[p] = a.name
            else:
                exprs[p] = a
        body: ast.Node = copy.deepcopy(mac.body)
        body = self.substitute(body, exprs, renames, call)
        self.depth += 1
        try:
            body = self.visit(body)
        finally:
            self.depth -= 1
        if isinstance(body, ast.BlockExpr) and body.value is not None and not body.stmts:
            return body.value
        if isinstance(body, ast.Block):
            return ast.BlockExpr(call.span, body.stmts, None)
        return body

    def substitute(
        self, node: ast.Node, exprs: dict[str, ast.Expr], renames: dict[str, str], call: ast.Call
    ) -> ast.Node:
        def sub(n: ast.Node) -> ast.Node:
            if isinstance(n, ast.Identifier) and n.name in exprs:
                return copy.deepcopy(exprs[n.name])
            if isinstance(n, ast.Variable | ast.Map) and n.name in renames:
                n.name = renames[n.name]
            replace_children(n, sub)
            return n

        return sub(node)


def run(program: ast.Program, ctx: PassContext) -> None:
    """Expand every macro call in probes and functions."""
    macros: dict[str, ast.MacroDef] = {}
    for m in program.macros:
        if m.name in macros:
            ctx.diags.error(f"Redefinition of macro: {m.name}", m.span)
        macros[m.name] = m
    if not macros:
        return
    ex = _Expander(macros, ctx)
    for p in program.probes:
        ex.visit(p)
    for f in program.functions:
        ex.visit(f)
