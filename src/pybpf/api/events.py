"""Tracer events (frozen dataclasses) and the ``stats()`` value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
