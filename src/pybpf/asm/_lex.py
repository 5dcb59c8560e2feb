"""Shared lexing for both assembly dialects: tokens with columns, a cursor, number ranges."""

from __future__ import annotations

import re

from pybpf.errors import AsmError
from pybpf.records import dataclass

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<reg>%r\d+|[rw]\d+(?![\w$]))
      |(?P<num>0[xX][0-9a-fA-F]+|\d+)
      |(?P<op>s>>=|s>=|s<=|s/=|s%=|s>|s<|<<=|>>=|==|!=|>=|<=|\+=|-=|\*=|/=|\|=|&=|%=|\^=)
      |(?P<id>[A-Za-z_.$][\w.$]*)
      |(?P<punct>[=*()\[\]:+\-\#,&<>%])""",
    re.VERBOSE,
)
_PREFIX = re.compile(r"\s*\d+:\s*\(([0-9a-fA-F]{2})\)\s?")
_LABEL = re.compile(r"\s*([A-Za-z_.$][\w.$]*)\s*:(?!\S)")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: kind is reg, num, op, id or punct; col is 1-based in the source line."""

    kind: str
    text: str
    col: int


class Line:
    """One source line being parsed: its tokens and a cursor over them."""

    def __init__(self, text: str, lineno: int, source: str, start: int = 0) -> None:
        self.text = text
        self.lineno = lineno
        self.source = source
        self.tokens = self._tokenize(text, start)
        self.pos = 0

    def _tokenize(self, text: str, start: int) -> list[Token]:
        out: list[Token] = []
        i = start
        while i < len(text):
            m = _TOKEN.match(text, i)
            if m is None:
                raise self.error(f"unexpected character '{text[i]}'", i + 1)
            kind = m.lastgroup or "ws"
            if kind != "ws":
                out.append(Token(kind, m.group(), i + 1))
            i = m.end()
        return out

    # -- errors ---------------------------------------------------------------------------
    def error(self, message: str, col: int | None = None) -> AsmError:
        """An AsmError at ``col`` (default: the current token, or end of line)."""
        if col is None:
            tok = self.peek()
            col = tok.col if tok else len(self.text.rstrip()) + 1
        return AsmError(message, self.lineno, col, self.source)

    # -- cursor ---------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        """The token ``ahead`` places on, or None past the end."""
        i = self.pos + ahead
        return self.tokens[i] if i < len(self.tokens) else None

    def at(self, text: str, ahead: int = 0) -> bool:
        """True if the token ``ahead`` places on is exactly ``text``."""
        tok = self.peek(ahead)
        return tok is not None and tok.text == text

    def next(self, what: str = "operand") -> Token:
        """Consume and return one token; end of line is an error naming ``what``."""
        tok = self.peek()
        if tok is None:
            raise self.error(f"expected {what}, found end of line")
        self.pos += 1
        return tok

    def accept(self, text: str) -> bool:
        """Consume the next token if it is ``text``."""
        if self.at(text):
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        """Consume ``text`` or fail with "expected 'text'"."""
        tok = self.peek()
        if tok is None or tok.text != text:
            found = f"'{tok.text}'" if tok else "end of line"
            raise self.error(f"expected '{text}', found {found}")
        self.pos += 1
        return tok

    def done(self) -> bool:
        """True at end of line."""
        return self.pos >= len(self.tokens)

    def end(self) -> None:
        """Fail if anything is left on the line."""
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected '{tok.text}' after the instruction")

    # -- values ---------------------------------------------------------------------------
    def reg(self, prefix: str = "") -> tuple[int, str, Token]:
        """A register: (number, width letter 'r'/'w'/'%', token); r0..r10 only."""
        tok = self.next("register")
        if tok.kind != "reg" or (prefix and not tok.text.startswith(prefix)):
            raise self.error(f"expected a register, found '{tok.text}'", tok.col)
        n = int(tok.text.lstrip("%rw"))
        if n > 10:
            raise self.error(f"invalid register '{tok.text}' (r0..r10 exist)", tok.col)
        return n, tok.text[0], tok

    def number(self, what: str = "number") -> tuple[int, bool, Token]:
        """An optionally signed integer: (value, was_hex, first token)."""
        first = self.next(what)
        sign = 1
        tok = first
        if tok.text in ("+", "-"):
            sign = -1 if tok.text == "-" else 1
            tok = self.next(what)
        if tok.kind != "num":
            raise self.error(f"expected {what}, found '{tok.text}'", tok.col)
        return sign * int(tok.text, 0), tok.text[:2].lower() == "0x", first

    def imm32(self, what: str = "immediate", unsigned: bool = False) -> int:
        """A 32-bit immediate: decimal must fit s32 (or u32 if ``unsigned``); hex may be u32."""
        v, is_hex, tok = self.number(what)
        wide = is_hex or unsigned
        lo, hi = (-(2**32) + 1, 2**32 - 1) if wide else (-(2**31), 2**31 - 1)
        if not lo <= v <= hi:
            raise self.error(f"immediate {tok_text(self, tok)} does not fit in 32 bits", tok.col)
        return v - 2**32 if v >= 2**31 else v

    def imm64(self, what: str = "immediate") -> int:
        """A 64-bit immediate (signed or unsigned), returned unsigned."""
        v, _, tok = self.number(what)
        if not -(2**63) <= v < 2**64:
            raise self.error(f"immediate {tok_text(self, tok)} does not fit in 64 bits", tok.col)
        return v & 0xFFFF_FFFF_FFFF_FFFF

    def off16(self, what: str = "offset") -> int:
        """A signed 16-bit offset."""
        v, _, tok = self.number(what)
        if not -(2**15) <= v < 2**15:
            raise self.error(f"offset {tok_text(self, tok)} does not fit in 16 bits", tok.col)
        return v


def tok_text(line: Line, first: Token) -> str:
    """The source text from ``first`` to the current position (for messages)."""
    end = line.peek()
    stop = end.col - 1 if end else len(line.text)
    return line.text[first.col - 1 : stop].strip()


def strip_prefix(text: str) -> tuple[int, int | None]:
    """Skip bpftool's ``  12: (b7) `` prefix: (column where code starts, opcode hint)."""
    m = _PREFIX.match(text)
    if m is None:
        return 0, None
    return m.end(), int(m.group(1), 16)


def split_label(text: str, start: int) -> tuple[str | None, int, int]:
    """A leading ``name:`` label: (name or None, its column, where the rest starts)."""
    m = _LABEL.match(text, start)
    if m is None:
        return None, 0, start
    return m.group(1), m.start(1) + 1, m.end()


def strip_comment(text: str, markers: tuple[str, ...]) -> str:
    """``text`` cut at the first comment marker (columns of the rest are unchanged)."""
    cut = len(text)
    for mk in markers:
        i = text.find(mk)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]
