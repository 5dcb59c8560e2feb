"""Source files and spans (positions of tokens and nodes in a script)."""

from __future__ import annotations

import bisect

from pybpf.records import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of a source file.

    ``line``/``col`` are 1-based; ``end_col`` is exclusive (bpftrace prints ``1:9-14`` for a
    five-character token starting at column 9).  ``start``/``end`` are character offsets into
    the file text, also half-open.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    start: int = 0
    end: int = 0

    def to(self, other: Span) -> Span:
        """The span from the start of ``self`` to the end of ``other``."""
        return Span(
            self.file, self.line, self.col, other.end_line, other.end_col, self.start, other.end
        )

    def location(self) -> str:
        """``file:line:col-endcol`` as bpftrace prints it (multi-line: ``l:c-l2:c2``)."""
        if self.end_line != self.line:
            return f"{self.file}:{self.line}:{self.col}-{self.end_line}:{self.end_col}"
        return f"{self.file}:{self.line}:{self.col}-{self.end_col}"

    def __str__(self) -> str:
        return self.location()


#: A span for nodes synthesised by passes (no place in the source).
NO_SPAN = Span("<builtin>", 0, 0, 0, 0)


@dataclass(slots=True)
class SourceFile:
    """A script's text with a line index, for building spans and rendering diagnostics."""

    name: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._line_starts = starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) of a character offset."""
        idx = bisect.bisect_right(self._line_starts, offset) - 1
        return idx + 1, offset - self._line_starts[idx] + 1

    def span(self, start: int, end: int) -> Span:
        """The span of characters ``[start, end)``."""
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(end) if end > start else (line, col + 1)
        return Span(self.name, line, col, end_line, end_col, start, end)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line without its newline ('' when out of range)."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]
