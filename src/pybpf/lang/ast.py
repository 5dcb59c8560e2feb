"""AST node classes for bpftrace scripts.

Every node has ``span`` (where it came from).  Expressions (:class:`Expr`) also have
``type``, a :class:`pybpf.passes.types.Type` that the type pass fills in (``None`` before).
Nodes are plain mutable dataclasses: passes annotate them in place (``type``, resolved
``AttachPoint`` fields, ``Probe.index`` ...).  Equality is identity; compare trees with
:func:`pybpf.lang.dump.dump_ast` text.

Tree shape::

    Program(config, includes, defines, c_definitions, map_decls, macros, functions, probes)
      Probe(attach_points, predicate, body: Block)
        Block(stmts)
          ExprStmt | VarDecl | Assign | If | While | Unroll | For | Jump | Block
            expressions: Integer String Boolean Variable Map MapAccess Builtin Identifier
            PositionalParam ParamCount Call Binary Unary IncDec Ternary Cast FieldAccess
            TupleAccess Index Tuple Record Sizeof Offsetof BlockExpr Range
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pybpf.diag.span import NO_SPAN, Span
from pybpf.records import dataclass, field, fields

if TYPE_CHECKING:
    from pybpf.passes.types import Type


@dataclass(eq=False)
class Node:
    """Base node: every node has a span."""

    span: Span

    def children(self) -> Iterator[Node]:
        """Direct child nodes, in source order."""
        for name in _child_fields(type(self)):
            v = getattr(self, name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, Node):
                        yield x


@dataclass(eq=False)
class Expr(Node):
    """An expression; ``type`` is set by the type pass."""

    type: Type | None = field(default=None, kw_only=True)


@dataclass(eq=False)
class Stmt(Node):
    """A statement."""


# ---------------------------------------------------------------- type syntax


@dataclass(eq=False)
class TypeSpec(Node):
    """A written type: ``int64``, ``uint8[4]``, ``struct task_struct *``, ``string``.

    ``tag`` is ``struct``/``union``/``enum`` or ``""``; ``pointer`` the number of ``*``;
    ``array`` the element count of a trailing ``[N]`` (None when absent).
    """

    name: str
    tag: str = ""
    pointer: int = 0
    array: int | None = None

    def __str__(self) -> str:
        s = f"{self.tag} {self.name}" if self.tag else self.name
        if self.array is not None:
            s += f"[{self.array}]"
        if self.pointer:
            s += " " + "*" * self.pointer
        return s


# ---------------------------------------------------------------- expressions


@dataclass(eq=False)
class Integer(Expr):
    """An integer literal (durations are converted to nanoseconds; chars to codes)."""

    value: int


@dataclass(eq=False)
class String(Expr):
    """A string literal (escapes decoded)."""

    value: str


@dataclass(eq=False)
class Boolean(Expr):
    """``true`` or ``false``."""

    value: bool


@dataclass(eq=False)
class Variable(Expr):
    """A scratch variable, ``$name`` (name includes the ``$``)."""

    name: str


@dataclass(eq=False)
class Map(Expr):
    """A map, ``@name`` (name includes the ``@``; ``@`` alone is the anonymous map)."""

    name: str


@dataclass(eq=False)
class MapAccess(Expr):
    """``@m[k1, k2]``: the value stored under a key (several keys form a tuple key)."""

    map: Map
    keys: list[Expr]


@dataclass(eq=False)
class Builtin(Expr):
    """A builtin variable: pid, comm, nsecs, args, retval, arg0, sarg1, curtask, ..."""

    name: str


@dataclass(eq=False)
class Identifier(Expr):
    """A bare name not otherwise known: enum constants, stack modes (``kstack(perf)``)."""

    name: str


@dataclass(eq=False)
class PositionalParam(Expr):
    """``$1`` .. ``$N`` (replaced by a literal by the params pass)."""

    index: int


@dataclass(eq=False)
class ParamCount(Expr):
    """``$#``: the number of positional parameters."""


@dataclass(eq=False)
class Call(Expr):
    """A function call: builtin function, map function or user ``fn``/``macro``."""

    name: str
    args: list[Expr]


@dataclass(eq=False)
class Binary(Expr):
    """``left op right`` for ``+ - * / % & | ^ << >> == != < <= > >= && ||``."""

    op: str
    left: Expr
    right: Expr


@dataclass(eq=False)
class Unary(Expr):
    """``op operand`` for ``- ! ~ * &`` (``*`` dereferences, ``&`` takes an address)."""

    op: str
    operand: Expr


