"""BTF printed record by record, in the same shape as ``bpftool btf dump ... format raw``.

Being line-for-line comparable with bpftool makes bpftool an oracle for the whole parser.
"""

from __future__ import annotations

from collections.abc import Iterator

from pybpf.btf.spec import Spec
from pybpf.btf.types import (
    AnyType,
    Array,
    Composite,
    Datasec,
    DeclTag,
    Enum,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    IntEncoding,
    Kind,
    Ref,
    Var,
)

_LINKAGE = ("static", "global", "extern")


def _q(name: str) -> str:
    return f"'{name or '(anon)'}'"


def _int_encoding(enc: IntEncoding) -> str:
    for flag in (IntEncoding.SIGNED, IntEncoding.CHAR, IntEncoding.BOOL):
        if enc & flag:
            return flag.name or ""
    return "(none)"


def _enum_lines(t: Enum) -> Iterator[str]:
    suffix = ("LL" if t.signed else "ULL") if t.kind == Kind.ENUM64 else ""
    for v in t.values:
        yield f"\t{_q(v.name)} val={v.value}{suffix}"


def format_type(spec: Spec, t: AnyType) -> list[str]:
    """The bpftool raw lines for one type."""
    head = f"[{t.id}] {t.kind.name} {_q(t.name)}"
    if isinstance(t, Int):
        return [
            f"{head} size={t.size} bits_offset={t.bit_offset} nr_bits={t.bits} "
            f"encoding={_int_encoding(t.encoding)}"
        ]
    if isinstance(t, Ref):
        return [f"{head} type_id={t.type}"]
    if isinstance(t, Array):
        return [f"{head} type_id={t.type} index_type_id={t.index_type} nr_elems={t.nelems}"]
    if isinstance(t, Composite):
        lines = [f"{head} size={t.size} vlen={len(t.members)}"]
        for m in t.members:
            bf = f" bitfield_size={m.bitfield_size}" if m.bitfield_size else ""
            lines.append(f"\t{_q(m.name)} type_id={m.type} bits_offset={m.bit_offset}{bf}")
        return lines
    if isinstance(t, Enum):
        enc = "SIGNED" if t.signed else "UNSIGNED"
        return [f"{head} encoding={enc} size={t.size} vlen={len(t.values)}", *_enum_lines(t)]
    if isinstance(t, Fwd):
        return [f"{head} fwd_kind={'union' if t.union else 'struct'}"]
    if isinstance(t, Func):
        return [f"{head} type_id={t.type} linkage={_LINKAGE[t.linkage]}"]
    if isinstance(t, FuncProto):
        lines = [f"{head} ret_type_id={t.type} vlen={len(t.params)}"]
        lines += [f"\t{_q(p.name)} type_id={p.type}" for p in t.params]
        return lines
    if isinstance(t, Var):
        return [f"{head} type_id={t.type}, linkage={_LINKAGE[t.linkage]}"]
    if isinstance(t, Datasec):
        lines = [f"{head} size={t.size} vlen={len(t.vars)}"]
        for v in t.vars:
            lines.append(
                f"\ttype_id={v.type} offset={v.offset} size={v.size} (VAR {_q(spec.name(v.type))})"
            )
        return lines
    if isinstance(t, Float):
        return [f"{head} size={t.size}"]
    if isinstance(t, DeclTag):
        return [f"{head} type_id={t.type} component_idx={t.component_idx}"]
    return [head]


def dump_raw(spec: Spec, ids: list[int] | None = None) -> Iterator[str]:
    """bpftool-style raw lines for ``ids`` (default: every type)."""
    for tid in ids if ids is not None else range(1, len(spec)):
        yield from format_type(spec, spec.type(tid))


__all__ = ["dump_raw", "format_type"]
