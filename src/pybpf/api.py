"""The library API: run a bpftrace program in-process and get its events and maps as Python.

``Tracer(script)`` compiles, loads and attaches on :meth:`Tracer.start`, runs ``BEGIN``, then
reads the ring buffer in a background thread. Events arrive as dataclasses (:class:`Printf`,
:class:`Print`, :class:`Time`, :class:`Cat`, :class:`System`, :class:`Join`, :class:`Lost`,
:class:`Exit`) through :meth:`Tracer.events` and/or the ``on_event`` callback. Maps read as
plain dicts at any time (:meth:`Tracer.maps`). :meth:`Tracer.stop` runs ``END`` and closes
every kernel object; it is idempotent and runs on every exit path of a ``with`` block.

Values become Python values: integers ``int``, strings ``str``, tuples ``tuple``, records
``dict``, arrays ``list``, buffers ``bytes``, symbols (``ksym``, enums) their text,
durations ``int`` nanoseconds. Scalar maps (``@x = 1``) are keyed by ``None``.
``count``/``sum``/``min``/``max`` are ints, ``avg`` is the integer average, ``stats`` is a
:class:`Stats`, ``hist``/``lhist`` are ``{(lo, hi): count}`` with ``lo`` inclusive and ``hi``
exclusive, ``None`` for an open end (values below 0, below ``min`` or at/above ``max``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from pybpf.output.values import (
    Array,
    AvgStats,
    Buffer,
    Duration,
    HistData,
    LhistData,
    MapData,
    MapKind,
    Primitive,
    Record,
    Symbolic,
    Tuple,
)
from pybpf.output.writer import Writer
from pybpf.session import Options, Session

# -- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Printf:
    """``printf(fmt, args...)``: the formatted ``text``, the format and the argument values."""

    text: str
    fmt: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Print:
    """``print(@map)`` (``name`` is the map name, ``value`` its dict) or ``print(expr)``."""

    value: Any
    name: str | None = None


@dataclass(frozen=True)
class Time:
    """``time(fmt)``: the formatted time."""

    text: str


@dataclass(frozen=True)
class Cat:
    """``cat(path)``: the file's contents (needs ``unsafe=True``)."""

    text: str


@dataclass(frozen=True)
class System:
    """``system(cmd)``: the command's output (needs ``unsafe=True``)."""

    text: str


@dataclass(frozen=True)
class Join:
    """``join(argv, delim)``: the joined string."""

    text: str


@dataclass(frozen=True)
class Lost:
    """``n`` events the ring buffer dropped (reported at the end of the run)."""

    n: int


@dataclass(frozen=True)
class Message:
    """``errorf``/``warnf`` output or a runtime error reported by the program."""

    severity: str
    text: str


@dataclass(frozen=True)
class Exit:
    """The run is over: ``exit(code)`` was called (or ``code`` 0 after :meth:`Tracer.stop`)."""

    code: int


Event = Printf | Print | Time | Cat | System | Join | Lost | Message | Exit


@dataclass(frozen=True)
class Stats:
    """A ``stats()`` value."""

    count: int
    average: int
    total: int


# -- values -------------------------------------------------------------------------------------


def to_python(value: Primitive) -> Any:
    """An output-layer value as a plain Python value (see the module docstring)."""
    if isinstance(value, Tuple):
        return tuple(to_python(v) for v in value.items)
    if isinstance(value, Record):
        return {k: to_python(v) for k, v in value.fields}
    if isinstance(value, Array | list):
        return [to_python(v) for v in (value.items if isinstance(value, Array) else value)]
    if isinstance(value, Buffer):
        return value.data
    if isinstance(value, Symbolic):
        return value.symbol
    if isinstance(value, Duration):
        return value.nanoseconds
    if isinstance(value, bool) or value is None or isinstance(value, str | float | bytes):
        return value
    if isinstance(value, int):
        return int(value)  # drop the Int subclass: plain ints compare and hash as users expect
    return value


def hist_ranges(h: HistData) -> dict[tuple[int | None, int | None], int]:
    """``hist()`` buckets as ``{(lo, hi): count}``; ``(None, 0)`` holds the negatives."""
    from pybpf.export.prometheus import hist_lower

    out: dict[tuple[int | None, int | None], int] = {}
    for index in sorted(h.buckets):
        lo = None if index == 0 else hist_lower(index, h.k)
        out[(lo, hist_lower(index + 1, h.k))] = h.buckets[index]
    return out


def lhist_ranges(h: LhistData) -> dict[tuple[int | None, int | None], int]:
    """``lhist()`` buckets as ``{(lo, hi): count}`` with open ends below min / at max."""
    last = (h.max - h.min) // h.step + 1
    out: dict[tuple[int | None, int | None], int] = {}
    for index in sorted(h.buckets):
        if index == 0:
            rng: tuple[int | None, int | None] = (None, h.min)
        elif index >= last:
            rng = (h.min + (last - 1) * h.step, None)
        else:
            rng = (h.min + (index - 1) * h.step, h.min + index * h.step)
        out[rng] = h.buckets[index]
    return out


