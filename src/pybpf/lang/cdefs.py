"""C struct/union/enum definitions written in scripts (``struct foo { int a; };``).

bpftrace hands these to clang; we parse the subset scripts use: scalar, pointer, array,
bitfield and nested struct/union members, and enums with optional values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.lang import ast
from pybpf.lang.lexer import IDENT, INT

if TYPE_CHECKING:
    from pybpf.lang.parser import Parser

_QUALIFIERS = {"const", "volatile", "__user", "__rcu", "static", "register", "restrict"}
_MULTIWORD = {"unsigned", "signed", "long", "short", "int", "char"}


def parse_c_definition(p: Parser) -> ast.CDefinition:
    """Parse ``struct|union|enum name { ... }`` at the parser's cursor."""
    kw = p.advance()
    name = p.ident().text if p.tok.kind == IDENT else ""
    if kw.text == "enum":
        return _enum(p, kw, name)
    return _record(p, kw, name)


def _enum(p: Parser, kw: object, name: str) -> ast.CDefinition:
    start = p.tok.span
    p.expect("{")
    values: list[tuple[str, int]] = []
    nxt = 0
    while not p.at("}"):
        n = p.ident().text
        if p.accept("="):
            neg = p.accept("-") is not None
            v = p.tok
            if v.kind != INT:
                p.fail("expecting integer")
            p.advance()
            nxt = -int(v.value or 0) if neg else int(v.value or 0)
        values.append((n, nxt))
        nxt += 1
        if not p.accept(","):
            break
    end = p.expect("}").span
    return ast.CDefinition(start.to(end), "enum", name, [], values)


def _record(p: Parser, kw: object, name: str) -> ast.CDefinition:
    start = p.tok.span
    p.expect("{")
    fields: list[ast.CField] = []
    while not p.at("}"):
        fields.extend(_member(p))
    end = p.expect("}").span
    kind = getattr(kw, "text", "struct")
    return ast.CDefinition(start.to(end), kind, name, fields)


def _member(p: Parser) -> list[ast.CField]:
    start = p.tok.span
    while p.tok.kind == IDENT and p.tok.text in _QUALIFIERS:
        p.advance()
    nested: ast.CDefinition | None = None
    tag = ""
    if p.at("struct") or p.at("union") or p.at("enum"):
        tag = p.tok.text
        if p.peek().is_("{") or (p.peek().kind == IDENT and p.peek(2).is_("{")):
            nested = parse_c_definition(p)
            base = nested.name
        else:
            p.advance()
            base = p.ident().text
    else:
        base = p.ident().text
        # "unsigned long int" and friends.
        while p.tok.kind == IDENT and base.split()[-1] in _MULTIWORD and p.tok.text in _MULTIWORD:
            base += " " + p.advance().text
    out: list[ast.CField] = []
    while True:
        while p.tok.kind == IDENT and p.tok.text in _QUALIFIERS:
            p.advance()
        ptr = 0
        while p.accept("*"):
            ptr += 1
        fname = ""
        end = p.tok.span
        if p.tok.kind == IDENT:
            t = p.advance()
            fname, end = t.text, t.span
        array = None
        if p.accept("["):
            n = p.tok
            if n.kind != INT:
                p.fail("expecting integer")
            p.advance()
            array = int(n.value or 0)
            end = p.expect("]").span
        bits = None
        if p.accept(":"):
            b = p.tok
            if b.kind != INT:
                p.fail("expecting integer")
            p.advance()
            bits = int(b.value or 0)
        ts = ast.TypeSpec(start.to(end), base, tag, ptr, array)
        out.append(ast.CField(start.to(end), fname, ts, bits, nested))
        if not p.accept(","):
            break
    p.expect(";")
    return out
