"""Recursive-descent parser for bpftrace scripts.

:func:`parse` turns script text into a :class:`pybpf.lang.ast.Program`, reporting syntax
errors into a :class:`~pybpf.diag.DiagnosticBag` (bpftrace's wording: ``syntax error,
unexpected ;``).  After an error the parser skips to the end of the current top-level item
and goes on, so several broken probes are all reported.
"""

from __future__ import annotations

from typing import NoReturn

from pybpf.diag import DiagnosticBag, SourceFile, Span
from pybpf.lang import ast
from pybpf.lang.lexer import EOF, IDENT, INT, MAP, PARAM, PARAMCOUNT, STRING, VAR, Lexer, Token
from pybpf.lang.preprocess import preprocess
from pybpf.passes.types import INT_NAMES

#: Builtin variables (``argN``/``sargN`` are matched by pattern).
BUILTINS = frozenset(
    "pid tid uid gid nsecs elapsed numaid cpu ncpus curtask rand ctx comm kstack ustack "
    "retval func probe username cgroup cpid jiffies args usermode __builtin_pid "
    "__builtin_tid __builtin_comm".split()
)

#: Type names accepted in casts besides the integer names.
TYPE_WORDS = frozenset(INT_NAMES) | {"string", "str_t", "void", "inet", "buffer"}

_BINOPS: list[tuple[str, ...]] = [
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", "<=", ">", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]
#: How deeply expressions may nest before the parser gives up (Python's stack is finite).
_MAX_DEPTH = 120
#: Binary operator -> precedence (higher binds tighter).
_PREC = {op: level for level, ops in enumerate(_BINOPS) for op in ops}
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}
_TOP_WORDS = {"config", "fn", "macro", "let", "struct", "union", "enum", "import"}


class ParseError(Exception):
    """Internal: unwinds to the top-level recovery point after a reported error."""


def is_builtin(name: str) -> bool:
    """True for builtin variable names (including ``arg0``.. and ``sarg0``..)."""
    if name in BUILTINS:
        return True
    for prefix in ("arg", "sarg"):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return True
    return False


def _describe(tok: Token) -> str:
    if tok.kind == EOF:
        return "end of file"
    if tok.kind == STRING:
        return f'"{tok.value}"'
    return tok.text