@dataclass(eq=False)
class IncDec(Expr):
    """``++x``/``x++``/``--x``/``x--`` on a variable or map element."""

    op: str
    prefix: bool
    target: Expr


@dataclass(eq=False)
class Ternary(Expr):
    """``cond ? then : else_``."""

    cond: Expr
    then: Expr
    else_: Expr


@dataclass(eq=False)
class Cast(Expr):
    """``(type) expr``."""

    type_spec: TypeSpec
    expr: Expr


@dataclass(eq=False)
class FieldAccess(Expr):
    """``expr.field`` or ``expr->field`` (``arrow``)."""

    expr: Expr
    field: str
    arrow: bool = False


@dataclass(eq=False)
class TupleAccess(Expr):
    """``$t.0``: a tuple element by position."""

    expr: Expr
    index: int


@dataclass(eq=False)
class Index(Expr):
    """``expr[index]`` on an array or pointer (map element access is :class:`MapAccess`)."""

    expr: Expr
    index: Expr


@dataclass(eq=False)
class Tuple(Expr):
    """``(a, b, ...)`` with at least two elements (or ``(a,)``)."""

    elems: list[Expr]


@dataclass(eq=False)
class RecordField(Node):
    """``name = value`` inside a record literal."""

    name: str
    value: Expr


@dataclass(eq=False)
class Record(Expr):
    """``(a = 1, b = "x")``: a tuple with named fields."""

    fields: list[RecordField]


@dataclass(eq=False)
class Sizeof(Expr):
    """``sizeof(type)`` or ``sizeof(expr)``; ``value`` is the constant once the type pass
    knows it (it folds ``sizeof``, as bpftrace's semantic analyser does)."""

    arg: TypeSpec | Expr
    value: int | None = field(default=None, kw_only=True)


@dataclass(eq=False)
class Offsetof(Expr):
    """``offsetof(struct foo, a.b)`` or ``offsetof(expr, a)``; ``value`` as for
    :class:`Sizeof`."""

    arg: TypeSpec | Expr
    path: list[str]
    value: int | None = field(default=None, kw_only=True)


@dataclass(eq=False)
class BlockExpr(Expr):
    """``{ stmts; value }``: a block whose last expression is its value."""

    stmts: list[Stmt]
    value: Expr | None


@dataclass(eq=False)
class Range(Expr):
    """``start..end`` (only in ``for`` loops; end exclusive)."""

    start: Expr
    end: Expr


# ---------------------------------------------------------------- statements


@dataclass(eq=False)
class Block(Stmt):
    """``{ stmt; ... }``; also the body of probes, functions and loops."""

    stmts: list[Stmt]


@dataclass(eq=False)
class ExprStmt(Stmt):
    """An expression evaluated for its effect (calls, ``$x++``)."""

    expr: Expr


@dataclass(eq=False)
class VarDecl(Stmt):
    """``let $x[: type] [= value];``."""

    var: Variable
    type_spec: TypeSpec | None
    value: Expr | None


@dataclass(eq=False)
class Assign(Stmt):
    """``target = value`` or ``target op= value`` (``op`` e.g. ``+``; None for plain)."""

    target: Expr
    value: Expr
    op: str | None = None


@dataclass(eq=False)
class If(Stmt):
    """``if (cond) { then } else { else_ }``; ``else if`` is an :class:`If` in ``else_``."""

    cond: Expr
    then: Block
    else_: Block | If | None = None


@dataclass(eq=False)
class While(Stmt):
    """``while (cond) { body }``."""

    cond: Expr
    body: Block


@dataclass(eq=False)
class Unroll(Stmt):
    """``unroll(count) { body }``."""

    count: Expr
    body: Block


@dataclass(eq=False)
class For(Stmt):
    """``for ($kv : @map) { }`` or ``for ($i : a..b) { }`` (``iterable`` is Map or Range)."""

    var: Variable
    iterable: Expr
    body: Block


@dataclass(eq=False)
class Jump(Stmt):
    """``break``, ``continue`` or ``return [value]``."""

    kind: str
    value: Expr | None = None


# ---------------------------------------------------------------- top level


