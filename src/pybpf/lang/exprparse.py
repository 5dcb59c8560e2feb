"""Expression parsing (C precedence, casts, postfix access, literals, calls, tuples).

:class:`ExprParser` is the expression half of the recursive-descent parser; the statement
and top-level half (:class:`pybpf.lang.parser.Parser`) derives from it.
"""

from __future__ import annotations

from pybpf.diag import Span
from pybpf.lang import ast
from pybpf.lang.cursor import TokenCursor
from pybpf.lang.lexer import IDENT, INT, MAP, PARAM, PARAMCOUNT, STRING, VAR, Token
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
MAX_DEPTH = 120
#: Binary operator -> precedence (higher binds tighter).
_PREC = {op: level for level, ops in enumerate(_BINOPS) for op in ops}


def is_builtin(name: str) -> bool:
    """True for builtin variable names (including ``arg0``.. and ``sarg0``..)."""
    if name in BUILTINS:
        return True
    for prefix in ("arg", "sarg"):
        if (
            name.startswith(prefix)
            and name[len(prefix) :].isascii()
            and name[len(prefix) :].isdigit()
        ):
            return True
    return False


class ExprParser(TokenCursor):
    """Parses expressions and written types."""

    def block_expr(self) -> ast.Block | ast.BlockExpr:
        """``{ ... }`` as an expression (provided by the statement parser)."""
        raise NotImplementedError

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
            if chain + self._depth > 2 * MAX_DEPTH:
                self.error_at("expression too long", t.span)
            self.advance()
            right = self.binary(prec + 1)
            left = ast.Binary(left.span.to(right.span), t.text, left, right)

    def unary(self) -> ast.Expr:
        """Prefix operators and casts (nesting is bounded: deep input is an error)."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
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
            if chain + self._depth > 2 * MAX_DEPTH:
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