def map_value(value: Any, kind: MapKind) -> Any:
    """One map value as Python (see the module docstring)."""
    if isinstance(value, HistData):
        return hist_ranges(value)
    if isinstance(value, LhistData):
        return lhist_ranges(value)
    if isinstance(value, AvgStats):
        if kind is MapKind.STATS:
            return Stats(value.count, value.average, value.total)
        return value.average
    return to_python(value)


def map_dict(m: MapData) -> dict[Any, Any]:
    """A map's entries as ``{key: value}`` (scalar maps: the key is ``None``)."""
    return {to_python(k): map_value(v, m.kind) for k, v in m.entries}


# -- the writer that turns output calls into events -------------------------------------------


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


# -- the session without signal handlers, run in steps ------------------------------------------


class LibrarySession(Session):
    """A :class:`Session` for library use: no signal handlers, started and ended in steps."""

    def _install_signals(self) -> dict[int, Any]:
        # Python only allows signal handlers in the main thread, and a library must not take
        # SIGINT/SIGTERM away from its host program.
        return {}

    def _handler(self, eid: int) -> tuple[Any, Any]:
        h = super()._handler(eid)
        if isinstance(self.writer, EventWriter):
            # Session's printf fast path formats to text and loses the format and arguments
            # that Printf events carry; send every printf through Writer.printf instead.
            h[0].info["pyfmt"] = None
        return h

    def begin(self) -> None:
        """Load, attach the event probes, run BEGIN, attach the timers (caller's thread)."""
        self.load()
        self.attach(timers=False)
        self._run_special("BEGIN")
        self.attach(timers=True)

    def loop(self) -> None:
        """Read the ring buffer until ``exit()`` or :attr:`stop` is set."""
        self._loop()

    def finish(self) -> None:
        """Detach, drop queued events, run END and report lost events (not closing)."""
        self._detach()
        self._drain(discard=True)
        self.ring_open = False
        self._run_special("END")
        self._drain()
        self.writer.end()
        self._print_maps()
        self._report_lost()
        self.writer.out.flush()

    @property
    def exited(self) -> bool:
        """True once the script called ``exit()``."""
        return bool(self._exited)


_DONE = object()


class _Batched:
    """A map whose ``items()`` reads with ``BPF_MAP_LOOKUP_BATCH``: a few system calls per
    map instead of two per entry (10k entries: ~0.1 s less per read)."""

    def __init__(self, m: Any) -> None:
        self.m = m

    def items(self) -> Any:
        from pybpf.errors import KernelError

        try:
            return self.m.lookup_batch(chunk=1024)
        except KernelError:  # map types without batch operations
            return self.m.items()


