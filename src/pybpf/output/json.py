"""bpftrace's NDJSON output (``-f json``): one ``{"type": ..., "data": ...}`` per line.

Line shapes (spacing is bpftrace's: objects ``", "`` and ``": "``, arrays ``","``):

* ``{"type": "map", "data": {"@x": {"1": 2, "2": 3}}}`` -- maps; ``"hist"`` for hist and
  lhist maps, ``"stats"`` for avg and stats maps; scalar maps give the value directly;
  empty maps print nothing. Keys are their text form with outer parentheses and *every*
  space removed (``"1,abc"``).
* hist data is ``[{"min": 4, "max": 7, "count": 1},...]``: ``max`` is inclusive, the
  underflow bucket has no ``min`` and the overflow bucket no ``max``.
* ``{"type": "value", "data": ...}`` for ``print(expr)``; ``printf``, ``time``, ``cat``,
  ``join`` and ``syscall`` carry a string.
* ``{"type": "attached_probes", "count": N, "data": {"probes": N}}`` and
  ``{"type": "lost_events", "count": N, "data": {"events": N}}``.
* ``{"type": "errorf", "msg": ..., "filename": ..., "line": N, "col": N}`` (``warnf``,
  ``runtime_error``, and ``helper_error`` with ``helper`` and ``retcode``).

Integers that a double cannot hold exactly are written as strings. Tuples are arrays
(named tuples and records are objects), buffers are arrays of signed byte values.
"""

from __future__ import annotations

from pybpf.output.maps import Histogram, Label, PreparedMap, Shown
from pybpf.output.text import format_primitive
from pybpf.output.values import (
    Array,
    Buffer,
    Duration,
    MapData,
    Primitive,
    Record,
    Symbolic,
    Tuple,
    format_duration,
    str_bytes,
)
from pybpf.output.writer import Writer

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_string(text: str) -> str:
    """A JSON string literal escaped exactly as bpftrace escapes it.

    bpftrace escapes byte by byte with a signed ``char``: control bytes become
    ``\\u00XX`` and so does every byte >= 0x80, whose negative value prints as
    ``\\uffffffXX``.
    """
    out = ['"']
    for b in str_bytes(text):
        c = chr(b)
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif b <= 0x1F:
            out.append(f"\\u{b:04x}")
        elif b >= 0x80:
            out.append(f"\\u{b | 0xFFFFFF00:x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def json_int(value: int) -> str:
    """An integer, quoted when a double cannot represent it exactly."""
    n = int(value)
    text = str(n)
    return text if float(n) == n and abs(n) < 2**64 and int(float(n)) == n else f'"{text}"'


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json_string(k)}: {v}" for k, v in pairs) + "}"


