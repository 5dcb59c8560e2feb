"""Kernel BTF types as front-end types (lazily: struct members resolve on first use).

Char arrays become strings (bpftrace prints ``char comm[16]`` as a string); typedefs and
qualifiers are looked through; function pointers are ``void *``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpf.passes import types as T

if TYPE_CHECKING:
    from pybpf.btf import Spec


class BtfTypes:
    """Converts BTF type ids of one spec, with a cache."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._cache: dict[int, T.Type] = {}
        self._enum_values: dict[str, tuple[int, T.Type]] | None = None

    def convert(self, tid: int, space: T.AddrSpace = T.AddrSpace.KERNEL) -> T.Type:
        """The front-end type of BTF type ``tid``."""
        key = tid if space is T.AddrSpace.KERNEL else -tid
        hit = self._cache.get(key)
        if hit is None:
            hit = self._convert(tid, space)
            self._cache[key] = hit
        return hit

    def _convert(self, tid: int, space: T.AddrSpace) -> T.Type:
        from pybpf import btf

        spec = self.spec
        if tid == 0:
            return T.VOID
        t = spec.type(spec.resolve(tid))
        if isinstance(t, btf.Int):
            if t.encoding & btf.IntEncoding.BOOL:
                return T.BOOL
            bits = max(8, t.size * 8)
            return T.IntType(bits, t.signed)
        if isinstance(t, btf.Enum):
            return T.EnumType(t.name, t.size * 8, t.signed)
        if t.kind == btf.Kind.PTR:
            assert isinstance(t, btf.Ref)
            target = spec.type(spec.resolve(t.type)) if t.type else None
            if target is None or isinstance(target, btf.FuncProto):
                return T.PointerType(T.VOID, space)
            return T.PointerType(self.convert(t.type), space)
        if isinstance(t, btf.Array):
            elem = self.convert(t.type)
            if isinstance(elem, T.IntType) and elem.bits == 8:
                return T.StringType(t.nelems)
            return T.ArrayType(elem, t.nelems)
        if isinstance(t, btf.Composite):
            kind = "union" if t.is_union else "struct"
            members = t.members
            return T.StructType(t.name, kind, t.size, "btf", resolver=lambda: self._fields(members))
        if isinstance(t, btf.Fwd):
            return T.StructType(t.name, "union" if t.union else "struct", 0, "btf")
        if isinstance(t, btf.Float):
            return T.IntType(t.size * 8, True)
        return T.VOID

    def _fields(self, members: tuple[object, ...]) -> tuple[T.Field, ...]:
        from pybpf import btf

        out = []
        for m in members:
            assert isinstance(m, btf.Member)
            out.append(
                T.Field(
                    m.name,
                    self.convert(m.type),
                    m.bit_offset // 8,
                    m.bit_offset % 8 if m.bitfield_size else 0,
                    m.bitfield_size,
                )
            )
        return tuple(out)

    def struct(self, name: str, kind: str = "struct") -> T.StructType | None:
        """The struct/union called ``name`` or None."""
        from pybpf import btf

        k = btf.Kind.UNION if kind == "union" else btf.Kind.STRUCT
        ids = self.spec.find_all(name, k)
        if not ids:
            ids = self.spec.find_all(name, btf.Kind.TYPEDEF)
        for tid in ids:
            t = self.convert(tid)
            if isinstance(t, T.StructType) and (t.byte_size or len(ids) == 1):
                return t
        return None

    def named(self, name: str) -> T.Type | None:
        """A typedef or base type by name (``pid_t``, ``u64``) or None."""
        from pybpf import btf

        for kind in (btf.Kind.TYPEDEF, btf.Kind.INT):
            ids = self.spec.find_all(name, kind)
            if ids:
                return self.convert(ids[0])
        return None

    def enum_value(self, name: str) -> tuple[int, T.Type] | None:
        """The value and type of enumerator ``name`` from any kernel enum."""
        if self._enum_values is None:
            from pybpf import btf

            values: dict[str, tuple[int, T.Type]] = {}
            kinds = (btf.Kind.ENUM, btf.Kind.ENUM64)
            spec = self.spec
            for tid in range(1, len(spec)):
                if spec.kind(tid) not in kinds:
                    continue
                t = spec.type(tid)
                if isinstance(t, btf.Enum):
                    et = T.EnumType(t.name, t.size * 8, t.signed)
                    for v in t.values:
                        values.setdefault(v.name, (v.value, et))
            self._enum_values = values
        return self._enum_values.get(name)

    def func_params(self, func: str) -> list[tuple[str, T.Type]] | None:
        """Parameters (name, type) of kernel function ``func`` or None."""
        try:
            proto = self.spec.func_proto(func)
        except Exception:
            return None
        return [(p.name, self.convert(p.type)) for p in proto.params if p.type or p.name]

    def func_return(self, func: str) -> T.Type | None:
        """Return type of kernel function ``func`` or None."""
        try:
            proto = self.spec.func_proto(func)
        except Exception:
            return None
        return self.convert(proto.type)

    def rawtp_params(self, name: str) -> list[tuple[str, T.Type]] | None:
        """Arguments of raw tracepoint ``name`` (from ``btf_trace_<name>``, minus ctx)."""
        from pybpf import btf

        # Parameter names live on the tracepoint's stub functions (the btf_trace_ typedef's
        # prototype is unnamed); events of a class share __bpf_trace_<class>, so try the
        # per-event ones first.
        for fn in (f"__probestub_{name}", f"__traceiter_{name}", f"__bpf_trace_{name}"):
            named = self.func_params(fn)
            if named is not None:
                return named[1:]
        ids = self.spec.find_all(f"btf_trace_{name}", btf.Kind.TYPEDEF)
        if not ids:
            return None
        ptr = self.spec.type(self.spec.resolve(ids[0]))
        if not isinstance(ptr, btf.Ref):
            return None
        proto = self.spec.type(self.spec.resolve(ptr.type))
        if not isinstance(proto, btf.FuncProto):
            return None
        params = list(proto.params)[1:]
        return [(p.name or f"arg{i}", self.convert(p.type)) for i, p in enumerate(params)]
