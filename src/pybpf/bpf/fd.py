"""Owned file descriptors: every kernel object pybpf holds is one :class:`Fd`.

An ``Fd`` closes exactly once: on :meth:`Fd.close`, at the end of a ``with`` block, or -- as
a backstop only -- when it is garbage collected (``weakref.finalize``). Deterministic close
is the contract; the finalizer merely keeps a forgotten object from leaking for the life of
the process.
"""

from __future__ import annotations

import os
import weakref
from types import TracebackType


class Fd:
    """One owned file descriptor."""

    __slots__ = ("__weakref__", "_fd", "_finalizer", "kind")

    def __init__(self, fd: int, kind: str = "fd") -> None:
        if fd < 0:
            raise ValueError(f"invalid file descriptor {fd}")
        self._fd = fd
        self.kind = kind
        self._finalizer = weakref.finalize(self, os.close, fd)

    @property
    def closed(self) -> bool:
        """True once the descriptor has been closed (or released)."""
        return not self._finalizer.alive

    @property
    def fd(self) -> int:
        """The raw descriptor number; raises ``ValueError`` once closed."""
        if self.closed:
            raise ValueError(f"{self.kind} fd is closed")
        return self._fd

    def fileno(self) -> int:
        """The raw descriptor, so an ``Fd`` can go into ``select``/``epoll`` directly."""
        return self.fd

    def __int__(self) -> int:
        return self.fd

    def dup(self) -> Fd:
        """A second, independently owned descriptor for the same kernel object."""
        # os.dup returns a non-inheritable (close-on-exec) descriptor, like the original.
        return Fd(os.dup(self.fd), self.kind)

    def release(self) -> int:
        """Give up ownership: return the raw fd, which the caller must now close."""
        fd = self.fd
        self._finalizer.detach()
        return fd

    def close(self) -> None:
        """Close the descriptor; closing twice is harmless."""
        if self._finalizer.alive:
            self._finalizer()

    def __enter__(self) -> Fd:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else str(self._fd)
        return f"<Fd {self.kind} {state}>"


__all__ = ["Fd"]
