"""Resource analysis: what code generation must allocate, as plain data.

:class:`Resources` (in ``ctx.resources`` after the pass) holds:

``maps``
    name -> :class:`MapInfo`: ``key`` (None for a scalar map, the single key type, or a
    :class:`~pybpf.passes.types.TupleType` of several keys), ``value`` (the value type; an
    :class:`~pybpf.passes.types.AggType` for aggregations), ``kind`` (``hash``,
    ``lruhash``, ``percpuhash``, ``percpulruhash``, ``percpuarray``, ``array``) and
    ``max_entries``.  Aggregation maps default to ``percpuhash`` (``percpuarray`` when
    scalar); other keyed maps to ``hash``; scalar maps to ``array`` with one entry.
``formats``
    one :class:`FormatInfo` per ``printf``/``errorf``/``warnf``/``system``/``cat``/
    ``time``/``strftime``/``join`` call site: ``id`` (its index), ``kind`` (the function),
    ``fmt`` (the literal, '' if none), ``args`` (a TupleType: the argument record layout
    the BPF side writes after the id), ``span``.  ``format_of[id(call_node)]`` gives the id.
``probes``
    one :class:`ProbeInfo` per probe: ``index``, ``names`` (expanded attach point names),
    ``args`` (per name: the ``args`` type, when used), ``stacks`` (stack types used),
    ``variables`` (``$name`` -> type), and the scratch estimate: ``scratch_vars`` (bytes of
    the non-scalar variables: strings, tuples, records, buffers, structs by value) and
    ``scratch_temp`` (the largest non-scalar value any single expression produces).  Scalars
    (integers, pointers, bools) fit in registers/stack slots and are not counted.
``stacks``
    every distinct :class:`~pybpf.passes.types.StackType` used (one stack map each).
``max_strlen`` and ``config``
    the effective configuration.
"""

from __future__ import annotations

from typing import Any

from pybpf.diag import Span
from pybpf.lang import ast
from pybpf.passes import types as T
from pybpf.passes.context import PassContext
from pybpf.records import dataclass, field


@dataclass
class MapInfo:
    """A BPF map the program needs."""

    name: str
    key: T.Type | None
    value: T.Type
    kind: str
    max_entries: int
    declared: bool = False

    @property
    def key_size(self) -> int:
        """Bytes of the key (scalar maps use a 4-byte zero index)."""
        return self.key.size if self.key is not None else 4

    @property
    def value_size(self) -> int:
        """Bytes of one (per-CPU) value."""
        return self.value.size


@dataclass
class FormatInfo:
    """An output call site: format string and argument layout."""

    id: int
    kind: str
    fmt: str
    args: T.TupleType
    span: Span


@dataclass
class ProbeInfo:
    """Per-probe facts."""

    index: int
    names: list[str]
    args: dict[str, T.Type] = field(default_factory=dict)
    stacks: list[T.StackType] = field(default_factory=list)
    variables: dict[str, T.Type] = field(default_factory=dict)
    scratch_vars: int = 0
    scratch_temp: int = 0


@dataclass
class Resources:
    """Everything codegen allocates (see the module docstring)."""

    maps: dict[str, MapInfo] = field(default_factory=dict)
    formats: list[FormatInfo] = field(default_factory=list)
    format_of: dict[int, int] = field(default_factory=dict)
    probes: list[ProbeInfo] = field(default_factory=list)
    stacks: list[T.StackType] = field(default_factory=list)
    max_strlen: int = 64
    config: dict[str, Any] = field(default_factory=dict)


_FORMAT_CALLS = {"printf", "errorf", "warnf", "system", "cat", "time", "strftime", "join",
                 "debugf"}  # fmt: skip


def _map_info(name: str, mt: Any, max_keys: int) -> MapInfo:
    keys = mt.keys or ()
    key: T.Type | None
    if not keys:
        key = None
    elif len(keys) == 1:
        key = keys[0]
    else:
        key = T.TupleType(tuple(keys))
    value = mt.value if mt.value is not None else T.INT64
    if isinstance(value, T.NoneType):
        value = T.INT64
    decl = mt.decl
    if decl is not None:
        return MapInfo(name, key, value, decl.kind, decl.max_entries, True)
    if isinstance(value, T.AggType):
        kind = "percpuhash" if key is not None else "percpuarray"
    else:
        kind = "hash" if key is not None else "array"
    return MapInfo(name, key, value, kind, max_keys if key is not None else 1)


def run(program: ast.Program, ctx: PassContext) -> Resources:
    """Collect maps, output formats, per-probe args and stacks into ``ctx.resources``."""
    res = Resources(max_strlen=int(ctx.config.get("max_strlen", 64)), config=dict(ctx.config))
    max_keys = int(ctx.config.get("max_map_keys", 4096))
    for name, mt in sorted(ctx.map_types.items()):
        if mt.assigned or mt.decl is not None:
            res.maps[name] = _map_info(name, mt, max_keys)
    for p in program.probes:
        info = ProbeInfo(p.index, [m for ap in p.attach_points for m in (ap.matches or [ap.name])])
        for n in info.names:
            if n in ctx.args_by_match:
                info.args[n] = ctx.args_by_match[n]
        res.probes.append(info)
        _collect(p, res, info)
    for f in program.functions:
        _collect(f, res, None)
    ctx.resources = res
    return res


def _is_scalar(t: T.Type) -> bool:
    return t.is_integer() or isinstance(t, T.PointerType | T.VoidType | T.NoneType)


def _collect(root: ast.Node, res: Resources, info: ProbeInfo | None) -> None:
    for n in ast.walk(root):
        if info is not None and isinstance(n, ast.Expr) and n.type is not None:
            if not _is_scalar(n.type) and not isinstance(n.type, T.AggType | T.StackType):
                info.scratch_temp = max(info.scratch_temp, n.type.size)
            if isinstance(n, ast.Variable) and n.name not in info.variables:
                info.variables[n.name] = n.type
                if not _is_scalar(n.type):
                    info.scratch_vars += n.type.size
        if isinstance(n, ast.Call) and n.name in _FORMAT_CALLS:
            fmt = n.args[0].value if n.args and isinstance(n.args[0], ast.String) else ""
            rest = n.args[1:] if n.args and isinstance(n.args[0], ast.String) else n.args
            if n.name == "strftime":
                rest = n.args[1:]
            args = T.TupleType(tuple(a.type or T.NONE for a in rest))
            res.format_of[id(n)] = len(res.formats)
            res.formats.append(FormatInfo(len(res.formats), n.name, fmt, args, n.span))
        if isinstance(n, ast.Expr) and isinstance(n.type, T.StackType):
            if n.type not in res.stacks:
                res.stacks.append(n.type)
            if info is not None and n.type not in info.stacks:
                info.stacks.append(n.type)
