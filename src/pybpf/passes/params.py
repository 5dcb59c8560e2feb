"""Positional parameters: ``$1``.. and ``$#`` become literals.

A parameter that parses as an integer becomes an :class:`~pybpf.lang.ast.Integer`,
anything else a :class:`~pybpf.lang.ast.String` (bpftrace's rule).  A parameter beyond
those given is an empty string inside ``str()`` and 0 elsewhere -- we report it as an
error when it is used as an integer is not what bpftrace does, so we follow bpftrace and
default to 0/"".  ``$N`` inside attach points is substituted textually.
"""

from __future__ import annotations

import re

from pybpf.lang import ast
from pybpf.lang.lexer import parse_int_literal
from pybpf.passes.context import PassContext

_AP_PARAM = re.compile(r"\$(\d+)")
_ANY_PARAM = re.compile(r"\$[\d#]")


def _literal(node: ast.PositionalParam, params: list[str], in_str: bool) -> ast.Expr:
    i = node.index
    text = params[i - 1] if 1 <= i <= len(params) else ""
    value = parse_int_literal(text) if text and not text.startswith("-") else None
    if text.startswith("-") and text[1:]:
        pos = parse_int_literal(text[1:])
        value = -pos if pos is not None else None
    if value is not None and not in_str:
        return ast.Integer(node.span, value)
    if not text and not in_str:
        return ast.Integer(node.span, 0)
    return ast.String(node.span, text)


def _rewrite(node: ast.Node, ctx: PassContext, in_str: bool = False) -> None:
    for name, value in list(vars(node).items()):
        if isinstance(value, ast.PositionalParam):
            setattr(node, name, _literal(value, ctx.options.params, in_str))
        elif isinstance(value, ast.ParamCount):
            setattr(node, name, ast.Integer(value.span, len(ctx.options.params)))
        elif isinstance(value, ast.Node):
            _rewrite(value, ctx)
        elif isinstance(value, list):
            s = isinstance(node, ast.Call) and node.name == "str"
            for k, item in enumerate(value):
                if isinstance(item, ast.PositionalParam):
                    value[k] = _literal(item, ctx.options.params, s and k == 0)
                elif isinstance(item, ast.ParamCount):
                    value[k] = ast.Integer(item.span, len(ctx.options.params))
                elif isinstance(item, ast.Node):
                    _rewrite(item, ctx)


def run(program: ast.Program, ctx: PassContext) -> None:
    """Replace positional parameters by literals (also in attach point text)."""
    params = ctx.options.params
    if not _ANY_PARAM.search(ctx.source.text):
        return
    for probe in program.probes:
        for ap in probe.attach_points:
            ap.raw = _AP_PARAM.sub(
                lambda m: params[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(params) else "",
                ap.raw,
            )
    _rewrite(program, ctx)
