"""The tracer session for library use: no signal handlers, run in steps."""

from __future__ import annotations

from typing import Any

from pybpf.api.writer import EventWriter
from pybpf.session import Session


class LibrarySession(Session):
    """A :class:`Session` for library use: no signal handlers, started and ended in steps."""

    printf_as_text = False  # Printf events carry the format and arguments

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


class BatchedReads:
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
