"""String literal escapes are bytes: ``\\xNN`` and octal escapes above 0x7f are one byte
each (not the UTF-8 encoding of a code point), consistently through the lexer, the type
pass (``string[N]`` counts bytes), the printer (``--fmt``) and the encoder code generation
uses."""

from __future__ import annotations

import pytest

from pybpf.diag import DiagnosticBag, SourceFile
from pybpf.lang import ast
from pybpf.lang.lexer import Lexer
from pybpf.lang.literals import byte_len, literal_bytes
from pybpf.lang.parser import parse
from pybpf.lang.printer import format_program
from pybpf.passes.pipeline import compile_frontend


def _string(text: str) -> str:
    bag = DiagnosticBag()
    tok = Lexer(SourceFile("t", text), text, bag).next()
    assert not bag.items, [str(d) for d in bag]
    assert tok.kind == "string"
    assert isinstance(tok.value, str)
    return tok.value


@pytest.mark.parametrize(
    ("src", "raw"),
    [
        (r'"\xff\x80"', b"\xff\x80"),
        (r'"\xc3\xa9"', b"\xc3\xa9"),
        (r'"\377\200"', b"\xff\x80"),
        (r'"\1011"', b"A1"),  # at most three octal digits
        (r'"a\x7fz"', b"a\x7fz"),
        ('"é"', "é".encode()),
        (r'"\xe2\x82"', b"\xe2\x82"),  # a truncated UTF-8 sequence stays two bytes
        (r'"\x41\x4A"', b"AJ"),
    ],
)
def test_escapes_are_bytes(src: str, raw: bytes) -> None:
    value = _string(src)
    assert literal_bytes(value) == raw
    assert byte_len(value) == len(raw)


def test_utf8_spelled_as_escapes_equals_the_character() -> None:
    """The same bytes are the same value, however they were written (kernel strings come
    back decoded the same way)."""
    assert _string(r'"\xc3\xa9"') == _string('"é"') == "é"


def test_char_literal_escape_is_the_byte_value() -> None:
    bag = DiagnosticBag()
    text = r"'\xff'"
    tok = Lexer(SourceFile("t", text), text, bag).next()
    assert (tok.kind, tok.value) == ("int", 255)


def test_type_counts_bytes() -> None:
    r = compile_frontend(r'BEGIN { $s = "\xff\x80"; $t = "é"; }', "t.bt")
    assert r.ok, r.render()
    a, b = r.program.probes[0].body.stmts
    assert isinstance(a, ast.Assign) and isinstance(b, ast.Assign)
    assert str(a.value.type) == "string[3]"
    assert str(b.value.type) == "string[3]"


def test_fmt_writes_raw_bytes_as_escapes_and_reparses_to_them() -> None:
    src = r'BEGIN { printf("%s\n", "\xff\x80é\x01"); }'
    text = format_program(parse(src, "t.bt").program)
    assert r'"\xff\x80é\x01"' in text
    again = parse(text, "t.bt").program.probes[0].body.stmts[0]
    assert isinstance(again, ast.ExprStmt) and isinstance(again.expr, ast.Call)
    lit = again.expr.args[1]
    assert isinstance(lit, ast.String)
    assert literal_bytes(lit.value) == b"\xff\x80\xc3\xa9\x01"