def json_value(value: Primitive) -> str:
    """The JSON encoding of a primitive value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return json_int(value)
    if isinstance(value, float):
        return f"{value:f}"
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, Buffer | bytes | bytearray):
        data = value.data if isinstance(value, Buffer) else bytes(value)
        signed = (b - 256 if b >= 0x80 else b for b in data)
        return "[" + ",".join(str(b) for b in signed) + "]"
    if isinstance(value, Symbolic):
        return json_int(value.numeric)
    if isinstance(value, tuple):
        return json_value(Tuple(value))
    if isinstance(value, list):
        return json_value(Array(tuple(value)))
    if isinstance(value, Tuple):
        if value.names is not None:
            return _object(
                [(n, json_value(v)) for n, v in zip(value.names, value.items, strict=True)]
            )
        return "[" + ",".join(json_value(v) for v in value.items) + "]"
    if isinstance(value, Record):
        return _object([(n, json_value(v)) for n, v in value.fields])
    if isinstance(value, Array):
        return "[" + ",".join(json_value(v) for v in value.items) + "]"
    if isinstance(value, Duration):
        return json_string(format_duration(value.nanoseconds))
    return json_string(str(value))  # not a bpftrace value; show something rather than fail


def _one_less(label: Label) -> str:
    n = label.numeric if isinstance(label, Symbolic) else label
    return json_int(n - 1)


def json_histogram(hist: Histogram) -> str:
    """Buckets as ``[{"min": a, "max": b, "count": n},...]`` (``max`` inclusive)."""
    buckets = []
    for i, count in enumerate(hist.counts):
        fields = []
        if i == 0 and hist.lower_bound is not None:
            fields.append(f'"min": {json_value(hist.lower_bound)}')
        elif i > 0:
            fields.append(f'"min": {json_value(hist.labels[i - 1])}')
        if i < len(hist.labels):
            fields.append(f'"max": {_one_less(hist.labels[i])}')
        fields.append(f'"count": {count}')
        buckets.append("{" + ", ".join(fields) + "}")
    return "[" + ",".join(buckets) + "]"


def _shown(value: Shown) -> str:
    if isinstance(value, Histogram):
        return json_histogram(value)
    return json_value(value)


def map_key(key: Primitive) -> str:
    """A map key as JSON object key text: outer parentheses and all spaces removed."""
    text = format_primitive(key)
    if len(text) >= 2 and text[0] == "(" and text[-1] == ")":
        text = text[1:-1]
    return text.replace(" ", "")


def format_map(m: PreparedMap) -> str:
    """A prepared map as one NDJSON line ('' for an empty map)."""
    if not m.entries:
        return ""
    kind = "stats" if m.stats else "hist" if m.hist else "map"
    if m.scalar:
        data = _shown(m.entries[0][1])
    else:
        data = _object([(map_key(k), _shown(v)) for k, v in m.entries])
    return f'{{"type": "{kind}", "data": {{{json_string(m.name)}: {data}}}}}\n'


def _line(kind: str, data: str) -> str:
    return f'{{"type": "{kind}", "data": {data}}}\n'


class JsonWriter(Writer):
    """bpftrace's ``-f json`` output: everything on ``out`` as NDJSON lines."""

    def printf_text(self, text: str) -> None:
        """``{"type": "printf", "data": "..."}``."""
        self.out.write(_line("printf", json_string(text)))

    def print_map(self, m: MapData, top: int = 0, div: int = 0) -> None:
        """A map line (nothing for an empty map)."""
        self.print_prepared(self._prepare(m, top, div))

    def print_prepared(self, m: PreparedMap) -> None:
        """A map line for a prepared map."""
        self.out.write(format_map(m))

    def print_value(self, value: Primitive) -> None:
        """``{"type": "value", "data": ...}``."""
        self.out.write(_line("value", json_value(value)))

    def time(self, text: str) -> None:
        """``{"type": "time", "data": "..."}``."""
        self.out.write(_line("time", json_string(text)))

    def cat(self, text: str) -> None:
        """``{"type": "cat", "data": "..."}``."""
        self.out.write(_line("cat", json_string(text)))

    def join(self, text: str) -> None:
        """``{"type": "join", "data": "..."}``."""
        self.out.write(_line("join", json_string(text)))

    def system(self, text: str) -> None:
        """``{"type": "syscall", "data": "..."}``."""
        self.out.write(_line("syscall", json_string(text)))

    def attached_probes(self, count: int) -> None:
        """``{"type": "attached_probes", "count": N, "data": {"probes": N}}``."""
        self.out.write(
            f'{{"type": "attached_probes", "count": {count}, "data": {{"probes": {count}}}}}\n'
        )

    def lost_events(self, count: int) -> None:
        """``{"type": "lost_events", "count": N, "data": {"events": N}}``."""
        self.out.write(
            f'{{"type": "lost_events", "count": {count}, "data": {{"events": {count}}}}}\n'
        )

    def _located(self, head: str, filename: str, line: int, col: int) -> None:
        self.out.write(
            f'{head}, "filename": {json_string(filename)}, "line": {line}, "col": {col}}}\n'
        )

    def message(self, severity: str, msg: str, filename: str, line: int, col: int) -> None:
        """``{"type": "errorf"|"warnf", "msg": ..., "filename": ..., "line": .., "col": ..}``."""
        kind = "errorf" if severity == "error" else "warnf"
        self._located(f'{{"type": "{kind}", "msg": {json_string(msg)}', filename, line, col)

    def runtime_error(
        self,
        msg: str,
        filename: str,
        line: int,
        col: int,
        helper: str | None = None,
        retcode: int | None = None,
    ) -> None:
        """``helper_error`` (with helper and retcode) or ``runtime_error`` lines."""
        if helper is not None:
            head = (
                f'{{"type": "helper_error", "msg": {json_string(msg)}, '
                f'"helper": {json_string(helper)}, "retcode": {json_int(retcode or 0)}'
            )
        else:
            head = f'{{"type": "runtime_error", "msg": {json_string(msg)}'
        self._located(head, filename, line, col)

    def end(self) -> None:
        """JSON output writes nothing at the end of the run."""
