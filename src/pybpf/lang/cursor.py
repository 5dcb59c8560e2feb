"""The token cursor the parser is built on: lazy lookahead, expect/accept, syntax errors.

Tokens are lexed only when looked at, because attach points lex differently from code:
at the top level the parser hands the raw text to :meth:`Lexer.attach_point`.
"""

from __future__ import annotations

from typing import NoReturn

from pybpf.diag import DiagnosticBag, Span
from pybpf.lang.lexer import EOF, IDENT, STRING, Lexer, Token


class ParseError(Exception):
    """Internal: unwinds to the top-level recovery point after a reported error."""


def _describe(tok: Token) -> str:
    if tok.kind == EOF:
        return "end of file"
    if tok.kind == STRING:
        return f'"{tok.value}"'
    return tok.text


class TokenCursor:
    """Token access for the parser (see :class:`pybpf.lang.parser.Parser`)."""

    def __init__(self, lex: Lexer, diags: DiagnosticBag) -> None:
        self.lex = lex
        self.diags = diags
        self._tok: Token | None = None
        self._ahead: list[Token] = []
        self._no_div = 0
        self._depth = 0

    # ------------------------------------------------------------ token cursor

    @property
    def tok(self) -> Token:
        """The current token (lexed lazily)."""
        if self._tok is None:
            self._tok = self._ahead.pop(0) if self._ahead else self.lex.next()
        return self._tok

    def peek(self, k: int = 1) -> Token:
        """The token ``k`` after the current one."""
        _ = self.tok
        while len(self._ahead) < k:
            self._ahead.append(self.lex.next())
        return self._ahead[k - 1]

    def advance(self) -> Token:
        """Consume and return the current token."""
        t = self.tok
        self._tok = None
        return t

    def at(self, text: str) -> bool:
        """True when the current token is the punctuator/word ``text``."""
        return self.tok.is_(text)

    def accept(self, text: str) -> Token | None:
        """Consume the current token if it is ``text``."""
        if self.at(text):
            return self.advance()
        return None

    def expect(self, text: str) -> Token:
        """Consume ``text`` or report a syntax error."""
        if self.at(text):
            return self.advance()
        self.fail(f"expecting {text}")

    def fail(self, expecting: str = "") -> NoReturn:
        """Report ``syntax error, unexpected X`` at the current token and unwind."""
        msg = f"syntax error, unexpected {_describe(self.tok)}"
        if expecting:
            msg += f", {expecting}"
        self.diags.error(msg, self.tok.span)
        raise ParseError(msg)

    def error_at(self, msg: str, span: Span) -> NoReturn:
        """Report ``msg`` at ``span`` and unwind."""
        self.diags.error(msg, span)
        raise ParseError(msg)

    def ident(self) -> Token:
        """Consume an identifier."""
        if self.tok.kind != IDENT:
            self.fail("expecting identifier")
        return self.advance()
