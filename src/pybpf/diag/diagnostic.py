"""Diagnostic records and the bag that collects them during a compile."""

from __future__ import annotations

import enum
from collections.abc import Iterator

from pybpf.diag.span import Span
from pybpf.records import dataclass, field


class Severity(enum.IntEnum):
    """How bad a diagnostic is; errors stop the compile after the pass that found them."""

    WARNING = 1
    ERROR = 2


@dataclass(slots=True)
class Diagnostic:
    """One message about a place in the script, with optional hints."""

    severity: Severity
    message: str
    span: Span | None
    hints: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"{self.span.location()}: " if self.span is not None else ""
        return f"{where}{self.severity.name}: {self.message}"


class DiagnosticBag:
    """Collects every diagnostic of a compile, in the order found."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, message: str, span: Span | None, *hints: str) -> Diagnostic:
        """Record an error and return it (callers may append hints later)."""
        d = Diagnostic(Severity.ERROR, message, span, list(hints))
        self.items.append(d)
        return d

    def warning(self, message: str, span: Span | None, *hints: str) -> Diagnostic:
        """Record a warning and return it."""
        d = Diagnostic(Severity.WARNING, message, span, list(hints))
        self.items.append(d)
        return d

    @property
    def errors(self) -> list[Diagnostic]:
        """The error-severity diagnostics."""
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """The warning-severity diagnostics."""
        return [d for d in self.items if d.severity is Severity.WARNING]

    def has_errors(self) -> bool:
        """True when at least one error was recorded."""
        return any(d.severity is Severity.ERROR for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