class Tracer:
    """Runs a bpftrace program in this process (see the module docstring)."""

    def __init__(
        self,
        script: str,
        params: Sequence[str] = (),
        unsafe: bool = False,
        on_event: Callable[[Event], None] | None = None,
        filename: str = "stdin",
        writer: Writer | None = None,
        max_queue: int = 100_000,
    ) -> None:
        """Compile nothing yet: :meth:`start` (or ``with``) does the work.

        With ``writer`` (e.g. ``make_writer("text")``), output goes there as pybpftrace
        prints it (exit-time maps included) instead of becoming events; :class:`Exit` is
        still queued. At most ``max_queue`` events wait in the queue of :meth:`events`;
        beyond that they are dropped (counted in :attr:`dropped`) rather than blocking the
        run loop, which would make the kernel drop events instead.
        """
        self.script_text = script
        self.params = [str(p) for p in params]
        self.unsafe = unsafe
        self.on_event = on_event
        self.filename = filename
        self.writer = writer
        self.session: LibrarySession | None = None
        self.exit_code: int | None = None
        self._queue: queue.Queue[Any] = queue.Queue(max_queue)
        self.dropped = 0
        """Events dropped because nobody read :meth:`events` and the queue was full."""
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # map reads vs closing the maps
        self._final: dict[str, dict[Any, Any]] | None = None
        self._error: BaseException | None = None
        self._closed = False

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> Tracer:
        """Compile, load, attach, run BEGIN, then read events in a background thread.

        Errors (a language error as :class:`ScriptError`, kernel errors as
        :class:`~pybpf.errors.PybpfError`) are raised here, with nothing left loaded.
        """
        if self.session is not None:
            raise RuntimeError("Tracer.start() called twice")
        from pybpf.cli.pybpftrace import compile_script

        compiled = compile_script(self.script_text, self.filename, self.params, self.unsafe)
        w = self.writer if self.writer is not None else EventWriter(self._emit)
        s = LibrarySession(compiled, w, Options(quiet_attach=True))
        self.session = s
        try:
            s.begin()
        except BaseException:
            self._closed = True
            s.stack.close()
            raise
        self._thread = threading.Thread(target=self._run, name="pybpf-tracer", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        s = self.session
        assert s is not None
        try:
            s.loop()
            s.finish()
            self._final = self._read_maps()
        except BaseException as e:  # handed to the caller by stop()/wait()
            self._error = e
        finally:
            with self._lock:
                self._closed = True
                s.stack.close()
            self.exit_code = s.exit_code if s.exited else 0
            ev = Exit(self.exit_code)
            try:
                if self.on_event is not None:
                    self.on_event(ev)
            except BaseException as e:
                self._error = self._error or e
            finally:
                # Iterators must always see the end, whatever happened above.
                self._put_last(ev)
                self._put_last(_DONE)

    def stop(self) -> int:
        """Stop the probes, run END, close every kernel object; returns the exit code.

        Idempotent; a failure of the run loop is raised here (once).
        """
        s = self.session
        if s is None:
            return 0
        s.stop = True
        if self._thread is not None:
            self._thread.join()
        elif not self._closed:
            self._closed = True
            s.stack.close()
        err, self._error = self._error, None
        if err is not None:
            raise err
        return self.exit_code or 0

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the script calls ``exit()`` or :meth:`stop` is called.

        Returns the exit code, or ``None`` if ``timeout`` seconds passed first.
        """
        if self._thread is None:
            return self.exit_code
        self._thread.join(timeout)
        if self._thread.is_alive():
            return None
        return self.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and the end of the run."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Tracer:
        return self.start()

    def __exit__(
        self,
        et: type[BaseException] | None,
        ev: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if et is None:
            self.stop()
            return
        try:
            self.stop()
        except Exception:
            pass  # the with-block's own exception matters more

    # -- events -------------------------------------------------------------------------------
    def _emit(self, ev: Event) -> None:
        if self.on_event is not None:
            self.on_event(ev)
        try:
            self._queue.put_nowait(ev)
        except queue.Full:
            self.dropped += 1

    def _put_last(self, item: object) -> None:
        """Queue ``item`` even when full (the oldest event makes room for it)."""
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Events as they come; ends after :class:`Exit`, or when ``timeout`` seconds pass
        without an event (``None``: wait as long as the run lasts)."""
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return
            if item is _DONE:
                self._put_last(_DONE)  # later iterators end too
                return
            yield item

    # -- maps ---------------------------------------------------------------------------------
    def map_data(self) -> list[MapData]:
        """Every script map as the output layer's :class:`MapData` (empty once closed)."""
        from pybpf.runtime.mapread import read_map

        s = self.session
        with self._lock:
            if s is None or self._closed:
                return []
            sc = s.script
            return [
                read_map(sc.maps[n], _Batched(s.maps[n]), sc.probe_names, s._stack)  # type: ignore[arg-type]
                for n in sc.print_order
            ]

    def _read_maps(self) -> dict[str, dict[Any, Any]]:
        return {m.name: map_dict(m) for m in self.map_data()}

    def maps(self) -> dict[str, dict[Any, Any]]:
        """``{"@name": {key: value}}`` now; after the run, the maps as they were at the end."""
        with self._lock:
            if self._closed:
                return dict(self._final or {})
            return self._read_maps()

    @property
    def probes(self) -> int:
        """Attach points, counted as bpftrace counts them (BEGIN and END included)."""
        return self.session.probe_count() if self.session is not None else 0

    def object_ids(self) -> dict[str, list[int]]:
        """Kernel ids of what this tracer loaded: ``{"prog": [...], "map": [...], "link": [...]}``
        (BEGIN/END programs included; links that are BPF links). Empty lists once closed."""
        s = self.session
        out: dict[str, list[int]] = {"prog": [], "map": [], "link": []}
        with self._lock:
            if s is None or self._closed:
                return out
            progs = [p for _, p in s.progs] + s.special["BEGIN"] + s.special["END"]
            out["prog"] = [p.id for p in progs]
            out["map"] = [m.id for m in s.maps.values()]
            for link in s.links:
                for one in getattr(link, "links", [link]):
                    if getattr(one, "is_bpf_link", False) and not one.closed:
                        out["link"].append(one.id)
        return out

    def lost_events(self) -> int:
        """Events the ring buffer has dropped so far (0 once closed)."""
        import struct

        s = self.session
        with self._lock:
            if s is None or self._closed or "globals" not in s.maps:
                return 0
            raw = s.maps["globals"].lookup(b"\0" * 4)
        return struct.unpack_from("<Q", raw, 8)[0] if isinstance(raw, bytes) else 0

    def program_stats(self) -> list[tuple[str, int, int]]:
        """``(probe, run_time_ns, run_count)`` per probe program, from the kernel's prog info
        (the counts grow only while BPF run-time statistics are on)."""
        s = self.session
        with self._lock:
            if s is None or self._closed:
                return []
            out = []
            for d, p in s.progs:
                info = p.info()
                out.append((d.label, info.run_time_ns, info.run_cnt))
            return out


def run_for(script: str, seconds: float, **kwargs: Any) -> dict[str, dict[Any, Any]]:
    """Run ``script`` for ``seconds`` (or until ``exit()``) and return its final maps."""
    with Tracer(script, **kwargs) as t:
        t.wait(seconds)
    return t.maps()


_ = time
__all__ = [
    "Cat",
    "Event",
    "EventWriter",
    "Exit",
    "Join",
    "LibrarySession",
    "Lost",
    "Message",
    "Print",
    "Printf",
    "Stats",
    "System",
    "Time",
    "Tracer",
    "map_dict",
    "run_for",
    "to_python",
]
