"""Recursive-descent parser for bpftrace scripts.

:func:`parse` turns script text into a :class:`pybpf.lang.ast.Program`, reporting syntax
errors into a :class:`~pybpf.diag.DiagnosticBag` (bpftrace's wording: ``syntax error,
unexpected ;``).  After an error the parser skips to the end of the current top-level item
and goes on, so several broken probes are all reported.
"""

from __future__ import annotations

from pybpf.diag import DiagnosticBag, SourceFile
from pybpf.lang import ast
from pybpf.lang.cursor import ParseError
from pybpf.lang.exprparse import BUILTINS, MAX_DEPTH, TYPE_WORDS, ExprParser, is_builtin
from pybpf.lang.lexer import EOF, IDENT, INT, MAP, VAR, Lexer
from pybpf.lang.preprocess import preprocess

__all__ = ["BUILTINS", "TYPE_WORDS", "ParseError", "ParseResult", "Parser", "is_builtin", "parse"]

_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}
_TOP_WORDS = {"config", "fn", "macro", "let", "struct", "union", "enum", "import"}


class Parser(ExprParser):
    """Parses one script; use :func:`parse`."""

    def __init__(self, src: SourceFile, diags: DiagnosticBag) -> None:
        self.src = src
        pre = preprocess(src, diags, {"BPFTRACE_HAVE_BTF": "1"})
        self.pre = pre
        super().__init__(Lexer(src, pre.text, diags, pre.defines), diags)

    # ------------------------------------------------------------ program

    def program(self) -> ast.Program:
        """Parse the whole script."""
        prog = ast.Program(self.src.span(0, len(self.src.text)))
        prog.includes = list(self.pre.includes)
        prog.defines = list(self.pre.defines)
        while True:
            if self._tok is None and not self._ahead and self.lex.at_eof():
                break
            if self._tok is not None and self._tok.kind == EOF:
                break
            self.unlex()
            self.lex.skip_trivia()
            start = self.lex.pos
            try:
                self.top_level(prog)
            except ParseError:
                self.recover(start)
        for i, p in enumerate(prog.probes):
            p.index = i
        return prog

    def recover(self, start: int) -> None:
        """Skip the broken top-level item: from its start to the ``}`` closing its body."""
        self._tok, self._ahead = None, []
        self.lex.pos = start
        self.lex.pending_clear()
        real, self.lex.diags = self.lex.diags, DiagnosticBag()
        try:
            depth = 0
            while True:
                t = self.lex.next()
                if t.kind == EOF:
                    break
                if t.is_("{"):
                    depth += 1
                elif t.is_("}"):
                    depth -= 1
                    if depth <= 0:
                        break
        finally:
            self.lex.diags = real

    def top_level(self, prog: ast.Program) -> None:
        """One top-level item."""
        word = self.peek_top_word()
        if word == "config" and self._next_is("="):
            prog.config = self.config()
        elif word == "fn":
            prog.functions.append(self.function())
        elif word == "macro":
            prog.macros.append(self.macro())
        elif word == "let":
            prog.map_decls.append(self.map_decl())
        elif word in ("struct", "union", "enum"):
            prog.c_definitions.append(self.c_definition())
        elif word == "import":
            self.advance()
            self.advance()
            self.expect(";")
            self._tok = None
        else:
            prog.probes.append(self.probe())

    def peek_top_word(self) -> str:
        """The word starting the next top-level item, without lexing attach points."""
        if self._tok is not None:
            return self._tok.text if self._tok.kind == IDENT else ""
        return self.lex.peek_word()

    def _next_is(self, text: str) -> bool:
        return self.peek().is_(text)

    def unlex(self) -> None:
        """Put lookahead tokens back (attach points lex differently from code)."""
        if self._tok is not None:
            if self._tok.kind != EOF and self._tok.span.start >= 0:
                self.lex.pos = self._tok.span.start
            self._tok = None
            self._ahead = []

    # ------------------------------------------------------------ probes

    def probe(self) -> ast.Probe:
        """``attach, points /pred/ { body }``."""
        self.unlex()
        aps: list[ast.AttachPoint] = []
        while True:
            t = self.lex.attach_point()
            if t is None:
                self.fail()
            aps.append(ast.AttachPoint(t.span, t.text))
            self.lex.skip_trivia()
            if self.lex.text.startswith(",", self.lex.pos):
                self.lex.pos += 1
                continue
            break
        pred = None
        if self.accept("/"):
            self._no_div += 1
            try:
                pred = self.expr()
            finally:
                self._no_div -= 1
            self.expect("/")
        if not self.at("{"):
            self.fail("expecting {")
        body = self.block()
        return ast.Probe(aps[0].span.to(body.span), aps, pred, body)

    # ------------------------------------------------------------ other top level

    def config(self) -> ast.Config:
        """``config = { key = value; ... }``."""
        start = self.advance().span
        self.expect("=")
        self.expect("{")
        items: list[ast.ConfigItem] = []
        while not self.at("}"):
            key = self.ident()
            self.expect("=")
            value = self.expr()
            items.append(ast.ConfigItem(key.span.to(value.span), key.text, value))
            if not self.accept(";"):
                break
        end = self.expect("}").span
        self.accept(";")
        return ast.Config(start.to(end), items)

    def function(self) -> ast.Function:
        """``fn name($a: type, ...): type { body }``."""
        start = self.advance().span
        name = self.ident().text
        self.expect("(")
        params: list[ast.Param] = []
        while not self.at(")"):
            v = self.tok
            if v.kind != VAR:
                self.fail("expecting variable")
            self.advance()
            self.expect(":")
            ts = self.type_spec()
            params.append(ast.Param(v.span.to(ts.span), str(v.value), ts))
            if not self.accept(","):
                break
        self.expect(")")
        ret = None
        if self.accept(":"):
            ret = self.type_spec()
        body = self.block()
        return ast.Function(start.to(body.span), name, params, ret, body)

    def macro(self) -> ast.MacroDef:
        """``macro name(a, $b, @c) { body }``."""
        start = self.advance().span
        name = self.ident().text
        self.expect("(")
        params: list[str] = []
        while not self.at(")"):
            if self.tok.kind not in (IDENT, VAR, MAP):
                self.fail("expecting macro parameter")
            params.append(self.advance().text)
            if not self.accept(","):
                break
        self.expect(")")
        body = self.block_expr()
        return ast.MacroDef(start.to(body.span), name, params, body)

    def map_decl(self) -> ast.MapDecl:
        """``let @m = hash(N);``."""
        start = self.advance().span
        m = self.tok
        if m.kind != MAP:
            self.fail("expecting map")
        self.advance()
        self.expect("=")
        kind = self.ident().text
        self.expect("(")
        n = self.tok
        if n.kind != INT:
            self.fail("expecting integer")
        self.advance()
        self.expect(")")
        end = self.expect(";").span
        return ast.MapDecl(start.to(end), ast.Map(m.span, m.text), kind, int(n.value or 0))

    def c_definition(self) -> ast.CDefinition:
        """A C struct/union/enum definition (``struct x { ... };``)."""
        from pybpf.lang.cdefs import parse_c_definition

        d = parse_c_definition(self)
        self.accept(";")
        return d

    # ------------------------------------------------------------ statements

    def block(self) -> ast.Block:
        """``{ stmt; ... }``."""
        if self._depth > MAX_DEPTH:
            self.error_at("blocks nested too deeply", self.tok.span)
        self._depth += 4
        try:
            return self._block()
        finally:
            self._depth -= 4

    def _block(self) -> ast.Block:
        start = self.expect("{").span
        stmts: list[ast.Stmt] = []
        while not self.at("}"):
            if self.tok.kind == EOF:
                self.fail("expecting }")
            if self.accept(";"):
                continue
            stmts.append(self.statement())
            if not self.at("}") and not isinstance(stmts[-1], _NO_SEMI):
                self.expect(";")
        end = self.advance().span
        return ast.Block(start.to(end), stmts)

    def block_expr(self) -> ast.Block | ast.BlockExpr:
        """A block whose final expression without ``;`` is its value."""
        start = self.expect("{").span
        stmts: list[ast.Stmt] = []
        value: ast.Expr | None = None
        while not self.at("}"):
            if self.tok.kind == EOF:
                self.fail("expecting }")
            if self.accept(";"):
                continue
            s = self.statement()
            if self.at("}") and isinstance(s, ast.ExprStmt):
                value = s.expr
                break
            stmts.append(s)
            if not self.at("}") and not isinstance(s, _NO_SEMI):
                self.expect(";")
        end = self.expect("}").span
        if value is None:
            return ast.Block(start.to(end), stmts)
        return ast.BlockExpr(start.to(end), stmts, value)

    def statement(self) -> ast.Stmt:
        """One statement."""
        t = self.tok
        if t.kind == IDENT:
            w = t.text
            if w == "if":
                return self.if_stmt()
            if w == "while":
                return self.while_stmt()
            if w == "unroll":
                return self.unroll_stmt()
            if w == "for":
                return self.for_stmt()
            if w in ("break", "continue"):
                self.advance()
                return ast.Jump(t.span, w)
            if w == "return":
                self.advance()
                if self.at(";") or self.at("}"):
                    return ast.Jump(t.span, w)
                v = self.expr()
                return ast.Jump(t.span.to(v.span), w, v)
            if w == "let":
                return self.let_stmt()
        if t.is_("{"):
            return self.block()
        e = self.expr()
        op = self.tok.text if self.tok.kind == "punct" and self.tok.text in _ASSIGN_OPS else ""
        if op:
            if not isinstance(e, ast.Variable | ast.Map | ast.MapAccess | ast.FieldAccess):
                self.error_at("syntax error, unexpected " + op, self.tok.span)
            self.advance()
            v = self.expr()
            return ast.Assign(e.span.to(v.span), e, v, None if op == "=" else op[:-1])
        return ast.ExprStmt(e.span, e)

    def let_stmt(self) -> ast.VarDecl:
        """``let $x[: type] [= value]``."""
        start = self.advance().span
        v = self.tok
        if v.kind != VAR:
            self.fail("expecting variable")
        self.advance()
        var = ast.Variable(v.span, str(v.value))
        ts = self.type_spec() if self.accept(":") else None
        value = self.expr() if self.accept("=") else None
        end = value.span if value else ts.span if ts else v.span
        return ast.VarDecl(start.to(end), var, ts, value)

    def if_stmt(self) -> ast.If:
        """``if cond { } [else if ... | else { }]``."""
        start = self.advance().span
        cond = self.expr()
        then = self.block()
        els: ast.Block | ast.If | None = None
        if self.accept("else"):
            els = self.if_stmt() if self.at("if") else self.block()
        return ast.If(start.to((els or then).span), cond, then, els)

    def while_stmt(self) -> ast.While:
        """``while cond { }``."""
        start = self.advance().span
        cond = self.expr()
        body = self.block()
        return ast.While(start.to(body.span), cond, body)

    def unroll_stmt(self) -> ast.Unroll:
        """``unroll(n) { }``."""
        start = self.advance().span
        self.expect("(")
        count = self.expr()
        self.expect(")")
        body = self.block()
        return ast.Unroll(start.to(body.span), count, body)

    def for_stmt(self) -> ast.For:
        """``for ($x : @m) { }`` / ``for ($i : a..b) { }``."""
        start = self.advance().span
        self.expect("(")
        v = self.tok
        if v.kind != VAR:
            self.fail("expecting variable")
        self.advance()
        self.expect(":")
        first = self.expr()
        it: ast.Expr = first
        if self.accept(".."):
            end = self.expr()
            it = ast.Range(first.span.to(end.span), first, end)
        self.expect(")")
        body = self.block()
        return ast.For(start.to(body.span), ast.Variable(v.span, str(v.value)), it, body)


_NO_SEMI = (ast.If, ast.While, ast.Unroll, ast.For, ast.Block)


def parse(text: str, filename: str = "stdin", diags: DiagnosticBag | None = None) -> ParseResult:
    """Parse ``text``; returns the program, the diagnostics and the source file."""
    bag = diags if diags is not None else DiagnosticBag()
    src = SourceFile(filename, text)
    prog = Parser(src, bag).program()
    return ParseResult(prog, bag, src)


class ParseResult:
    """What :func:`parse` returns."""

    def __init__(self, program: ast.Program, diags: DiagnosticBag, source: SourceFile) -> None:
        self.program = program
        self.diags = diags
        self.source = source
