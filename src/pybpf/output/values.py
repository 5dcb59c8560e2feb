"""The decoded value model: what kernel bytes become before they are rendered.

The runtime decodes map entries and ring-buffer events into these values; the writers
(``text``, ``json``) and ``printf`` render them. Nothing here touches the kernel.

Primitives (valid as map keys, map values, printf arguments, ``print()`` arguments):

* ``int`` -- a plain Python int is a signed 64-bit integer. Use :class:`Int` to say the
  width and signedness (``Int(5, bits=32, signed=False)``); it *is* an ``int``.
* ``bool`` -- prints ``true``/``false``.
* ``str`` -- strings (already cut at the NUL; use :func:`decode_cstr` on raw bytes).
* :class:`Buffer` (or plain ``bytes``) -- ``buf()`` results; text renders printable bytes
  as themselves and the rest as ``\\xNN``.
* :class:`Tuple`, :class:`Record`, :class:`Array` -- composite values.
* :class:`Symbolic` -- a number shown as text (pointers ``0x...``, enum names, hist
  labels); JSON shows the number.
* :class:`Duration` -- nanoseconds, shown with a unit.
* ``None`` -- ``none``/void; prints ``null``.

Results of ``ksym``, ``usym``, ``kstack``/``ustack`` (see :func:`format_stack`), ``ntop``
(see :func:`inet_ntop`), ``macaddr`` (see :func:`format_mac`), ``strerror``, ``strftime``,
``cgroup_path`` and ``username`` are plain ``str`` already formatted the bpftrace way.

Aggregate map values: ``count``/``sum``/``min``/``max`` are ints; ``avg`` and ``stats``
are :class:`AvgStats` (total and count summed over CPUs); ``hist`` is :class:`HistData`
and ``lhist`` :class:`LhistData` (bucket index -> count). A whole map handed to a writer is
a :class:`MapData`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from pybpf.records import dataclass, field

U64_MASK = (1 << 64) - 1


class Int(int):
    """An integer that remembers its C width and signedness (default: signed 64-bit).

    It behaves as a normal ``int`` everywhere; printf (``%x``, ``%u``), JSON encoding and
    map sorting read ``bits``/``signed`` to reproduce bpftrace's C semantics.
    """

    bits: int
    signed: bool

    def __new__(cls, value: int, bits: int = 64, signed: bool = True) -> Int:
        """Make the int ``value`` (wrapped to ``bits`` and ``signed`` if it overflows)."""
        value = wrap(value, bits, signed)
        obj = super().__new__(cls, value)
        obj.bits = bits
        obj.signed = signed
        return obj

    def __repr__(self) -> str:
        kind = "s" if self.signed else "u"
        return f"Int({int(self)}, {kind}{self.bits})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Int, (int(self), self.bits, self.signed))


def wrap(value: int, bits: int = 64, signed: bool = True) -> int:
    """Reduce ``value`` to a ``bits``-wide integer, two's complement if ``signed``."""
    mask = (1 << bits) - 1
    value &= mask
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def int_bits(value: int) -> int:
    """Width in bits of an integer value (64 unless it is an :class:`Int`)."""
    return value.bits if isinstance(value, Int) else 64


def int_signed(value: int) -> bool:
    """Signedness of an integer value (plain ints: signed unless above INT64_MAX)."""
    if isinstance(value, Int):
        return value.signed
    return value <= (1 << 63) - 1


@dataclass(frozen=True)
class Buffer:
    """Bytes from ``buf()``: shown as printable ASCII with ``\\xNN`` for the rest."""

    data: bytes


@dataclass(frozen=True)
class Tuple:
    """A tuple value; ``names`` is set for named tuples ``(a=1, b=2)``."""

    items: tuple[Primitive, ...]
    names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Record:
    """A struct/record value: ordered ``(name, value)`` fields, shown ``{ .a = 1 }``."""

    fields: tuple[tuple[str, Primitive], ...]


@dataclass(frozen=True)
class Array:
    """A C array value, shown ``[1,2,3]`` (no spaces, as bpftrace does)."""

    items: tuple[Primitive, ...]


