"""Prometheus label names for map keys, taken from the key expressions in the script.

``@[comm, pid] = count()`` gives labels ``comm`` and ``pid``; ``@lat[args.fd]`` gives
``fd``; a ``$var`` key gives ``var``; anything else is ``key0``, ``key1`` ... by position.
When two statements key the same map with different expressions, the first one wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pybpf.lang import ast
from pybpf.records import FIELDS

_BAD = re.compile(r"[^a-zA-Z0-9_]")


def _walk(node: object) -> Iterator[object]:
    """Every AST node below ``node`` (record or dataclass fields, lists), depth first."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        # AST nodes are records; a standard dataclass (a user's node) is walked the same way.
        fields = getattr(cur, FIELDS, None) or getattr(cur, "__dataclass_fields__", None)
        if fields is None:
            continue
        for name in fields:
            if name in ("span", "type"):
                continue
            value = getattr(cur, name, None)
            if isinstance(value, list):
                stack.extend(v for v in reversed(value) if isinstance(v, ast.Node))
            elif isinstance(value, ast.Node):
                stack.append(value)


def _expr_name(expr: ast.Expr) -> str | None:
    if isinstance(expr, ast.Builtin):
        return expr.name
    if isinstance(expr, ast.Variable):
        return expr.name.lstrip("$")
    if isinstance(expr, ast.FieldAccess):
        return str(expr.field)
    if isinstance(expr, ast.Call) and expr.args:
        return _expr_name(expr.args[0])
    return None


def sanitize(name: str) -> str:
    """A valid Prometheus metric or label name made from ``name``."""
    out = _BAD.sub("_", name)
    return out if out and not out[0].isdigit() else f"_{out}"


def key_labels(program: ast.Program) -> dict[str, list[str]]:
    """Map name (with ``@``) -> one label name per key component."""
    out: dict[str, list[str]] = {}
    for node in _walk(program):
        if not isinstance(node, ast.MapAccess) or node.map.name in out:
            continue
        keys: list[ast.Expr] = list(node.keys)
        if len(keys) == 1 and isinstance(keys[0], ast.Tuple):
            keys = list(keys[0].elems)
        names: list[str] = []
        for i, k in enumerate(keys):
            n = _expr_name(k)
            n = sanitize(n) if n else f"key{i}"
            if n in names or n == "le":
                n = f"{n}_{i}"
            names.append(n)
        out[node.map.name] = names
    return out
