"""``--fmt``: print an AST back as canonical bpftrace source.

The output parses back to the same tree (the round-trip property the tests check with
hypothesis): parentheses are emitted where precedence needs them, divisions inside a
predicate are parenthesised, and strings are re-escaped.
"""

from __future__ import annotations

from pybpf.lang import ast
from pybpf.lang.literals import escape_byte

_PREC = {
    "||": 2, "&&": 3, "|": 4, "^": 5, "&": 6, "==": 7, "!=": 7,
    "<": 8, "<=": 8, ">": 8, ">=": 8, "<<": 9, ">>": 9, "+": 10, "-": 10,
    "*": 11, "/": 11, "%": 11,
}  # fmt: skip
_UNARY, _POSTFIX, _ATOM = 12, 13, 14
_IND = "  "


def quote(s: str) -> str:
    """A string literal for ``s`` with escapes."""
    out = ['"']
    for c in s:
        if c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\x{ord(c):02x}")
        elif (raw := escape_byte(c)) is not None:
            out.append(raw)
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def type_spec(t: ast.TypeSpec) -> str:
    """Source text of a written type."""
    s = f"{t.tag} {t.name}" if t.tag else t.name
    if t.array is not None:
        s += f"[{t.array}]"
    if t.pointer:
        s += " " + "*" * t.pointer
    return s


def _prec(e: ast.Expr) -> int:
    if isinstance(e, ast.Ternary):
        return 1
    if isinstance(e, ast.Binary):
        return _PREC[e.op]
    if isinstance(e, ast.Unary | ast.Cast) or (isinstance(e, ast.IncDec) and e.prefix):
        return _UNARY
    if isinstance(e, ast.Integer) and e.value < 0:
        return _UNARY
    if isinstance(e, ast.FieldAccess | ast.TupleAccess | ast.Index | ast.IncDec):
        return _POSTFIX
    return _ATOM


