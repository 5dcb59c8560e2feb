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

from pybpf.api.events import (
    Cat,
    Event,
    Exit,
    Join,
    Lost,
    Message,
    Print,
    Printf,
    Stats,
    System,
    Time,
)
from pybpf.api.session import LibrarySession
from pybpf.api.tracer import Tracer, run_for
from pybpf.api.values import map_dict, to_python
from pybpf.api.writer import EventWriter

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
