"""``Tracer``: a bpftrace program run in this process (see :mod:`pybpf.api`)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any

from pybpf.api.events import Event, Exit
from pybpf.api.session import BatchedReads, LibrarySession
from pybpf.api.values import map_dict
from pybpf.api.writer import EventWriter
from pybpf.output.values import MapData
from pybpf.output.writer import Writer
from pybpf.session import Options

_DONE = object()


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
                read_map(sc.maps[n], BatchedReads(s.maps[n]), sc.probe_names, s._stack)  # type: ignore[arg-type]
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
