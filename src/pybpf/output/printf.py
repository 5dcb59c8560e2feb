"""bpftrace's printf format language, rendered over decoded values.

Current bpftrace formats printf arguments with C++ streams rather than C ``snprintf``,
and this module reproduces those semantics exactly:

* a conversion is ``%[-][+][ ][#][0][width|*][.precision|*][hh|h|l|ll|j|z|t|L]conv``
  with the flags in that order only; ``conv`` is one of ``d i o u x X c s p r rx rh``
  (``e f g a n`` parse but the type check rejects them); ``%%`` is a literal ``%``.
* ``-`` left-aligns, ``+`` shows the sign of signed conversions, ``#`` shows the base
  (``0x``/``0X``/``0``, only for non-zero values), ``0`` fills with zeros *outside* the
  sign (``%05d`` of -3 is ``000-3``; with ``-`` the zeros go on the right). The space
  flag, ``*`` and precision are accepted and ignored (precision only applies to floats).
* With no length modifier ``%d``/``%i``/``%c`` convert through a 32-bit ``int`` and
  ``%u``/``%o``/``%x``/``%X`` through a 32-bit ``unsigned``; ``l``/``ll``/``j``/``z``/``t``
  keep 64 bits, ``h`` 16, ``hh`` 8 (signed or unsigned as the conversion says).
* ``%s`` prints any value in its text form (see :func:`pybpf.output.text.format_primitive`);
  the width pads only the first piece written (the whole string for strings and numbers,
  the opening bracket for tuples, records and arrays) just as a C++ stream does.
* ``%r`` prints a buffer with printable ASCII kept and ``\\xNN`` for other bytes, ``%rx``
  escapes every byte, ``%rh`` prints space-separated hex pairs; for non-buffers they act
  like ``%s``.
* ``%p`` prints the value as a pointer: ``0x`` and lower-case hex (``0`` for null).

:func:`parse_format` splits a format string once (the front end reuses it for checking
with :func:`check_format`); :func:`format_printf` renders it with arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pybpf.output.values import Buffer, Primitive, Symbolic, format_buffer, wrap
from pybpf.records import dataclass

_SPEC_RE = re.compile(
    r"%(-?)(\+?)( ?)(#?)(0?)(\*|\d+)?(?:\.(\*|\d+))?([hlLjzt]*)([diouxXeEfFgGaAcspn%]|rh|rx|r)"
)

# Conversions bpftrace accepts, and the argument kinds each takes (empty: any kind).
_ANY_INTEGER = ("integer", "boolean", "pointer")
_REQUIRED_KIND: dict[str, tuple[str, ...]] = {
    "d": _ANY_INTEGER,
    "i": _ANY_INTEGER,
    "u": _ANY_INTEGER,
    "o": _ANY_INTEGER,
    "x": _ANY_INTEGER,
    "X": _ANY_INTEGER,
    "c": _ANY_INTEGER,
    "r": ("buffer",),
    "rx": ("buffer",),
    "rh": ("buffer",),
    "s": (),
    "p": _ANY_INTEGER,
}

# Bit width a length modifier converts through (None: the conversion's default).
_LENGTH_BITS = {"hh": 8, "h": 16, "l": 64, "ll": 64, "j": 64, "z": 64, "t": 64, "L": 64}


@dataclass(frozen=True)
class FormatSpec:
    """One parsed conversion: flags, width, precision, length modifier, conversion."""

    text: str
    left_align: bool = False
    show_sign: bool = False
    space_prefix: bool = False
    alternate_form: bool = False
    lead_zeros: bool = False
    width: int = 0
    precision: int = -1
    length: str = ""
    conversion: str = "s"


@dataclass(frozen=True)
class ParsedFormat:
    """A split format string: ``len(fragments) == len(specs) + 1`` literal pieces."""

    fragments: tuple[str, ...]
    specs: tuple[FormatSpec, ...]


def _spec_from_match(m: re.Match[str]) -> FormatSpec:
    width = m.group(6)
    precision = m.group(7)
    return FormatSpec(
        text=m.group(0),
        left_align=bool(m.group(1)),
        show_sign=bool(m.group(2)),
        space_prefix=bool(m.group(3)),
        alternate_form=bool(m.group(4)),
        lead_zeros=bool(m.group(5)),
        width=int(width) if width and width != "*" else 0,
        precision=int(precision) if precision and precision != "*" else -1,
        length=m.group(8),
        conversion=m.group(9),
    )


def parse(fmt: str) -> ParsedFormat:
    """Split ``fmt`` into literal fragments and conversions (``%%`` folds into text)."""
    fragments: list[str] = []
    specs: list[FormatSpec] = []
    current: list[str] = []
    last = 0
    for m in _SPEC_RE.finditer(fmt):
        current.append(fmt[last : m.start()])
        last = m.end()
        spec = _spec_from_match(m)
        if spec.conversion == "%":
            current.append("%")
            continue
        fragments.append("".join(current))
        current = []
        specs.append(spec)
    current.append(fmt[last:])
    fragments.append("".join(current))
    return ParsedFormat(tuple(fragments), tuple(specs))


def parse_format(fmt: str) -> list[FormatSpec]:
    """The conversions of ``fmt`` in order, one per argument it consumes."""
    return list(parse(fmt).specs)


def check_format(
    fmt: str | ParsedFormat, kinds: Sequence[str], type_names: Sequence[str] | None = None
) -> str | None:
    """Check argument kinds against a format; return bpftrace's error message or None.

    ``kinds`` name each argument's kind: ``integer``, ``boolean``, ``pointer``,
    ``buffer``, ``none``, ``void`` or anything else (string, tuple, ...). ``type_names``
    are the type strings used in messages (default: the kinds).
    """
    parsed = parse(fmt) if isinstance(fmt, str) else fmt
    specs = parsed.specs
    if len(kinds) < len(specs):
        return (
            f"not enough arguments for format string ({len(kinds)} supplied, {len(specs)} expected)"
        )
    if len(kinds) > len(specs):
        return (
            f"too many arguments for format string ({len(kinds)} supplied, {len(specs)} expected)"
        )
    names = list(type_names) if type_names is not None else list(kinds)
    for spec, kind, name in zip(specs, kinds, names, strict=True):
        if kind in ("none", "void"):
            return f"unable to print none type for specifier: {spec.conversion}"
        allowed = _REQUIRED_KIND.get(spec.conversion)
        if allowed is None:
            return f"unsupported format specifier: {spec.conversion}"
        if allowed and kind not in allowed:
            return f"unsupported format specifier for type '{name}': {spec.conversion}"
    return None


def format_printf(fmt: str | ParsedFormat, args: Sequence[Primitive]) -> str:
    """Render a printf format with decoded argument values, as bpftrace prints it."""
    parsed = parse(fmt) if isinstance(fmt, str) else fmt
    out: list[str] = []
    for i, arg in enumerate(args[: len(parsed.specs)]):
        out.append(parsed.fragments[i])
        out.append(apply_spec(parsed.specs[i], arg))
    out.append(parsed.fragments[len(args[: len(parsed.specs)])])
    if len(args) < len(parsed.specs):
        # Missing arguments cannot happen after type checking; keep the rest literal.
        out.extend(
            s.text + f
            for s, f in zip(
                parsed.specs[len(args) :], parsed.fragments[len(args) + 1 :], strict=True
            )
        )
    return "".join(out)


def _pad(text: str, spec: FormatSpec) -> str:
    """Apply width, fill and alignment to the first piece written (C++ ``setw``)."""
    if len(text) >= spec.width:
        return text
    fill = ("0" if spec.lead_zeros else " ") * (spec.width - len(text))
    return text + fill if spec.left_align else fill + text


def _as_integer(value: Primitive) -> int | None:
    if isinstance(value, Symbolic):
        return value.numeric
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def _format_int(spec: FormatSpec, value: int) -> str:
    conv = spec.conversion
    bits = _LENGTH_BITS.get(spec.length, 32)
    if conv in ("d", "i"):
        n = wrap(value, bits, True)
        sign = "+" if spec.show_sign and n >= 0 else ""
        return sign + str(n)
    # Unsigned conversions: cast through the unsigned type of the length modifier.
    n = wrap(value, bits, False)
    if conv == "u":
        return str(n)
    if conv == "o":
        digits = f"{n:o}"
        return "0" + digits if spec.alternate_form and n else digits
    upper = conv == "X"
    digits = f"{n:X}" if upper else f"{n:x}"
    if spec.alternate_form and n:
        return ("0X" if upper else "0x") + digits
    return digits


def _format_text(spec: FormatSpec, value: Primitive) -> str:
    # Imported here: text imports printf for nothing, but keep the layering one-way.
    from pybpf.output.text import format_primitive, primitive_pieces

    if spec.width <= 0:
        return format_primitive(value)
    first, rest = primitive_pieces(value)
    return _pad(first, spec) + rest


def apply_spec(spec: FormatSpec, value: Primitive) -> str:
    """Render one argument under one conversion."""
    conv = spec.conversion
    if conv in ("r", "rx", "rh"):
        if isinstance(value, Buffer | bytes | bytearray):
            data = value.data if isinstance(value, Buffer) else bytes(value)
            text = format_buffer(data, keep_ascii=conv == "r", escape_hex=conv != "rh")
            return _pad(text, spec)
        return _format_text(spec, value)
    if conv == "s":
        return _format_text(spec, value)
    if conv in ("d", "i", "u", "o", "x", "X", "c", "p"):
        n = _as_integer(value)
        if n is None:
            from pybpf.output.text import format_primitive

            return "!{invalid integer conversion: " + format_primitive(value) + "}"
        if conv == "c":
            return _pad(chr(wrap(n, 8, False)), spec)
        if conv == "p":
            u = wrap(n, 64, False)
            return _pad(f"0x{u:x}" if u else "0", spec)
        return _pad(_format_int(spec, n), spec)
    # Floating conversions are rejected by the type check; render integers plainly.
    return _format_text(spec, value)
