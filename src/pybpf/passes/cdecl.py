"""Resolving written types: int names, script C definitions, kernel BTF, enum constants.

``TypeResolver.resolve_spec(TypeSpec)`` gives a front-end type; unknown names are
reported by the caller's checker (``Unknown struct/union: 'struct foo'``).  Script-defined
structs get a C layout (natural alignment, bitfields packed in their storage unit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpf.lang import ast
from pybpf.passes import types as T
from pybpf.passes.context import PassContext

if TYPE_CHECKING:
    from pybpf.passes.btftypes import BtfTypes

#: C spellings of integer types (beyond ``types.INT_NAMES``).
C_INTS: dict[str, T.IntType] = {
    "signed char": T.INT8, "unsigned char": T.UINT8, "short int": T.INT16,
    "unsigned short": T.UINT16, "unsigned short int": T.UINT16, "short unsigned int": T.UINT16,
    "unsigned int": T.UINT32, "signed int": T.INT32, "signed": T.INT32,
    "long int": T.INT64, "unsigned long": T.UINT64, "unsigned long int": T.UINT64,
    "long unsigned int": T.UINT64, "long long": T.INT64, "long long int": T.INT64,
    "unsigned long long": T.UINT64, "unsigned long long int": T.UINT64,
    "__u8": T.UINT8, "__u16": T.UINT16, "__u32": T.UINT32, "__u64": T.UINT64,
    "__s8": T.INT8, "__s16": T.INT16, "__s32": T.INT32, "__s64": T.INT64,
    "uint8_t": T.UINT8, "uint16_t": T.UINT16, "uint32_t": T.UINT32, "uint64_t": T.UINT64,
    "int8_t": T.INT8, "int16_t": T.INT16, "int32_t": T.INT32, "int64_t": T.INT64,
    "__be16": T.UINT16, "__be32": T.UINT32, "__le16": T.UINT16, "__le32": T.UINT32,
    "gfp_t": T.UINT32, "umode_t": T.UINT16, "dev_t": T.UINT32, "loff_t": T.INT64,
    "ssize_t": T.INT64, "uid_t": T.UINT32, "gid_t": T.UINT32,
}  # fmt: skip

#: Constants scripts take from system headers we do not read (``#include <sys/socket.h>``).
HEADER_CONSTANTS: dict[str, int] = {
    "AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10,
    "AF_NETLINK": 16, "AF_PACKET": 17, "PF_INET": 2, "PF_INET6": 10, "PF_UNIX": 1,
    "SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17,
    "O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_CREAT": 0o100, "O_TRUNC": 0o1000,
    "O_APPEND": 0o2000, "EPERM": 1, "ENOENT": 2, "EINTR": 4, "EAGAIN": 11, "ENOMEM": 12,
    "EACCES": 13, "EEXIST": 17, "EINVAL": 22, "SIGKILL": 9, "SIGTERM": 15, "SIGINT": 2,
    "SIGUSR1": 10, "SIGUSR2": 12, "PAGE_SIZE": 4096, "TASK_RUNNING": 0,
    "TASK_INTERRUPTIBLE": 1, "TASK_UNINTERRUPTIBLE": 2,
}  # fmt: skip


class TypeResolver:
    """Resolves type names and enum constants for one program."""

    def __init__(self, program: ast.Program, ctx: PassContext) -> None:
        self.ctx = ctx
        self.cdefs = {(d.kind, d.name): d for d in program.c_definitions if d.name}
        self.enums: dict[str, tuple[int, T.Type]] = {}
        for d in program.c_definitions:
            if d.kind == "enum":
                et = T.EnumType(d.name, 32, any(v < 0 for _, v in d.enumerators))
                for n, v in d.enumerators:
                    self.enums[n] = (v, et)
        self._structs: dict[tuple[str, str], T.StructType] = {}
        self._in_progress: set[tuple[str, str]] = set()
        self._btf: BtfTypes | bool | None = False
        #: Set by the checker's quiet round: errors are not reported.
        self.quiet = False
        #: Set by the checker inside uprobes: the target binaries' DWARF structs.
        #: Called with (name, kind, search every compile unit).
        self.user_structs: Callable[[str, str, bool], T.StructType | None] | None = None

    def error(self, msg: str, span: object) -> None:
        """Report unless quiet."""
        if not self.quiet:
            self.ctx.diags.error(msg, span)  # type: ignore[arg-type]

    @property
    def btf(self) -> BtfTypes | None:
        """Kernel BTF converter (None without BTF)."""
        if self._btf is False:
            spec = self.ctx.catalog.btf()
            if spec is None:
                self._btf = None
            else:
                from pybpf.passes.btftypes import BtfTypes

                self._btf = BtfTypes(spec)
        return self._btf if not isinstance(self._btf, bool) else None

    def enum_value(self, name: str) -> tuple[int, T.Type] | None:
        """Value and type of an enum constant or known header constant."""
        if name in self.enums:
            return self.enums[name]
        if name in HEADER_CONSTANTS:
            return HEADER_CONSTANTS[name], T.INT64
        b = self.btf
        return b.enum_value(name) if b is not None else None

    def base(self, name: str, tag: str) -> T.Type | None:
        """The type a name (with its struct/union/enum tag) denotes, or None."""
        if tag in ("struct", "union"):
            return self.struct(name, tag)
        if tag == "enum":
            d = self.cdefs.get(("enum", name))
            if d is not None:
                return T.EnumType(name, 32, False)
            b = self.btf
            t = b.named(name) if b is not None else None
            return t if t is not None else (T.EnumType(name, 32, False) if b is not None else None)
        if name in T.INT_NAMES:
            return T.INT_NAMES[name]
        if name in C_INTS:
            return C_INTS[name]
        if name in ("string", "str_t"):
            return T.StringType(int(self.ctx.config.get("max_strlen", 64)))
        if name == "void":
            return T.VOID
        if name == "bool":
            return T.BOOL
        b = self.btf
        if b is not None:
            t = b.named(name)
            if t is not None:
                return t
            return b.struct(name)
        return None

    def struct(self, name: str, kind: str = "struct") -> T.StructType | None:
        """A script-defined struct first, then the kernel's."""
        key = (kind, name)
        if key in self._structs:
            return self._structs[key]
        d = self.cdefs.get(key)
        if d is not None:
            if key in self._in_progress:
                # A struct containing itself by value is not C; by pointer it is handled
                # lazily in field_type, so this only stops runaway recursion.
                return T.StructType(name, kind, 0, "script")
            self._in_progress.add(key)
            try:
                st = self.layout(d)
            finally:
                self._in_progress.discard(key)
            self._structs[key] = st
            return st
        user = self.user_structs
        if user is not None:
            # The probed function's own compile unit first (cheap), kernel BTF next, and
            # only then every unit of the binary (seconds for libc).
            ust = user(name, kind, False)
            if ust is not None:
                return ust
        b = self.btf
        bst = b.struct(name, kind) if b is not None else None
        if bst is None and user is not None:
            return user(name, kind, True)
        return bst

    def resolve_spec(self, ts: ast.TypeSpec, report: bool = True) -> T.Type:
        """The type a :class:`TypeSpec` denotes (``NONE`` and an error when unknown)."""
        base = self.base(ts.name, ts.tag)
        if base is None:
            if report:
                what = f"{ts.tag} {ts.name}" if ts.tag else ts.name
                kind = "struct/union" if ts.tag in ("struct", "union") else "type"
                self.error(f"Unknown {kind}: '{what}'", ts.span)
            return T.NONE
        t: T.Type = base
        if ts.array is not None:
            t = (
                T.StringType(ts.array)
                if ts.name in ("string", "str_t")
                else T.ArrayType(t, ts.array)
            )
        for _ in range(ts.pointer):
            t = T.PointerType(t)
        return t

    def field_type(self, f: ast.CField) -> T.Type:
        """The type of a C struct member."""
        ts0 = f.type_spec
        if f.nested is not None:
            inner: T.Type = self.layout(f.nested)
        elif ts0.pointer and ts0.tag in ("struct", "union") and (ts0.tag, ts0.name) in self.cdefs:
            # Pointers to script structs (often the struct itself) resolve on first use.
            key = (ts0.tag, ts0.name)
            inner = T.StructType(
                ts0.name, ts0.tag, 0, "script",
                resolver=lambda: (self.struct(key[1], key[0]) or T.StructType()).fields,
            )  # fmt: skip
        else:
            inner = self.base(f.type_spec.name, f.type_spec.tag) or T.NONE
            if isinstance(inner, T.NoneType):
                if f.type_spec.pointer:
                    inner = T.StructType(f.type_spec.name, f.type_spec.tag or "struct", 0, "script")
                else:
                    self.error(f"Unknown type: '{f.type_spec}'", f.type_spec.span)
        ts = f.type_spec
        t = inner
        for _ in range(ts.pointer):
            t = T.PointerType(t)
        if ts.array is not None:
            is_char = isinstance(t, T.IntType) and t.bits == 8
            t = T.StringType(ts.array) if is_char else T.ArrayType(t, ts.array)
        return t

    def layout(self, d: ast.CDefinition) -> T.StructType:
        """C layout of a script struct/union definition."""
        fields: list[T.Field] = []
        off = 0
        bit = 0  # bits used in the current bitfield storage unit
        size = 0
        align = 1
        for f in d.fields:
            t = self.field_type(f)
            a = max(t.align, 1)
            align = max(align, a)
            if d.kind == "union":
                fields.append(T.Field(f.name, t, 0, 0, f.bits or 0))
                size = max(size, t.size)
                continue
            if f.bits is not None:
                unit = t.size * 8 or 8
                if bit == 0 or bit + f.bits > unit:
                    off = (off + a - 1) // a * a if bit == 0 else off + (bit + 7) // 8
                    bit = 0
                fields.append(T.Field(f.name, t, off, bit, f.bits))
                bit += f.bits
                continue
            if bit:
                off += (bit + 7) // 8
                bit = 0
            off = (off + a - 1) // a * a
            fields.append(T.Field(f.name, t, off))
            off += t.size
        if bit:
            off += (bit + 7) // 8
        end = size if d.kind == "union" else off
        end = (end + align - 1) // align * align
        frozen = tuple(fields)
        return T.StructType(d.name, d.kind, end, "script", resolver=lambda: frozen)
