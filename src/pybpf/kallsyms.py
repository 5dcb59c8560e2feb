"""Kernel symbols from /proc/kallsyms: address -> (name, offset), name -> address, globs.

Loading is split so that each question pays only for what it needs: the file is read and
split into columns once (the kernel generating the text is most of the cost); the integer
address table and its sort are built on the first :meth:`Kallsyms.lookup`, the name index on
the first :meth:`Kallsyms.address`. Addresses are only visible to root (kptr_restrict): when
they read as zeros, address questions raise ``PrivilegeError``.
"""

from __future__ import annotations

import bisect
import fnmatch
import operator
import re
from itertools import repeat

from pybpf.errors import KernelError, PrivilegeError, PybpfError

KALLSYMS = "/proc/kallsyms"
_MODULE_RE = re.compile(rb"\t\[([^\]\n]*)\]")


class KallsymNotFoundError(PybpfError, KeyError):
    """No kernel symbol of that name."""

    __str__ = Exception.__str__


class Kallsyms:
    """A parsed kallsyms table. Columns stay bytes (decoding 100k+ names costs more than
    splitting them); ``names`` decodes the whole column on first use."""

    def __init__(self, data: bytes, source: str = KALLSYMS) -> None:
        self.source = source
        self.modules: dict[str, str] = {}
        if b"\t[" in data:
            # Module symbols carry "\t[module]": note them, then drop the column so every
            # line has exactly three fields and the table can be sliced by stride.
            for m in _MODULE_RE.finditer(data):
                start = data.rfind(b"\n", 0, m.start()) + 1
                name = data[start : m.start()].split()[-1].decode("utf-8", "replace")
                self.modules[name] = m.group(1).decode("utf-8", "replace")
            data = _MODULE_RE.sub(b"", data)
        tokens = data.split()
        if len(tokens) % 3:
            raise KernelError(f"{source}: unexpected format (not 'address type name' lines)")
        self._hex = tokens[0::3]
        self._types = tokens[1::3]
        self._names = tokens[2::3]
        self._names_str: list[str] | None = None
        self._addrs: list[int] | None = None
        self._order: list[int] | None = None
        self._by_name: dict[bytes, int] | None = None

    @property
    def names(self) -> list[str]:
        """Every symbol name, in file order."""
        if self._names_str is None:
            self._names_str = [n.decode("utf-8", "replace") for n in self._names]
        return self._names_str

    def symbol_type(self, i: int) -> str:
        """The kallsyms type letter of symbol ``i`` (``T``/``t`` text, ``D``/``d`` data...)."""
        return self._types[i].decode()

    def __len__(self) -> int:
        """Number of symbols."""
        return len(self._names)

    @property
    def addresses_visible(self) -> bool:
        """False when the kernel hides addresses from us (they all read as zero)."""
        return any(h.strip(b"0") for h in self._hex[:64])

    def _need_addresses(self) -> None:
        if not self.addresses_visible:
            raise PrivilegeError(f"{self.source}: kernel addresses are hidden (run as root)")

    def _table(self) -> tuple[list[int], list[int]]:
        """(sorted addresses, symbol index of each), built once."""
        if self._addrs is None or self._order is None:
            self._need_addresses()
            ints = list(map(int, self._hex, repeat(16)))
            if all(map(operator.le, ints, ints[1:])):
                self._order = list(range(len(ints)))
                self._addrs = ints
            else:
                # Stable sort keeps file order among aliases (same address).
                self._order = sorted(range(len(ints)), key=ints.__getitem__)
                self._addrs = [ints[i] for i in self._order]
        return self._addrs, self._order

    def address(self, name: str) -> int:
        """The address of symbol ``name`` (the first one, if several share the name)."""
        if self._by_name is None:
            # Reversed so that the first occurrence in file order wins.
            n = len(self._names)
            self._by_name = dict(zip(reversed(self._names), range(n - 1, -1, -1), strict=True))
        i = self._by_name.get(name.encode())
        if i is None:
            raise KallsymNotFoundError(f"no kernel symbol '{name}'")
        self._need_addresses()
        return int(self._hex[i], 16)

    def lookup(self, addr: int) -> tuple[str, int] | None:
        """(name, offset) of the symbol at or below ``addr``; None below the first symbol."""
        addrs, order = self._table()
        i = bisect.bisect_right(addrs, addr) - 1
        if i < 0:
            return None
        first = bisect.bisect_left(addrs, addrs[i])  # the first alias at that address
        sym = order[first]
        return self._names[sym].decode("utf-8", "replace"), addr - addrs[i]

    def match(self, pattern: str, types: str | None = None) -> list[str]:
        """Unique symbol names matching the shell glob ``pattern``, sorted.

        ``types`` restricts to kallsyms type letters, e.g. ``"tT"`` for functions.
        """
        rx = re.compile(fnmatch.translate(pattern).encode())
        if types is None:
            found = {n for n in self._names if rx.match(n)}
        else:
            want = {t.encode() for t in types}
            found = {
                n
                for n, t in zip(self._names, self._types, strict=True)
                if t in want and rx.match(n)
            }
        return sorted(n.decode("utf-8", "replace") for n in found)

    def module(self, name: str) -> str | None:
        """The module defining ``name``, or None for the core kernel."""
        return self.modules.get(name)


def parse(text: str | bytes, source: str = "<text>") -> Kallsyms:
    """Parse kallsyms-format text."""
    return Kallsyms(text.encode() if isinstance(text, str) else text, source)


def read(path: str = KALLSYMS) -> Kallsyms:
    """Read and parse a kallsyms file."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise KernelError(f"read {path}: {e.strerror}", e.errno or 0) from None
    return Kallsyms(text, path)


_table: Kallsyms | None = None


def kallsyms(reload: bool = False) -> Kallsyms:
    """The running kernel's symbols, read once per process (``reload`` re-reads them)."""
    global _table
    if _table is None or reload:
        _table = read()
    return _table


def lookup(addr: int) -> tuple[str, int] | None:
    """(name, offset) of kernel address ``addr``."""
    return kallsyms().lookup(addr)


def address(name: str) -> int:
    """Address of kernel symbol ``name``."""
    return kallsyms().address(name)


def match(pattern: str, types: str | None = None) -> list[str]:
    """Kernel symbol names matching a glob."""
    return kallsyms().match(pattern, types)


__all__ = [
    "KALLSYMS",
    "KallsymNotFoundError",
    "Kallsyms",
    "address",
    "kallsyms",
    "lookup",
    "match",
    "parse",
    "read",
]
