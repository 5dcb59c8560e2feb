"""``assemble(text)``: assembly text in either dialect -> instructions.

Both dialects share the line structure: an optional bpftool ``  12: (b7) `` prefix, an
optional ``label:``, one statement, a comment. ``.raw 0xWORD [, 0xWORD]`` inserts any
instruction by its 64-bit little-endian words (the disassembler prints invalid encodings
that way, so every program round-trips). Labels resolve through
:class:`~pybpf.asm.builder.ProgramBuilder`, so offsets count slots.
"""

from __future__ import annotations

import re

from pybpf.asm import cdialect, rfmt
from pybpf.asm._lex import Line, split_label, strip_comment, strip_prefix
from pybpf.asm.builder import ProgramBuilder, SourcePos
from pybpf.asm.insn import DecodeError, Insn
from pybpf.errors import AsmError

DIALECTS = ("auto", "rfmt", "c")

_RFMT_WORD = re.compile(
    r"\s*(?:%r|(?:mov|add|sub|mul|div|sdiv|smod|or|and|lsh|rsh|mod|xor|arsh|neg|movsx\d+|"
    r"ldx\w*|stx?\w*|lddw|ldabs\w|ldind\w|j(?:eq|ne|gt|ge|lt|le|set|sgt|sge|slt|sle|a)\w*|"
    r"be\d+|le\d+|bswap\d+|swap\d+)(?:32)?\s+[%\[+\-\w])"
)
_FUNC_SIG = re.compile(r"\s*[A-Za-z_][\w\s*]*\(.*\)\s*:\s*$")
_C_WORD = re.compile(r"\s*(?:[rw]\d+\s*\S*=|\*\s*\(|if\s|goto\b|gotol\b|lock\s*\*|callx\b)")


def detect_dialect(text: str) -> str:
    """``rfmt`` or ``c``: the first line that only one dialect could have decides."""
    for raw in text.splitlines():
        start, _ = strip_prefix(raw)
        line = strip_comment(raw, (";", "//"))[start:]
        if line.lstrip().startswith("#"):
            continue
        if "%r" in line:
            return "rfmt"
        _, _, rest = split_label(line, 0)
        if _C_WORD.match(line, rest):
            return "c"
        if _RFMT_WORD.match(line, rest) or re.match(r"\s*lock\b(?!\s*\*)", line[rest:]):
            return "rfmt"
    return "c"


def assemble(text: str, dialect: str = "auto", *, source: str = "") -> list[Insn]:
    """Assemble ``text``; ``dialect`` is ``auto``, ``rfmt`` (``%r``) or ``c``.

    Raises :class:`~pybpf.errors.AsmError` with the line and column of the first problem;
    ``source`` names the file in messages. Each instruction's ``span`` is its
    :class:`~pybpf.asm.builder.SourcePos`.
    """
    if dialect not in DIALECTS:
        raise AsmError(f"unknown dialect '{dialect}' (choose auto, rfmt or c)")
    if dialect == "auto":
        dialect = detect_dialect(text)
    pb = ProgramBuilder()
    first_exit: SourcePos | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        start, hint = strip_prefix(raw)
        markers = ("#", ";", "//") if dialect == "rfmt" else (";", "//")
        code = strip_comment(raw, markers)
        if dialect == "c" and (code[start:].lstrip().startswith("#") or _FUNC_SIG.match(code)):
            continue  # a comment, or bpftool's "int prog(struct __sk_buff * skb):" line
        label, lcol, rest = split_label(code, start)
        if label is not None:
            pb.label(label, SourcePos(lineno, lcol, source))
        if not code[rest:].strip():
            continue
        ln = Line(code, lineno, source, rest)
        pos = SourcePos(lineno, ln.tokens[0].col, source)
        insn, target = _statement(ln, dialect, hint)
        if dialect == "rfmt" and insn.is_exit and first_exit is None:
            first_exit = pos
            if not pb.has_label("exit"):
                pb.label("exit", pos)  # the suite's implicit label
        if target is None:
            pb.emit(insn, pos=pos)
        else:
            # Point label errors at the label, not at the mnemonic.
            tpos = SourcePos(lineno, code.rfind(str(target)) + 1, source)
            pb.emit_to(insn, target, pos, tpos)
    return pb.build()


def _statement(ln: Line, dialect: str, hint: int | None) -> tuple[Insn, str | int | None]:
    first = ln.tokens[0]
    try:
        if first.text == ".raw":
            ln.pos = 1
            return _raw(ln), None
        if dialect == "rfmt":
            if first.kind != "id":
                raise ln.error(f"expected a mnemonic, found '{first.text}'", first.col)
            ln.pos = 1
            result = rfmt.parse_statement(ln, first.text)
        else:
            result = cdialect.parse_statement(ln, hint)
        ln.end()
        return result
    except ValueError as e:
        # The builders reject impossible combinations (u8 atomics, movsx32 of 32 bits...).
        raise AsmError(str(e), ln.lineno, first.col, ln.source) from None


def _raw(ln: Line) -> Insn:
    words = [ln.imm64("64-bit word")]
    while ln.accept(","):
        words.append(ln.imm64("64-bit word"))
    ln.end()
    try:
        return rfmt.raw_insn(words)
    except (ValueError, DecodeError) as e:
        raise ln.error(f".raw: {e}", ln.tokens[0].col) from None


__all__ = ["DIALECTS", "assemble", "detect_dialect"]