@dataclass(frozen=True)
class Symbolic:
    """A number that text output shows as ``symbol`` and JSON as ``numeric``."""

    symbol: str
    numeric: int


@dataclass(frozen=True)
class Duration:
    """A duration in nanoseconds, shown with the largest exact unit (``5ms``)."""

    nanoseconds: int


Primitive = None | bool | int | float | str | Buffer | Tuple | Record | Array | Symbolic | Duration


@dataclass(frozen=True)
class AvgStats:
    """Raw ``avg()``/``stats()`` state summed over CPUs: ``total`` of ``count`` values."""

    total: int
    count: int
    signed: bool = True

    @property
    def average(self) -> int:
        """The average as bpftrace computes it (C integer division, 0 when empty)."""
        if self.count == 0:
            return 0
        return cdiv(self.total, self.count)


@dataclass(frozen=True)
class HistData:
    """Raw ``hist()`` buckets: bucket index -> count, and the ``k`` parameter (0..5).

    Index 0 counts negative values; with ``n = 2**k``, indexes 1..n count the values
    0..n-1 one each, and after that each power of two is split into ``n`` buckets.
    Use :func:`hist_index` to compute the index of a value.
    """

    buckets: dict[int, int]
    k: int = 0


@dataclass(frozen=True)
class LhistData:
    """Raw ``lhist(v, min, max, step)`` buckets: index -> count.

    Index 0 counts values below ``min``; index ``i`` (1..) counts
    ``[min + (i-1)*step, min + i*step)``; the last index counts values ``>= max``.
    Use :func:`lhist_index` to compute the index of a value.
    """

    buckets: dict[int, int]
    min: int
    max: int
    step: int


class MapKind(enum.Enum):
    """What a map's values are; decides sorting and rendering."""

    COUNT = "count"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    AVG = "avg"
    STATS = "stats"
    HIST = "hist"
    LHIST = "lhist"
    INT = "int"  # plain integer assignments: sorted by value like count/sum
    VALUE = "value"  # anything else (strings, tuples, records, ...): sorted by key


MapValue = Primitive | AvgStats | HistData | LhistData


@dataclass
class MapData:
    """One map as the runtime read it: its entries in any order, unsorted.

    ``entries`` holds ``(key, value)`` pairs. A scalar map (``@x = 1``, no key) has
    ``scalar=True`` and its key is ``None``. ``signed`` is the signedness of the value
    type for ``sum``/``int`` sorting (count is never signed).
    """

    name: str
    kind: MapKind
    entries: list[tuple[Primitive, MapValue]] = field(default_factory=list)
    scalar: bool = False
    signed: bool = True


def cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def hist_index(value: int, k: int = 0) -> int:
    """Bucket index of ``value`` in a ``hist(value, k)`` (same as bpftrace's kernel side)."""
    if value < 0:
        return 0
    n = 1 << k
    if value < n:
        return value + 1
    # value >= n: find the power of two containing it, then which of the n slices.
    power = value.bit_length() - 1  # 2**power <= value < 2**(power+1)
    interval = (value >> (power - k)) - n  # which of the n slices: 0 .. n-1
    return ((power - k + 1) << k) + interval + 1


def lhist_index(value: int, lo: int, hi: int, step: int) -> int:
    """Bucket index of ``value`` in ``lhist(value, lo, hi, step)``."""
    if value < lo:
        return 0
    if value >= hi:
        return (hi - lo) // step + 1
    return (value - lo) // step + 1


def decode_cstr(data: bytes) -> str:
    """Decode a NUL-terminated C string; undecodable bytes survive as surrogates."""
    end = data.find(b"\0")
    if end >= 0:
        data = data[:end]
    return data.decode("utf-8", "surrogateescape")


def str_bytes(text: str) -> bytes:
    """The raw bytes of a string value (inverse of :func:`decode_cstr`)."""
    return text.encode("utf-8", "surrogateescape")


#: Bytes a buffer prints as themselves: printable ASCII, space included, no other whitespace.
_PRINTABLE = frozenset(range(0x20, 0x7F))


