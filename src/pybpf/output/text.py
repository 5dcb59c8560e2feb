"""bpftrace's text output: values, maps and histogram bars, byte for byte.

Map lines are ``@name[key]: value``; tuple keys lose their outer parentheses; scalar maps
print ``@name: value``. Histograms print ``@name:`` (or ``@name[key]:``), one line per
bucket and a blank line. No blank line follows other maps; :meth:`TextWriter.end` writes
the two newlines bpftrace prints before the exit-time maps.
"""

from __future__ import annotations

import struct

from pybpf.output.maps import Histogram, Label, PreparedMap, Shown
from pybpf.output.values import (
    Array,
    Buffer,
    Duration,
    MapData,
    Primitive,
    Record,
    Symbolic,
    Tuple,
    format_buffer,
    format_duration,
)
from pybpf.output.writer import Writer

BAR_WIDTH = 52


def _format_float(value: float) -> str:
    # C++ streams print doubles like printf("%g") with 6 significant digits.
    return f"{value:g}"


def primitive_pieces(value: Primitive) -> tuple[str, str]:
    """A value's text split at the point a C++ stream's field width stops applying.

    The first piece is what one ``<<`` writes (all of a scalar, the opening bracket of a
    composite); printf's width pads only that piece.
    """
    if isinstance(value, Tuple | tuple):
        return "(", format_primitive(value)[1:]
    if isinstance(value, Record) and value.fields:
        return "{ ", format_primitive(value)[2:]
    if isinstance(value, Array | list):
        return "[", format_primitive(value)[1:]
    return format_primitive(value), ""


def format_primitive(value: Primitive) -> str:
    """The text form of a value, as ``print()``, ``%s`` and map printing show it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Buffer | bytes | bytearray):
        return format_buffer(value.data if isinstance(value, Buffer) else bytes(value))
    if isinstance(value, Symbolic):
        return value.symbol
    if isinstance(value, tuple):
        return format_primitive(Tuple(value))
    if isinstance(value, list):
        return format_primitive(Array(tuple(value)))
    if isinstance(value, Tuple):
        if value.names is not None:
            inner = ", ".join(
                f"{n} = {format_primitive(v)}"
                for n, v in zip(value.names, value.items, strict=True)
            )
        else:
            inner = ", ".join(format_primitive(v) for v in value.items)
        return f"({inner})"
    if isinstance(value, Record):
        if not value.fields:
            return "{}"
        inner = ", ".join(f".{n} = {format_primitive(v)}" for n, v in value.fields)
        return "{ " + inner + " }"
    if isinstance(value, Array):
        return "[" + ",".join(format_primitive(v) for v in value.items) + "]"
    if isinstance(value, Duration):
        return format_duration(value.nanoseconds)
    return str(value)  # not a bpftrace value; show something rather than fail


def _f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def bar_width(count: int, max_count: int) -> int:
    """Length of a histogram bar, computed in single precision as bpftrace does."""
    if max_count == 0:
        return 0
    ratio = _f32(_f32(float(count)) / _f32(float(max_count)))
    return int(_f32(ratio * BAR_WIDTH))


def _label(label: Label) -> str:
    return label.symbol if isinstance(label, Symbolic) else str(label)


def _single(a: Label, b: Label) -> bool:
    # Only plain integer bounds one apart make a one-value bucket ("[5]").
    return not isinstance(a, Symbolic) and not isinstance(b, Symbolic) and a + 1 == b


def _bucket_header(hist: Histogram, i: int) -> str:
    labels = hist.labels
    if i == 0:
        if hist.lower_bound is None:
            return f"(..., {_label(labels[0])})"
        if not labels:
            return f"[{_label(hist.lower_bound)}, ...)"
        lo = hist.lower_bound
    elif i >= len(labels):
        return f"[{_label(labels[i - 1])}, ...)"
    else:
        lo = labels[i - 1]
    if _single(lo, labels[i]):
        return f"[{_label(lo)}]"
    return f"[{_label(lo)}, {_label(labels[i])})"


def format_histogram(hist: Histogram) -> str:
    """Histogram bucket lines: ``[4, 8)   3 |@@@...|`` with a 52-column bar."""
    top = max(hist.counts, default=0)
    lines = []
    for i, count in enumerate(hist.counts):
        header = _bucket_header(hist, i)
        bar = "@" * bar_width(count, top)
        lines.append(f"{header:<16}{count:>8} |{bar:<{BAR_WIDTH}}|\n")
    return "".join(lines)


def _strip_parens(text: str) -> str:
    if len(text) >= 2 and text[0] == "(" and text[-1] == ")":
        return text[1:-1]
    return text


def format_map(m: PreparedMap) -> str:
    """A prepared map in bpftrace's text form."""
    parts: list[str] = []
    for key, value in m.entries:
        head = m.name if m.scalar else f"{m.name}[{_strip_parens(format_primitive(key))}]"
        parts.append(_format_entry(head, value))
    return "".join(parts)


def _format_entry(head: str, value: Shown) -> str:
    if isinstance(value, Histogram):
        return f"{head}:\n{format_histogram(value)}\n"
    return f"{head}: {format_primitive(value)}\n"


class TextWriter(Writer):
    """bpftrace's default text output."""

    def printf_text(self, text: str) -> None:
        """Emit printf output as is."""
        self.out.write(text)

    def print_map(self, m: MapData, top: int = 0, div: int = 0) -> None:
        """Print a map: ``@m[key]: value`` lines, or histogram blocks."""
        self.print_prepared(self._prepare(m, top, div))

    def print_prepared(self, m: PreparedMap) -> None:
        """Print a map already prepared."""
        self.out.write(format_map(m))

    def print_value(self, value: Primitive) -> None:
        """``print(value)``: its text and a newline."""
        self.out.write(format_primitive(value) + "\n")

    def time(self, text: str) -> None:
        """``time()`` output as is."""
        self.out.write(text)

    def cat(self, text: str) -> None:
        """``cat()`` output as is."""
        self.out.write(text)

    def join(self, text: str) -> None:
        """``join()`` output and a newline."""
        self.out.write(text + "\n")

    def system(self, text: str) -> None:
        """``system()`` output and a newline."""
        self.out.write(text + "\n")

    def attached_probes(self, count: int) -> None:
        """``Attached N probe(s)`` on stderr."""
        noun = "probe" if count == 1 else "probes"
        self.err.write(f"Attached {count} {noun}\n")

    def lost_events(self, count: int) -> None:
        """``Lost N events`` on stderr."""
        self.err.write(f"Lost {count} events\n")

    def message(self, severity: str, msg: str, filename: str, line: int, col: int) -> None:
        """``errorf``/``warnf``: ``file:line:col: ERROR: msg`` on stderr."""
        label = "ERROR" if severity == "error" else "WARNING"
        self.err.write(f"{filename}:{line}:{col}: {label}: {msg}\n")

    def runtime_error(
        self,
        msg: str,
        filename: str,
        line: int,
        col: int,
        helper: str | None = None,
        retcode: int | None = None,
    ) -> None:
        """A runtime warning on stderr, with helper details when a helper failed."""
        text = msg
        if helper is not None:
            text += f"\nAdditional Info - helper: {helper}, retcode: {retcode}"
        self.err.write(f"{filename}:{line}:{col}: WARNING: {text}\n")

    def end(self) -> None:
        """The two newlines bpftrace prints when the run ends."""
        self.out.write("\n\n")
