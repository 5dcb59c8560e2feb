"""The front end's type model, shared with code generation.

Types are small immutable values (frozen dataclasses, hashable, comparable).  ``str(t)``
spells a type the way bpftrace's diagnostics do (``int64``, ``uint8``, ``string[13]``,
``count_t``, ``hist_t``, ``(int64,string[4])``, ``struct task_struct *``).

Every type has ``size`` (bytes it occupies in a map value, key or event record) and
``align``.  Aggregates held in map values (``count_t``, ``hist_t`` ...) are :class:`AggType`;
their ``size`` is the per-CPU value size the codegen stores.

Struct types resolved from BTF are *lazy*: a :class:`StructType` names its struct and
carries a ``resolver`` (not part of equality) that yields its fields on first use, so a
script touching ``curtask->pid`` does not convert all of ``task_struct``'s closure.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from pybpf.records import dataclass, field


class Type:
    """Base of all types; subclasses are frozen dataclasses."""

    @property
    def size(self) -> int:
        """Bytes the value occupies when stored (map key/value, event record)."""
        return 8

    @property
    def align(self) -> int:
        """Natural alignment in bytes."""
        return min(self.size, 8) or 1

    def is_integer(self) -> bool:
        """True for integer-like scalars (ints, bools, enums)."""
        return False

    def is_string(self) -> bool:
        """True for NUL-terminated string values."""
        return False


@dataclass(frozen=True)
class VoidType(Type):
    """No value: statements, calls like ``printf`` and ``exit``."""

    @property
    def size(self) -> int:
        return 0

    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True)
class NoneType(Type):
    """Not yet known (before inference), or an erroneous expression (after)."""

    @property
    def size(self) -> int:
        return 0

    def __str__(self) -> str:
        return "none"


@dataclass(frozen=True)
class IntType(Type):
    """A fixed-width integer."""

    bits: int = 64
    signed: bool = True

    @property
    def size(self) -> int:
        return self.bits // 8

    def is_integer(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"


@dataclass(frozen=True)
class BoolType(Type):
    """``true``/``false``, comparisons and logical operators (one byte when stored)."""

    @property
    def size(self) -> int:
        return 1

    def is_integer(self) -> bool:
        return True

    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class StringType(Type):
    """A NUL-terminated string of at most ``length`` bytes including the NUL."""

    length: int = 64

    @property
    def size(self) -> int:
        return self.length

    @property
    def align(self) -> int:
        return 1

    def is_string(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"string[{self.length}]"


@dataclass(frozen=True)
class BufferType(Type):
    """``buf()`` result: a length byte-count followed by ``length`` raw bytes."""

    length: int = 64

    @property
    def size(self) -> int:
        # u32 length prefix, then the bytes (bpftrace keeps a length with the data). At least
        # 8 data bytes: a buffer is always a memory value, never mistaken for a scalar that
        # fits a register (code generation tells them apart by size).
        return 4 + max(self.length, 8)

    @property
    def align(self) -> int:
        return 4

    def __str__(self) -> str:
        return f"buffer[{self.length}]"


def _align_up(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass(frozen=True)
class TupleType(Type):
    """``(a, b, ...)``: fields laid out in order with C alignment."""

    elems: tuple[Type, ...] = ()

    def offsets(self) -> list[int]:
        """Byte offset of each element."""
        out, off = [], 0
        for t in self.elems:
            off = _align_up(off, t.align)
            out.append(off)
            off += t.size
        return out

    @property
    def align(self) -> int:
        return max((t.align for t in self.elems), default=1)

    @property
    def size(self) -> int:
        if not self.elems:
            return 0
        end = self.offsets()[-1] + self.elems[-1].size
        return _align_up(end, self.align)

    def __str__(self) -> str:
        return "(" + ",".join(str(t) for t in self.elems) + ")"


@dataclass(frozen=True)
class RecordType(Type):
    """``(a=1, b="x")``: a tuple whose fields have names."""

    names: tuple[str, ...] = ()
    elems: tuple[Type, ...] = ()

    def as_tuple(self) -> TupleType:
        """The positional layout (same offsets)."""
        return TupleType(self.elems)

    def offsets(self) -> list[int]:
        """Byte offset of each field."""
        return self.as_tuple().offsets()

    @property
    def align(self) -> int:
        return self.as_tuple().align

    @property
    def size(self) -> int:
        return self.as_tuple().size

    def field(self, name: str) -> Type | None:
        """The type of field ``name``, or None."""
        for n, t in zip(self.names, self.elems, strict=True):
            if n == name:
                return t
        return None

    def __str__(self) -> str:
        return "(" + ",".join(f"{n}={t}" for n, t in zip(self.names, self.elems, strict=True)) + ")"


class AddrSpace(enum.Enum):
    """Where a pointer points: decides probe_read_kernel vs probe_read_user."""

    KERNEL = "kernel"
    USER = "user"
    NONE = "none"


@dataclass(frozen=True)
class PointerType(Type):
    """A pointer; dereferencing reads memory with the helper for ``space``."""

    target: Type = field(default_factory=VoidType)
    space: AddrSpace = AddrSpace.KERNEL

    def is_integer(self) -> bool:
        # Pointers take part in arithmetic and comparisons like uint64.
        return False

    def __str__(self) -> str:
        t = str(self.target)
        return f"{t} *" if not t.endswith("*") else f"{t}*"


@dataclass(frozen=True)
class ArrayType(Type):
    """A fixed C array (struct fields, ``(uint8[4])`` casts)."""

    elem: Type = field(default_factory=IntType)
    count: int = 0

    @property
    def size(self) -> int:
        return self.elem.size * self.count

    @property
    def align(self) -> int:
        return self.elem.align

    def __str__(self) -> str:
        return f"{self.elem}[{self.count}]"


@dataclass(frozen=True)
class Field:
    """One member of a struct/union; ``bit_size`` > 0 for bitfields."""

    name: str
    type: Type
    offset: int
    bit_offset: int = 0
    bit_size: int = 0


@dataclass(frozen=True)
class StructType(Type):
    """A C struct or union, from a script definition or BTF (``origin``).

    ``resolver`` returns the fields when first needed; it is not part of equality.
    """

    name: str = ""
    kind: str = "struct"
    byte_size: int = 0
    origin: str = "btf"
    resolver: Callable[[], tuple[Field, ...]] | None = field(
        default=None, compare=False, hash=False, repr=False
    )
    _cache: dict[str, tuple[Field, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def size(self) -> int:
        return self.byte_size

    @property
    def align(self) -> int:
        return 8 if self.byte_size >= 8 else max(self.byte_size, 1)

    @property
    def fields(self) -> tuple[Field, ...]:
        """The members (resolved lazily, then cached)."""
        if "f" not in self._cache:
            self._cache["f"] = self.resolver() if self.resolver is not None else ()
        return self._cache["f"]

    def field(self, name: str) -> Field | None:
        """The member ``name`` (anonymous nested members searched too), or None."""
        for f in self.fields:
            if f.name == name:
                return f
        for f in self.fields:
            if not f.name and isinstance(f.type, StructType):
                sub = f.type.field(name)
                if sub is not None:
                    return Field(
                        sub.name, sub.type, f.offset + sub.offset, sub.bit_offset, sub.bit_size
                    )
        return None

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class EnumType(Type):
    """A C enum; behaves as an integer of ``bits`` width."""

    name: str = ""
    bits: int = 32
    signed: bool = False

    @property
    def size(self) -> int:
        return self.bits // 8

    def is_integer(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"enum {self.name}"


class AggKind(enum.Enum):
    """Map value aggregations (``@x = count()`` etc.)."""

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    STATS = "stats"
    HIST = "hist"
    LHIST = "lhist"


@dataclass(frozen=True)
class AggType(Type):
    """The value of a map assigned an aggregation.

    ``elem`` is the integer type aggregated (``sum``/``min``/``max`` keep its signedness);
    ``params`` holds hist ``(bits,)`` or lhist ``(min, max, step)``.
    Sizes are per-CPU value sizes in u64 slots (see ``buckets``): count/sum/min/max one;
    avg/stats two (count, total); hist a fixed table for its ``bits`` setting; lhist
    ``(max-min)/step + 3`` (underflow, the range, overflow).
    """

    kind: AggKind = AggKind.COUNT
    elem: IntType = field(default_factory=IntType)
    params: tuple[int, ...] = ()

    @property
    def buckets(self) -> int:
        """Number of u64 slots in the value (1 for scalar aggregations)."""
        if self.kind is AggKind.HIST:
            bits = self.params[0] if self.params else 0
            return 2 + 64 * (1 << bits)
        if self.kind is AggKind.LHIST:
            lo, hi, step = self.params
            return (hi - lo) // step + 3
        if self.kind in (AggKind.AVG, AggKind.STATS):
            return 2
        return 1

    @property
    def size(self) -> int:
        return 8 * self.buckets

    def __str__(self) -> str:
        return f"{self.kind.value}_t"


class StackMode(enum.Enum):
    """How a stack prints: ``kstack(perf)``, ``kstack(raw)`` ..."""

    BPFTRACE = "bpftrace"
    PERF = "perf"
    RAW = "raw"


@dataclass(frozen=True)
class StackType(Type):
    """``kstack``/``ustack``: stored as a stack id (u64; ustack also pid) in map values."""

    user: bool = False
    mode: StackMode = StackMode.BPFTRACE
    limit: int = 127

    @property
    def size(self) -> int:
        # Stack id (and for ustack the pid to resolve symbols against).
        return 16 if self.user else 8

    def __str__(self) -> str:
        return "ustack" if self.user else "kstack"


@dataclass(frozen=True)
class SymbolType(Type):
    """Values printed symbolically: ``ksym``/``usym`` addresses, ``func`` and friends.

    ``kind`` is one of ``ksym``, ``usym`` (stores address + pid).
    """

    kind: str = "ksym"

    @property
    def size(self) -> int:
        return 16 if self.kind == "usym" else 8

    def __str__(self) -> str:
        return f"{self.kind}_t"


@dataclass(frozen=True)
class TimestampType(Type):
    """``strftime(fmt, ns)``: stores the fmt id and the ns value."""

    @property
    def size(self) -> int:
        return 16

    def __str__(self) -> str:
        return "timestamp"


@dataclass(frozen=True)
class InetType(Type):
    """``ntop()`` result: u64 address family, then 16 address bytes."""

    @property
    def size(self) -> int:
        return 24

    def __str__(self) -> str:
        return "inet[16]"


@dataclass(frozen=True)
class MacAddrType(Type):
    """``macaddr()`` result: six bytes printed ``AA:BB:..``."""

    @property
    def size(self) -> int:
        return 6

    @property
    def align(self) -> int:
        return 1

    def __str__(self) -> str:
        return "mac_address"


@dataclass(frozen=True)
class OpaqueIdType(Type):
    """Values stored as a u64 id and rendered by user space.

    ``kind``: ``username`` (uid), ``probe`` (probe id), ``cgroup_path`` (cgroup id),
    ``strerror`` (errno), ``kaddr``/``uaddr`` constants are plain ints, not these.
    """

    kind: str = "username"

    def __str__(self) -> str:
        return self.kind if self.kind in ("username", "probe") else f"{self.kind}_t"


# Handy singletons.
VOID = VoidType()
NONE = NoneType()
BOOL = BoolType()
INT8, INT16, INT32, INT64 = (IntType(b, True) for b in (8, 16, 32, 64))
UINT8, UINT16, UINT32, UINT64 = (IntType(b, False) for b in (8, 16, 32, 64))

#: Integer type names accepted in casts, declarations and function signatures.
INT_NAMES: dict[str, IntType] = {
    "int8": INT8,
    "int16": INT16,
    "int32": INT32,
    "int64": INT64,
    "uint8": UINT8,
    "uint16": UINT16,
    "uint32": UINT32,
    "uint64": UINT64,
    "u8": UINT8,
    "u16": UINT16,
    "u32": UINT32,
    "u64": UINT64,
    "s8": INT8,
    "s16": INT16,
    "s32": INT32,
    "s64": INT64,
    "char": INT8,
    "short": INT16,
    "int": INT32,
    "long": INT64,
    "unsigned": UINT32,
    "size_t": UINT64,
    "pid_t": INT32,
    "bool": UINT8,
}


def promote(a: Type, b: Type) -> IntType:
    """The result type of integer arithmetic on ``a`` and ``b`` (bpftrace's rule).

    bpftrace widens arithmetic to 64 bits; the result is unsigned only when both operands
    are unsigned (pointers count as unsigned).
    """
    return IntType(64, is_signed(a) or is_signed(b))


def is_signed(t: Type) -> bool:
    """Signedness of an integer-like type (pointers, bools and aggregates count unsigned)."""
    if isinstance(t, IntType | EnumType):
        return t.signed
    return False


@dataclass(frozen=True)
class DataLocType(Type):
    """A tracepoint ``__data_loc`` field: u32 ``(len << 16) | offset`` locating ``elem``
    bytes in the record (``__data_loc char[] name`` reads as a string)."""

    elem: Type = field(default_factory=lambda: StringType(64))

    @property
    def size(self) -> int:
        return 4

    def __str__(self) -> str:
        return str(self.elem)


def type_name(t: Type | None) -> str:
    """A type as bpftrace's messages spell it (aggregations by kind: ``count``, ``avg``)."""
    if t is None:
        return "none"
    if isinstance(t, AggType):
        return t.kind.value
    return str(t)


def category(t: Type | None) -> str:
    """The broad kind printf and condition messages use: integer, string, buffer ..."""
    if t is None or isinstance(t, NoneType):
        return "none"
    if isinstance(t, IntType | BoolType | EnumType):
        return "integer"
    if isinstance(t, StringType) or (isinstance(t, DataLocType) and t.elem.is_string()):
        return "string"
    if isinstance(t, BufferType):
        return "buffer"
    if isinstance(t, PointerType):
        return "pointer"
    if isinstance(t, TupleType):
        return "tuple"
    if isinstance(t, RecordType):
        return "record"
    if isinstance(t, StructType):
        return t.kind
    if isinstance(t, ArrayType):
        return "array"
    if isinstance(t, AggType):
        return t.kind.value
    return str(t)