class _Printer:
    def __init__(self) -> None:
        self.out: list[str] = []

    def emit(self, depth: int, text: str) -> None:
        self.out.append(_IND * depth + text)

    # ------------------------------------------------------------ expressions

    def expr(self, e: ast.Expr, no_div: bool = False) -> str:
        m = getattr(self, "e_" + type(e).__name__)
        s: str = m(e, no_div)
        return s

    def sub(self, e: ast.Expr, min_prec: int, no_div: bool) -> str:
        s = self.expr(e, no_div)
        if _prec(e) < min_prec:
            return f"({self.expr(e)})"
        return s

    def e_Integer(self, e: ast.Integer, nd: bool) -> str:
        return str(e.value)

    def e_String(self, e: ast.String, nd: bool) -> str:
        return quote(e.value)

    def e_Boolean(self, e: ast.Boolean, nd: bool) -> str:
        return "true" if e.value else "false"

    def e_Variable(self, e: ast.Variable, nd: bool) -> str:
        return e.name

    def e_Map(self, e: ast.Map, nd: bool) -> str:
        return e.name

    def e_MapAccess(self, e: ast.MapAccess, nd: bool) -> str:
        return f"{e.map.name}[{', '.join(self.expr(k) for k in e.keys)}]"

    def e_Builtin(self, e: ast.Builtin, nd: bool) -> str:
        return e.name

    def e_Identifier(self, e: ast.Identifier, nd: bool) -> str:
        return e.name

    def e_PositionalParam(self, e: ast.PositionalParam, nd: bool) -> str:
        return f"${e.index}"

    def e_ParamCount(self, e: ast.ParamCount, nd: bool) -> str:
        return "$#"

    def e_Call(self, e: ast.Call, nd: bool) -> str:
        return f"{e.name}({', '.join(self.expr(a) for a in e.args)})"

    def e_Binary(self, e: ast.Binary, nd: bool) -> str:
        p = _PREC[e.op]
        s = f"{self.sub(e.left, p, nd)} {e.op} {self.sub(e.right, p + 1, nd)}"
        return f"({self.e_Binary(e, False)})" if nd and e.op == "/" else s

    def e_Unary(self, e: ast.Unary, nd: bool) -> str:
        inner = self.sub(e.operand, _UNARY, nd)
        if inner.startswith(("-", "+", "&", "*")) or (e.op == "-" and inner[0] == "-"):
            inner = f"({self.expr(e.operand)})"
        return e.op + inner

    def e_IncDec(self, e: ast.IncDec, nd: bool) -> str:
        t = self.sub(e.target, _POSTFIX, nd)
        return e.op + t if e.prefix else t + e.op

    def e_Ternary(self, e: ast.Ternary, nd: bool) -> str:
        return f"{self.sub(e.cond, 2, nd)} ? {self.expr(e.then, nd)} : {self.sub(e.else_, 1, nd)}"

    def e_Cast(self, e: ast.Cast, nd: bool) -> str:
        return f"({type_spec(e.type_spec)}){self.sub(e.expr, _UNARY, nd)}"

    def e_FieldAccess(self, e: ast.FieldAccess, nd: bool) -> str:
        return f"{self.sub(e.expr, _POSTFIX, nd)}{'->' if e.arrow else '.'}{e.field}"

    def e_TupleAccess(self, e: ast.TupleAccess, nd: bool) -> str:
        return f"{self.sub(e.expr, _POSTFIX, nd)}.{e.index}"

    def e_Index(self, e: ast.Index, nd: bool) -> str:
        return f"{self.sub(e.expr, _POSTFIX, nd)}[{self.expr(e.index)}]"

    def e_Tuple(self, e: ast.Tuple, nd: bool) -> str:
        inner = ", ".join(self.expr(x) for x in e.elems)
        return f"({inner},)" if len(e.elems) == 1 else f"({inner})"

    def e_Record(self, e: ast.Record, nd: bool) -> str:
        return "(" + ", ".join(f"{f.name} = {self.expr(f.value)}" for f in e.fields) + ")"

    def _arg(self, a: ast.TypeSpec | ast.Expr) -> str:
        return type_spec(a) if isinstance(a, ast.TypeSpec) else self.expr(a)

    def e_Sizeof(self, e: ast.Sizeof, nd: bool) -> str:
        return f"sizeof({self._arg(e.arg)})"

    def e_Offsetof(self, e: ast.Offsetof, nd: bool) -> str:
        return f"offsetof({self._arg(e.arg)}, {'.'.join(e.path)})"

    def e_BlockExpr(self, e: ast.BlockExpr, nd: bool) -> str:
        parts = [self.inline_stmt(s) for s in e.stmts]
        if e.value is not None:
            parts.append(self.expr(e.value))
        return "{ " + " ".join(parts) + " }" if parts else "{ }"

    def e_Range(self, e: ast.Range, nd: bool) -> str:
        return f"{self.expr(e.start)}..{self.expr(e.end)}"

    def inline_stmt(self, s: ast.Stmt) -> str:
        sub = _Printer()
        sub.stmt(s, 0)
        text = " ".join(line.strip() for line in sub.out)
        return text

    # ------------------------------------------------------------ statements

    def block(self, b: ast.Block, depth: int) -> None:
        for s in b.stmts:
            self.stmt(s, depth)

    def stmt(self, s: ast.Stmt, d: int) -> None:
        if isinstance(s, ast.ExprStmt):
            self.emit(d, self.expr(s.expr) + ";")
        elif isinstance(s, ast.Assign):
            op = "=" if s.op is None else s.op + "="
            self.emit(d, f"{self.expr(s.target)} {op} {self.expr(s.value)};")
        elif isinstance(s, ast.VarDecl):
            t = f": {type_spec(s.type_spec)}" if s.type_spec else ""
            v = f" = {self.expr(s.value)}" if s.value is not None else ""
            self.emit(d, f"let {s.var.name}{t}{v};")
        elif isinstance(s, ast.Jump):
            v = f" {self.expr(s.value)}" if s.value is not None else ""
            self.emit(d, f"{s.kind}{v};")
        elif isinstance(s, ast.If):
            self.if_stmt(s, d, "")
        elif isinstance(s, ast.While):
            self.emit(d, f"while ({self.expr(s.cond)}) {{")
            self.block(s.body, d + 1)
            self.emit(d, "}")
        elif isinstance(s, ast.Unroll):
            self.emit(d, f"unroll ({self.expr(s.count)}) {{")
            self.block(s.body, d + 1)
            self.emit(d, "}")
        elif isinstance(s, ast.For):
            self.emit(d, f"for ({s.var.name} : {self.expr(s.iterable)}) {{")
            self.block(s.body, d + 1)
            self.emit(d, "}")
        elif isinstance(s, ast.Block):
            self.emit(d, "{")
            self.block(s, d + 1)
            self.emit(d, "}")

    def if_stmt(self, s: ast.If, d: int, prefix: str) -> None:
        self.emit(d, f"{prefix}if ({self.expr(s.cond)}) {{")
        self.block(s.then, d + 1)
        if isinstance(s.else_, ast.If):
            self.if_stmt(s.else_, d, "} else ")
            return
        if s.else_ is not None:
            self.emit(d, "} else {")
            self.block(s.else_, d + 1)
        self.emit(d, "}")

    # ------------------------------------------------------------ top level

    def program(self, p: ast.Program) -> None:
        for inc in p.includes:
            self.emit(0, f"#include <{inc.path}>" if inc.system else f'#include "{inc.path}"')
        for df in p.defines:
            params = f"({', '.join(df.params)})" if df.params is not None else ""
            self.emit(0, f"#define {df.name}{params} {df.body}".rstrip())
        if p.config is not None:
            self.emit(0, "config = {")
            for it in p.config.items:
                self.emit(1, f"{it.key} = {self.expr(it.value)};")
            self.emit(0, "}")
        for c in p.c_definitions:
            self.cdef(c, 0)
            self.out[-1] += ";"
        for m in p.map_decls:
            self.emit(0, f"let {m.map.name} = {m.kind}({m.max_entries});")
        for mac in p.macros:
            self.emit(0, f"macro {mac.name}({', '.join(mac.params)}) {{")
            body = mac.body
            self.block(ast.Block(body.span, body.stmts), 1)
            if isinstance(body, ast.BlockExpr) and body.value is not None:
                self.emit(1, self.expr(body.value))
            self.emit(0, "}")
        for f in p.functions:
            params = ", ".join(f"{a.name}: {type_spec(a.type_spec)}" for a in f.params)
            ret = f": {type_spec(f.return_type)}" if f.return_type else ""
            self.emit(0, f"fn {f.name}({params}){ret} {{")
            self.block(f.body, 1)
            self.emit(0, "}")
        for pr in p.probes:
            if self.out:
                self.out.append("")
            self.emit(0, ",\n".join(ap.raw for ap in pr.attach_points))
            if pr.predicate is not None:
                self.emit(0, f"/{self.expr(pr.predicate, True)}/")
            self.emit(0, "{")
            self.block(pr.body, 1)
            self.emit(0, "}")

    def cdef(self, c: ast.CDefinition, d: int) -> None:
        self.emit(d, f"{c.kind} {c.name} {{".replace("  ", " "))
        if c.kind == "enum":
            for name, v in c.enumerators:
                self.emit(d + 1, f"{name} = {v},")
        for f in c.fields:
            bits = f" : {f.bits}" if f.bits is not None else ""
            if f.nested is not None:
                self.cdef(f.nested, d + 1)
                self.out[-1] += f" {f.name}{bits};".replace(" ;", ";")
                continue
            ts = f.type_spec
            base = f"{ts.tag} {ts.name}" if ts.tag else ts.name
            arr = f"[{ts.array}]" if ts.array is not None else ""
            self.emit(d + 1, f"{base} {'*' * ts.pointer}{f.name}{arr}{bits};")
        self.emit(d, "}")


def format_program(program: ast.Program) -> str:
    """Canonical source text of ``program`` (trailing newline included)."""
    p = _Printer()
    p.program(program)
    return "\n".join(p.out) + "\n"


def format_expr(e: ast.Expr) -> str:
    """Source text of one expression."""
    return _Printer().expr(e)