@dataclass(eq=False)
class AttachPoint(Node):
    """One attach point as written, plus the fields the attach-point pass fills in.

    ``raw`` is the text (``t:syscalls:sys_enter_open*``).  After the attach-point pass:
    ``provider`` is canonical (``tracepoint``, ``kprobe``, ``uprobe``, ``begin``, ...);
    ``target`` is the tracepoint category / binary path / software event name;
    ``func`` the function, tracepoint or event name (may contain ``*``); ``offset`` a
    ``+off``; ``address`` a ``0xaddr`` function; ``freq`` / ``period`` for profile,
    interval, software, hardware (with ``unit``: ``s``/``ms``/``us``/``hz``/``ns``);
    ``mode``/``length`` for watchpoints; ``lang`` for uprobes; ``pid`` for watchpoints/usdt.
    After expansion, ``matches`` lists the concrete probe names (``tracepoint:cat:name``)
    the wildcard stood for (a single entry for non-wildcard points).
    """

    raw: str
    provider: str = ""
    target: str = ""
    namespace: str = ""
    func: str = ""
    offset: int = 0
    address: int | None = None
    freq: int = 0
    unit: str = ""
    mode: str = ""
    length: int = 0
    lang: str = ""
    pid: int | None = None
    matches: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Canonical full name, e.g. ``tracepoint:syscalls:sys_enter_read``."""
        from pybpf.lang.probename import canonical_name

        return canonical_name(self)


@dataclass(eq=False)
class Probe(Node):
    """``attach, points /predicate/ { body }``; ``index`` is the probe's ordinal."""

    attach_points: list[AttachPoint]
    predicate: Expr | None
    body: Block
    index: int = 0


@dataclass(eq=False)
class Param(Node):
    """``$name: type`` in a function signature."""

    name: str
    type_spec: TypeSpec


@dataclass(eq=False)
class Function(Node):
    """``fn name($a: int64, ...): type { body }``."""

    name: str
    params: list[Param]
    return_type: TypeSpec | None
    body: Block


@dataclass(eq=False)
class MacroDef(Node):
    """``macro name(a, $b, @c) { body }``: expanded inline at each call."""

    name: str
    params: list[str]
    body: Block | BlockExpr


@dataclass(eq=False)
class MapDecl(Node):
    """``let @m = hash(N);`` (kind: hash, lruhash, percpuhash, percpulruhash, percpuarray)."""

    map: Map
    kind: str
    max_entries: int


@dataclass(eq=False)
class ConfigItem(Node):
    """``key = value`` inside ``config = { ... }``."""

    key: str
    value: Expr


@dataclass(eq=False)
class Config(Node):
    """``config = { key = value; ... }``."""

    items: list[ConfigItem]


@dataclass(eq=False)
class Include(Node):
    """``#include <path>`` (``system``) or ``#include "path"``."""

    path: str
    system: bool = True


@dataclass(eq=False)
class Define(Node):
    """``#define NAME body`` or ``#define NAME(a, b) body`` (``params`` None if object-like)."""

    name: str
    params: list[str] | None
    body: str


@dataclass(eq=False)
class CField(Node):
    """A member of a C struct/union definition; ``bits`` for bitfields."""

    name: str
    type_spec: TypeSpec
    bits: int | None = None
    #: For anonymous nested struct/union members: the nested definition.
    nested: CDefinition | None = None


@dataclass(eq=False)
class CDefinition(Node):
    """A C ``struct``/``union``/``enum`` definition in the script.

    ``fields`` for struct/union; ``enumerators`` (name, value) for enums.
    """

    kind: str
    name: str
    fields: list[CField] = field(default_factory=list)
    enumerators: list[tuple[str, int]] = field(default_factory=list)


@dataclass(eq=False)
class Program(Node):
    """A whole script."""

    config: Config | None = None
    includes: list[Include] = field(default_factory=list)
    defines: list[Define] = field(default_factory=list)
    c_definitions: list[CDefinition] = field(default_factory=list)
    map_decls: list[MapDecl] = field(default_factory=list)
    macros: list[MacroDef] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)


_FIELD_CACHE: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of ``cls`` that may hold children (cached per class)."""
    names = _FIELD_CACHE.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls) if f.name not in ("span", "type"))
        _FIELD_CACHE[cls] = names
    return names


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        kids = list(n.children())
        kids.reverse()
        stack.extend(kids)


def synthetic(span: Span | None = None) -> Span:
    """The span to give a node a pass creates (its origin's, or none)."""
    return span if span is not None else NO_SPAN


def node_attrs(node: Node) -> dict[str, Any]:
    """Non-child attributes of a node (for dumps and tests)."""
    out: dict[str, Any] = {}
    for f in fields(node):
        if f.name in ("span", "type"):
            continue
        v = getattr(node, f.name)
        if not isinstance(v, Node | list):
            out[f.name] = v
    return out