def format_buffer(data: bytes, keep_ascii: bool = True, escape_hex: bool = True) -> str:
    """Render bytes as bpftrace does for buffers.

    Defaults (``%r``, map values): printable ASCII kept, other bytes ``\\xNN``.
    ``keep_ascii=False`` (``%rx``) escapes every byte; ``escape_hex=False`` (``%rh``)
    gives space-separated ``NN`` hex pairs.
    """
    if not escape_hex:
        return " ".join(f"{b:02x}" for b in data)
    parts = []
    for b in data:
        if keep_ascii and b in _PRINTABLE:
            parts.append(chr(b))
        else:
            parts.append(f"\\x{b:02x}")
    return "".join(parts)


#: The kernel's address family numbers, as the BPF program records them.
AF_INET, AF_INET6 = 2, 10


def inet_ntop(family: int, addr: bytes) -> str:
    """``ntop()``: an IPv4 (4 bytes, family 2) or IPv6 (16 bytes, family 10) address."""
    import socket  # only when an address is printed: the module is slow to import

    if family == AF_INET:
        return socket.inet_ntop(socket.AF_INET, addr[:4])
    if family == AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, addr[:16])
    return ""


def format_mac(addr: bytes) -> str:
    """``macaddr()``: six bytes as upper-case ``AA:BB:CC:DD:EE:FF``."""
    return ":".join(f"{b:02X}" for b in addr[:6])


def format_pointer(value: int) -> Symbolic:
    """A pointer value as bpftrace shows it: ``0x...`` in text, the number in JSON."""
    return Symbolic(f"0x{value & U64_MASK:x}", value & U64_MASK)


class StackMode(enum.Enum):
    """``kstack``/``ustack`` output modes."""

    BPFTRACE = "bpftrace"
    PERF = "perf"
    RAW = "raw"


@dataclass(frozen=True)
class StackFrame:
    """One resolved frame: ``symbol`` is ``None`` when the address did not resolve.

    ``module`` is shown in perf mode for user frames (the binary path, ``""`` when no
    mapping holds the address); kernel frames leave it ``None`` (bpftrace prints no
    module for them).
    """

    addr: int
    symbol: str | None = None
    offset: int = 0
    module: str | None = None


def format_stack(
    frames: Sequence[StackFrame], mode: StackMode = StackMode.BPFTRACE, indent: int = 8
) -> str:
    """Render a stack as bpftrace's ``kstack``/``ustack`` string (leading newline included).

    bpftrace mode: one ``sym+off`` line per frame behind ``indent`` spaces (8 in printf,
    print() and map values, 4 in map keys); perf mode: ``\\t<hex addr> sym+off`` followed,
    for user frames, by `` (module)`` or `` ([unknown])`` when the address did not resolve;
    raw mode: the hex address alone. Unresolved symbols print as ``0x<addr>``.
    """
    pad = " " * indent
    lines = ["\n"]
    for frame in frames:
        if mode is StackMode.RAW:
            lines.append(f"{frame.addr:x}\n")
            continue
        if frame.symbol is None:
            sym = f"0x{frame.addr:x}"
        else:
            sym = f"{frame.symbol}+{frame.offset}"
        if mode is StackMode.PERF:
            # Kernel frames carry no module (module None); user frames name their file.
            module = ""
            if frame.module is not None:
                known = frame.symbol is not None and frame.module
                module = f" ({frame.module})" if known else " ([unknown])"
            lines.append(f"\t{frame.addr:x} {sym}{module}\n")
        else:
            lines.append(f"{pad}{sym}\n")
    return "".join(lines)


_DURATION_UNITS = (
    (1_000_000_000 * 3600, "h"),
    (1_000_000_000 * 60, "m"),
    (1_000_000_000, "s"),
    (1_000_000, "ms"),
    (1_000, "us"),
    (1, "ns"),
)


def format_duration(nanoseconds: int) -> str:
    """A duration with the largest unit that divides it exactly (``1500us``, ``2s``)."""
    if nanoseconds == 0:
        return "0ns"
    for scale, unit in _DURATION_UNITS:
        if nanoseconds % scale == 0:
            return f"{nanoseconds // scale}{unit}"
    return f"{nanoseconds}ns"
