"""``-d ast``: the AST as an indented tree, in bpftrace's printer shape.

One node per line, one space of indent per level (``Program``, `` BEGIN``, ``  =``,
``   map: @x``, ``   int: 1``).  With ``types=True`` typed expressions get a
`` :: type[int64]`` suffix, as bpftrace prints after semantic analysis.
"""

from __future__ import annotations

from pybpf.lang import ast
from pybpf.lang.literals import escape_byte


def _esc(s: str) -> str:
    out = []
    for c in s:
        if c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\x{ord(c):02x}")
        elif (raw := escape_byte(c)) is not None:
            out.append(raw)
        else:
            out.append(c)
    return "".join(out)


class Dumper:
    """Builds the dump text of a tree."""

    def __init__(self, types: bool = False) -> None:
        self.types = types
        self.lines: list[str] = []

    def line(self, depth: int, text: str, node: ast.Node | None = None) -> None:
        """Append one line (with a type suffix for typed expressions)."""
        if self.types and isinstance(node, ast.Expr) and node.type is not None:
            text += f" :: type[{node.type}]"
        self.lines.append(" " * depth + text)

    def node(self, n: ast.Node, d: int) -> None:
        """Dump ``n`` at depth ``d``."""
        meth = getattr(self, "n_" + type(n).__name__, None)
        if meth is None:
            self.line(d, type(n).__name__.lower(), n)
            for c in n.children():
                self.node(c, d + 1)
        else:
            meth(n, d)

    def kids(self, nodes: list[ast.Stmt] | list[ast.Expr], d: int) -> None:
        """Dump each of ``nodes`` at depth ``d``."""
        for c in nodes:
            self.node(c, d)

    def n_Program(self, n: ast.Program, d: int) -> None:
        self.line(d, "Program")
        for inc in n.includes:
            path = f"<{inc.path}>" if inc.system else f'"{inc.path}"'
            self.line(d + 1, f"#include {path}")
        for df in n.defines:
            params = f"({', '.join(df.params)})" if df.params is not None else ""
            self.line(d + 1, f"#define {df.name}{params} {df.body}".rstrip())
        if n.config is not None:
            self.line(d + 1, "config")
            for it in n.config.items:
                self.line(d + 2, f"{it.key} =")
                self.node(it.value, d + 3)
        for c in n.c_definitions:
            self.node(c, d + 1)
        for m in n.map_decls:
            self.line(d + 1, f"{m.map.name} = {m.kind}({m.max_entries})")
        for mac in n.macros:
            self.line(d + 1, f"macro {mac.name}({', '.join(mac.params)})")
            self.node(mac.body, d + 2)
        for f in n.functions:
            ret = f": {f.return_type}" if f.return_type else ""
            params = ", ".join(f"{p.name}: {p.type_spec}" for p in f.params)
            self.line(d + 1, f"fn {f.name}({params}){ret}")
            self.kids(f.body.stmts, d + 2)
        for p in n.probes:
            self.node(p, d + 1)

    def n_CDefinition(self, n: ast.CDefinition, d: int) -> None:
        self.line(d, f"{n.kind} {n.name}".rstrip())
        for name, v in n.enumerators:
            self.line(d + 1, f"{name} = {v}")
        for f in n.fields:
            bits = f" : {f.bits}" if f.bits is not None else ""
            self.line(d + 1, f"{f.type_spec} {f.name}{bits}".rstrip())
            if f.nested is not None:
                self.node(f.nested, d + 2)

    def n_Probe(self, n: ast.Probe, d: int) -> None:
        for ap in n.attach_points:
            self.line(d, ap.raw)
        if n.predicate is not None:
            self.line(d + 1, "pred")
            self.node(n.predicate, d + 2)
        self.kids(n.body.stmts, d + 1)

    # statements
    def n_ExprStmt(self, n: ast.ExprStmt, d: int) -> None:
        self.node(n.expr, d)

    def n_Assign(self, n: ast.Assign, d: int) -> None:
        self.line(d, "=" if n.op is None else n.op + "=")
        self.node(n.target, d + 1)
        self.node(n.value, d + 1)

    def n_VarDecl(self, n: ast.VarDecl, d: int) -> None:
        self.line(d, "let" + (f" : {n.type_spec}" if n.type_spec else ""))
        self.node(n.var, d + 1)
        if n.value is not None:
            self.node(n.value, d + 1)

    def n_Block(self, n: ast.Block, d: int) -> None:
        self.line(d, "block")
        self.kids(n.stmts, d + 1)

    def n_If(self, n: ast.If, d: int) -> None:
        self.line(d, "if")
        self.node(n.cond, d + 1)
        self.line(d + 1, "then")
        self.kids(n.then.stmts, d + 2)
        if isinstance(n.else_, ast.If):
            self.line(d + 1, "else")
            self.node(n.else_, d + 2)
        elif n.else_ is not None:
            self.line(d + 1, "else")
            self.kids(n.else_.stmts, d + 2)

    def n_While(self, n: ast.While, d: int) -> None:
        self.line(d, "while(")
        self.node(n.cond, d + 1)
        self.line(d + 1, ")")
        self.kids(n.body.stmts, d + 2)

    def n_Unroll(self, n: ast.Unroll, d: int) -> None:
        self.line(d, "unroll")
        self.node(n.count, d + 1)
        self.line(d + 1, "block")
        self.kids(n.body.stmts, d + 2)

    def n_For(self, n: ast.For, d: int) -> None:
        self.line(d, "for")
        self.node(n.var, d + 1)
        self.node(n.iterable, d + 1)
        self.line(d + 1, "block")
        self.kids(n.body.stmts, d + 2)

    def n_Jump(self, n: ast.Jump, d: int) -> None:
        self.line(d, n.kind)
        if n.value is not None:
            self.node(n.value, d + 1)

    # expressions
    def n_Integer(self, n: ast.Integer, d: int) -> None:
        self.line(d, f"int: {n.value}", n)

    def n_String(self, n: ast.String, d: int) -> None:
        self.line(d, f"string: {_esc(n.value)}", n)

    def n_Boolean(self, n: ast.Boolean, d: int) -> None:
        self.line(d, f"bool: {'true' if n.value else 'false'}", n)

    def n_Variable(self, n: ast.Variable, d: int) -> None:
        self.line(d, f"variable: {n.name}", n)

    def n_Map(self, n: ast.Map, d: int) -> None:
        self.line(d, f"map: {n.name}", n)

    def n_MapAccess(self, n: ast.MapAccess, d: int) -> None:
        self.line(d, f"map: {n.map.name}", n)
        self.kids(n.keys, d + 1)

    def n_Builtin(self, n: ast.Builtin, d: int) -> None:
        self.line(d, f"builtin: {n.name}", n)

    def n_Identifier(self, n: ast.Identifier, d: int) -> None:
        self.line(d, f"identifier: {n.name}", n)

    def n_PositionalParam(self, n: ast.PositionalParam, d: int) -> None:
        self.line(d, f"param: ${n.index}", n)

    def n_ParamCount(self, n: ast.ParamCount, d: int) -> None:
        self.line(d, "param: $#", n)

    def n_Call(self, n: ast.Call, d: int) -> None:
        self.line(d, f"call: {n.name}", n)
        for a in n.args:
            if n.name in _STACKS and isinstance(a, ast.Identifier) and a.name in _MODES:
                self.line(d + 1, f"stack_mode: {a.name}")
            else:
                self.node(a, d + 1)

    def n_Binary(self, n: ast.Binary, d: int) -> None:
        self.line(d, n.op, n)
        self.node(n.left, d + 1)
        self.node(n.right, d + 1)

    def n_Unary(self, n: ast.Unary, d: int) -> None:
        label = {"*": "dereference", "&": "&"}.get(n.op, n.op)
        self.line(d, label, n)
        self.node(n.operand, d + 1)

    def n_IncDec(self, n: ast.IncDec, d: int) -> None:
        if n.prefix:
            self.line(d, n.op, n)
            self.node(n.target, d + 1)
        else:
            self.node(n.target, d)
            self.line(d + 1, n.op)

    def n_Ternary(self, n: ast.Ternary, d: int) -> None:
        self.line(d, "?:", n)
        self.kids([n.cond, n.then, n.else_], d + 1)

    def n_Cast(self, n: ast.Cast, d: int) -> None:
        self.line(d, f"({_typestr(n.type_spec)})", n)
        self.node(n.expr, d + 1)

    def n_FieldAccess(self, n: ast.FieldAccess, d: int) -> None:
        self.line(d, ".", n)
        if n.arrow:
            self.line(d + 1, "dereference")
            self.node(n.expr, d + 2)
        else:
            self.node(n.expr, d + 1)
        self.line(d + 1, n.field)

    def n_TupleAccess(self, n: ast.TupleAccess, d: int) -> None:
        self.line(d, ".", n)
        self.node(n.expr, d + 1)
        self.line(d + 1, str(n.index))

    def n_Index(self, n: ast.Index, d: int) -> None:
        self.line(d, "[]", n)
        self.node(n.expr, d + 1)
        self.node(n.index, d + 1)

    def n_Tuple(self, n: ast.Tuple, d: int) -> None:
        self.line(d, "tuple:", n)
        self.kids(n.elems, d + 1)

    def n_Record(self, n: ast.Record, d: int) -> None:
        self.line(d, "record:", n)
        for f in n.fields:
            self.line(d + 1, f"{f.name} =")
            self.node(f.value, d + 2)

    def n_Sizeof(self, n: ast.Sizeof, d: int) -> None:
        self.line(d, "call: sizeof", n)
        self._type_or_expr(n.arg, d + 1)

    def n_Offsetof(self, n: ast.Offsetof, d: int) -> None:
        self.line(d, "offsetof", n)
        self._type_or_expr(n.arg, d + 1)
        self.line(d + 1, ".".join(n.path))

    def _type_or_expr(self, a: ast.TypeSpec | ast.Expr, d: int) -> None:
        if isinstance(a, ast.TypeSpec):
            self.line(d, f"identifier: {_typestr(a)}")
        else:
            self.node(a, d)

    def n_BlockExpr(self, n: ast.BlockExpr, d: int) -> None:
        self.line(d, "block", n)
        self.kids(n.stmts, d + 1)
        if n.value is not None:
            self.node(n.value, d + 1)

    def n_Range(self, n: ast.Range, d: int) -> None:
        self.line(d, "range", n)
        self.node(n.start, d + 1)
        self.node(n.end, d + 1)


_STACKS = ("kstack", "ustack")
_MODES = ("bpftrace", "perf", "raw")


def _typestr(t: ast.TypeSpec) -> str:
    s = f"{t.tag} {t.name}" if t.tag else t.name
    if t.array is not None:
        s += f"[{t.array}]"
    return s + "*" * t.pointer


def dump_ast(node: ast.Node, types: bool = False) -> str:
    """The tree under ``node`` as text (trailing newline included)."""
    d = Dumper(types)
    d.node(node, 0)
    return "\n".join(d.lines) + "\n"
