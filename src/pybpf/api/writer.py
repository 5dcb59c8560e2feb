"""A :class:`~pybpf.output.writer.Writer` that turns tracer output into events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pybpf.api.events import Cat, Event, Join, Lost, Message, Print, Printf, System, Time
from pybpf.api.values import map_dict, to_python
from pybpf.output.values import MapData, Primitive
from pybpf.output.writer import Writer


class EventWriter(Writer):
    """A :class:`Writer` that hands every output call to ``emit`` as an :data:`Event`."""

    def __init__(self, emit: Callable[[Event], None]) -> None:
        """Events go to ``emit`` (called from the tracer's run-loop thread)."""
        import io

        super().__init__(io.StringIO(), io.StringIO())  # the session flushes ``out``; unused
        self.emit = emit

    def printf(self, fmt: Any, args: list[Primitive]) -> None:
        """Format like bpftrace and keep the raw arguments too."""
        from pybpf.output.printf import format_printf

        text = format_printf(fmt, args)
        self.emit(Printf(text, _format_text(fmt), tuple(to_python(a) for a in args)))

    def printf_text(self, text: str) -> None:
        """Already-formatted printf output (no format known)."""
        self.emit(Printf(text, text, ()))

    def print_map(self, m: MapData, top: int = 0, div: int = 0) -> None:
        """``print(@m)``; ``top``/``div`` are applied as bpftrace does."""
        if top or div:
            m = _cut(m, top, div)
        self.emit(Print(map_dict(m), m.name))

    def print_value(self, value: Primitive) -> None:
        """``print(expr)``."""
        self.emit(Print(to_python(value)))

    def time(self, text: str) -> None:
        """``time()``."""
        self.emit(Time(text))

    def cat(self, text: str) -> None:
        """``cat()``."""
        self.emit(Cat(text))

    def join(self, text: str) -> None:
        """``join()``."""
        self.emit(Join(text))

    def system(self, text: str) -> None:
        """``system()``."""
        self.emit(System(text))

    def attached_probes(self, count: int) -> None:
        """Not an event: :attr:`Tracer.probes` has the count."""

    def lost_events(self, count: int) -> None:
        """Lost ring-buffer events."""
        self.emit(Lost(count))

    def message(self, severity: str, msg: str, filename: str, line: int, col: int) -> None:
        """``errorf``/``warnf``."""
        self.emit(Message(severity, msg))

    def runtime_error(
        self,
        msg: str,
        filename: str,
        line: int,
        col: int,
        helper: str | None = None,
        retcode: int | None = None,
    ) -> None:
        """A runtime error reported by the program."""
        self.emit(Message("error", msg))

    def end(self) -> None:
        """Not an event: :class:`Exit` follows the end of the run."""

    def print_maps(self, maps: Any) -> None:
        """Exit-time maps are kept by the tracer (:meth:`Tracer.maps`), not emitted."""


def _cut(m: MapData, top: int, div: int) -> MapData:
    """``print(@m, top, div)`` on integer maps: the ``top`` largest values, divided by ``div``."""
    ints = [(k, v) for k, v in m.entries if isinstance(v, int)]
    if len(ints) != len(m.entries):
        return m
    ints.sort(key=lambda kv: kv[1])
    if top:
        ints = ints[-top:]
    if div:
        ints = [(k, v // div) for k, v in ints]
    return MapData(m.name, m.kind, list(ints), m.scalar, m.signed)


def _format_text(fmt: Any) -> str:
    """The format string of a parsed format (its fragments and specs back together)."""
    if isinstance(fmt, str):
        return fmt
    frags: list[str] = list(fmt.fragments)
    specs: list[str] = [sp.text for sp in fmt.specs]
    return frags[0] + "".join(sp + fr for sp, fr in zip(specs, frags[1:], strict=False))
