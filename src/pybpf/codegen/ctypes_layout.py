"""Sizes of written types (``sizeof``) for integers and structs defined in the script."""

from __future__ import annotations

from pybpf.lang import ast
from pybpf.passes.types import INT_NAMES

_EXTRA = {"string": 0, "void": 1}


def _align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def typespec_size(ts: ast.TypeSpec, program: ast.Program) -> int | None:
    """Bytes of ``ts`` (None when unknown): C rules for pointers, arrays and structs."""
    sa = _size_align(ts, program)
    return None if sa is None else sa[0]


def _size_align(ts: ast.TypeSpec, program: ast.Program) -> tuple[int, int] | None:
    if ts.pointer:
        size, align = 8, 8
    elif ts.tag in ("struct", "union"):
        sa = _struct(ts.name, ts.tag, program)
        if sa is None:
            return None
        size, align = sa
    elif ts.tag == "enum":
        size, align = 4, 4
    elif ts.name in INT_NAMES:
        size = INT_NAMES[ts.name].size
        align = size
    else:
        return None
    if ts.array is not None:
        size *= ts.array
    return size, align


def _struct(name: str, tag: str, program: ast.Program) -> tuple[int, int] | None:
    for d in program.c_definitions:
        if d.name == name and d.kind == tag:
            off = size = 0
            align = 1
            for f in d.fields:
                sa = _size_align(f.type_spec, program)
                if sa is None:
                    return None
                fs, fa = sa
                align = max(align, fa)
                if tag == "union":
                    size = max(size, fs)
                else:
                    off = _align_up(off, fa) + fs
                    size = off
            return _align_up(size, align), align
    return None


def field_offset(ts: ast.TypeSpec, path: list[str], program: ast.Program) -> int | None:
    """Byte offset of ``path`` (``a.b``) inside struct ``ts`` (None when unknown)."""
    total = 0
    cur = ts
    for name in path:
        found = None
        for d in program.c_definitions:
            if d.name == cur.name and d.kind == cur.tag:
                off = 0
                for f in d.fields:
                    sa = _size_align(f.type_spec, program)
                    if sa is None:
                        return None
                    off = 0 if d.kind == "union" else _align_up(off, sa[1])
                    if f.name == name:
                        found = (off, f.type_spec)
                        break
                    off += sa[0]
        if found is None:
            return None
        total += found[0]
        cur = found[1]
    return total


__all__ = ["field_offset", "typespec_size"]