class Parser:
    """Parses one script; use :func:`parse`."""

    def __init__(self, src: SourceFile, diags: DiagnosticBag) -> None:
        self.src = src
        self.diags = diags
        pre = preprocess(src, diags, {"BPFTRACE_HAVE_BTF": "1"})
        self.pre = pre
        self.lex = Lexer(src, pre.text, diags, pre.defines)
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

    def type_spec(self) -> ast.TypeSpec:
        """A written type: ``int64``, ``struct foo *``, ``uint8[4]``, ``string``."""
        start = self.tok.span
        tag = ""
        if self.at("struct") or self.at("union") or self.at("enum"):
            tag = self.advance().text
        name_tok = self.ident()
        name = name_tok.text
        while self.tok.kind == IDENT and name in ("unsigned", "signed", "long", "short"):
            name += " " + self.advance().text
        end = name_tok.span
        array = None
        if self.at("["):
            self.advance()
            n = self.tok
            if n.kind != INT:
                self.fail("expecting integer")
            self.advance()
            array = int(n.value or 0)
            end = self.expect("]").span
        ptr = 0
        while self.at("*"):
            end = self.advance().span
            ptr += 1
        return ast.TypeSpec(start.to(end), name, tag, ptr, array)

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
        if self._depth > _MAX_DEPTH:
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

    # ------------------------------------------------------------ expressions

    def expr(self) -> ast.Expr:
        """A full expression (ternary level)."""
        cond = self.binary(0)
        if self.accept("?"):
            then = self.expr()
            self.expect(":")
            els = self.expr()
            return ast.Ternary(cond.span.to(els.span), cond, then, els)
        return cond

    def binary(self, min_prec: int) -> ast.Expr:
        """Left-associative binary operators by precedence climbing (``min_prec`` 0 = all)."""
        left = self.unary()
        chain = 0
        while True:
            t = self.tok
            prec = _PREC.get(t.text, -1) if t.kind == "punct" else -1
            if prec < min_prec or (t.text == "/" and self._no_div):
                return left
            # A long operator chain makes a deep tree that later passes walk recursively.
            chain += 1
            if chain + self._depth > 2 * _MAX_DEPTH:
                self.error_at("expression too long", t.span)
            self.advance()
            right = self.binary(prec + 1)
            left = ast.Binary(left.span.to(right.span), t.text, left, right)

    def unary(self) -> ast.Expr:
        """Prefix operators and casts (nesting is bounded: deep input is an error)."""
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                self.error_at("expression nested too deeply", self.tok.span)
            return self._unary()
        finally:
            self._depth -= 1

    def _unary(self) -> ast.Expr:
        t = self.tok
        if t.kind == "punct" and t.text in ("-", "!", "~", "*", "&"):
            self.advance()
            operand = self.unary()
            if t.text == "-" and isinstance(operand, ast.Integer) and operand.value > 0:
                operand.value = -operand.value
                operand.span = t.span.to(operand.span)
                return operand
            return ast.Unary(t.span.to(operand.span), t.text, operand)
        if t.kind == "punct" and t.text in ("++", "--"):
            self.advance()
            target = self.unary()
            return ast.IncDec(t.span.to(target.span), t.text, True, target)
        if t.is_("(") and self.looks_like_cast():
            self.advance()
            ts = self.type_spec()
            self.expect(")")
            e = self.unary()
            return ast.Cast(t.span.to(e.span), ts, e)
        return self.postfix(self.primary())

    def looks_like_cast(self) -> bool:
        """After ``(``: does a type follow (and then ``)``)?"""
        n = self.peek()
        if n.kind != IDENT:
            return False
        if n.text in ("struct", "union", "enum"):
            return True
        if n.text not in TYPE_WORDS and not n.text.endswith("_t"):
            return False
        n2 = self.peek(2)
        return n2.is_(")") or n2.is_("*") or n2.is_("[") or n2.kind == IDENT

    def postfix(self, e: ast.Expr) -> ast.Expr:
        """``.f``, ``->f``, ``[i]``, ``++``, ``--`` after a primary."""
        chain = 0
        while True:
            t = self.tok
            chain += 1
            if chain + self._depth > 2 * _MAX_DEPTH:
                self.error_at("expression too long", t.span)
            if t.is_(".") or t.is_("->"):
                self.advance()
                f = self.tok
                if f.kind == INT and t.is_("."):
                    self.advance()
                    e = ast.TupleAccess(e.span.to(f.span), e, int(f.value or 0))
                    continue
                if f.kind != IDENT:
                    self.fail("expecting identifier")
                self.advance()
                e = ast.FieldAccess(e.span.to(f.span), e, f.text, t.is_("->"))
            elif t.is_("["):
                self.advance()
                idx = self.expr()
                end = self.expect("]").span
                e = ast.Index(e.span.to(end), e, idx)
            elif t.is_("++") or t.is_("--"):
                self.advance()
                e = ast.IncDec(e.span.to(t.span), t.text, False, e)
            else:
                return e

    def primary(self) -> ast.Expr:
        """Literals, names, calls, parenthesised expressions, tuples, records, blocks."""
        t = self.tok
        k = t.kind
        if k == INT:
            self.advance()
            return ast.Integer(t.span, int(t.value or 0))
        if k == STRING:
            self.advance()
            return ast.String(t.span, str(t.value))
        if k == VAR:
            self.advance()
            return ast.Variable(t.span, str(t.value))
        if k == PARAM:
            self.advance()
            return ast.PositionalParam(t.span, int(t.value or 0))
        if k == PARAMCOUNT:
            self.advance()
            return ast.ParamCount(t.span)
        if k == MAP:
            return self.map_expr()
        if k == IDENT:
            return self.name_expr()
        if t.is_("("):
            return self.paren_expr()
        if t.is_("{"):
            b = self.block_expr()
            if isinstance(b, ast.Block):
                return ast.BlockExpr(b.span, b.stmts, None)
            return b
        self.fail()

    def map_expr(self) -> ast.Expr:
        """``@m`` or ``@m[k1, k2]``."""
        t = self.advance()
        m = ast.Map(t.span, t.text)
        if not self.at("["):
            return m
        self.advance()
        keys: list[ast.Expr] = []
        while not self.at("]"):
            keys.append(self.expr())
            if not self.accept(","):
                break
        end = self.expect("]").span
        return ast.MapAccess(t.span.to(end), m, keys)

    def name_expr(self) -> ast.Expr:
        """Identifiers: booleans, sizeof/offsetof, calls, builtins, bare names."""
        t = self.advance()
        w = t.text
        if w in ("true", "false"):
            return ast.Boolean(t.span, w == "true")
        if w in ("sizeof", "offsetof") and self.at("("):
            return self.sizeof_expr(t)
        if self.at("("):
            self.advance()
            args: list[ast.Expr] = []
            saved, self._no_div = self._no_div, 0
            try:
                while not self.at(")"):
                    args.append(self.expr())
                    if not self.accept(","):
                        break
                end = self.expect(")").span
            finally:
                self._no_div = saved
            return ast.Call(t.span.to(end), w, args)
        if is_builtin(w):
            return ast.Builtin(t.span, w)
        if w in ("if", "else", "while", "for", "return", "let", "unroll"):
            self.error_at(f"syntax error, unexpected {w}", t.span)
        return ast.Identifier(t.span, w)

    def sizeof_expr(self, t: Token) -> ast.Expr:
        """``sizeof(type|expr)``, ``offsetof(type|expr, a.b)``."""
        self.expect("(")
        arg: ast.TypeSpec | ast.Expr
        if self.tok.kind == IDENT and (
            self.tok.text in ("struct", "union", "enum") or self.tok.text in TYPE_WORDS
        ):
            arg = self.type_spec()
        else:
            arg = self.expr()
        if t.text == "sizeof":
            end = self.expect(")").span
            return ast.Sizeof(t.span.to(end), arg)
        self.expect(",")
        path = [self.ident().text]
        while self.accept("."):
            path.append(self.ident().text)
        end = self.expect(")").span
        return ast.Offsetof(t.span.to(end), arg, path)

    def paren_expr(self) -> ast.Expr:
        """``(e)``, ``(a, b)``, ``(a,)``, ``(name = v, ...)``."""
        start = self.advance().span
        saved, self._no_div = self._no_div, 0
        try:
            if self.tok.kind == IDENT and self.peek().is_("="):
                return self.record(start)
            first = self.expr()
            if self.at(")"):
                self.advance()
                return first
            elems = [first]
            while self.accept(","):
                if self.at(")"):
                    break
                elems.append(self.expr())
            end = self.expect(")").span
            return ast.Tuple(start.to(end), elems)
        finally:
            self._no_div = saved

    def record(self, start: Span) -> ast.Record:
        """``(name = value, ...)`` after the ``(``."""
        fields: list[ast.RecordField] = []
        while not self.at(")"):
            n = self.ident()
            self.expect("=")
            v = self.expr()
            fields.append(ast.RecordField(n.span.to(v.span), n.text, v))
            if not self.accept(","):
                break
        end = self.expect(")").span
        return ast.Record(start.to(end), fields)


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
