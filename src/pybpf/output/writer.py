"""The one interface both output formats implement (text and NDJSON).

The runtime calls these methods as events arrive; each call writes complete output at
once (lines are never split across calls) and flushes nothing itself -- the caller
decides when to flush ``out``. Strings carry raw kernel bytes as surrogate escapes (see
:func:`pybpf.output.values.decode_cstr`); open ``out`` with ``errors="surrogateescape"``
to write them back byte for byte.
"""

from __future__ import annotations

import abc
import sys
from collections.abc import Iterable

from pybpf.output.maps import PreparedMap, prepare_map
from pybpf.output.printf import ParsedFormat, format_printf
from pybpf.output.values import MapData, Primitive

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


class Writer(abc.ABC):
    """Renders tracer output. ``out`` gets program output; ``err`` gets diagnostics."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        """Write program output to ``out`` (stdout) and messages to ``err`` (stderr)."""
        self.out: TextIO = out if out is not None else sys.stdout
        self.err: TextIO = err if err is not None else sys.stderr

    # -- async events -------------------------------------------------------------------

    def printf(self, fmt: str | ParsedFormat, args: list[Primitive]) -> None:
        """A ``printf(fmt, args...)`` event: format and emit it."""
        self.printf_text(format_printf(fmt, args))

    @abc.abstractmethod
    def printf_text(self, text: str) -> None:
        """Emit already-formatted printf output."""

    @abc.abstractmethod
    def print_map(self, m: MapData, top: int = 0, div: int = 0) -> None:
        """``print(@m, top, div)``, and each map at exit (with ``top=div=0``)."""

    def print_prepared(self, m: PreparedMap) -> None:
        """Emit a map already sorted and cut by :func:`prepare_map`."""
        raise NotImplementedError

    @abc.abstractmethod
    def print_value(self, value: Primitive) -> None:
        """``print(expr)`` of a non-map value."""

    @abc.abstractmethod
    def time(self, text: str) -> None:
        """``time(fmt)``: the strftime result, emitted as is (no newline added)."""

    @abc.abstractmethod
    def cat(self, text: str) -> None:
        """``cat(path)``: the file contents, as is."""

    @abc.abstractmethod
    def join(self, text: str) -> None:
        """``join(argv, delim)``: the joined string (text adds a newline)."""

    @abc.abstractmethod
    def system(self, text: str) -> None:
        """``system(cmd)``: the command's output (text adds a newline)."""

    # -- run-level events ---------------------------------------------------------------

    @abc.abstractmethod
    def attached_probes(self, count: int) -> None:
        """How many probes were attached (text: ``Attached N probes`` on stderr)."""

    @abc.abstractmethod
    def lost_events(self, count: int) -> None:
        """Events lost by the ring buffer since the last report."""

    @abc.abstractmethod
    def message(self, severity: str, msg: str, filename: str, line: int, col: int) -> None:
        """``errorf``/``warnf`` output (``severity`` is ``"error"`` or ``"warning"``).

        Text mode prints ``file:line:col: ERROR: msg`` (or ``WARNING:``) on stderr.
        """

    @abc.abstractmethod
    def runtime_error(
        self,
        msg: str,
        filename: str,
        line: int,
        col: int,
        helper: str | None = None,
        retcode: int | None = None,
    ) -> None:
        """A runtime error reported by the program (a failed helper when ``helper``)."""

    @abc.abstractmethod
    def end(self) -> None:
        """The run is over and the exit-time maps follow (text: two newlines)."""

    def print_maps(self, maps: Iterable[MapData]) -> None:
        """Print every map at exit, in bpftrace's order (sorted by name)."""
        for m in sorted(maps, key=lambda m: m.name.encode()):
            self.print_map(m)

    def _prepare(self, m: MapData, top: int, div: int) -> PreparedMap:
        return prepare_map(m, top, div)
