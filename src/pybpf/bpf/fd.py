"""Owned file descriptors: every kernel object pybpf holds is one :class:`Fd`.

An ``Fd`` closes exactly once: on :meth:`Fd.close`, at the end of a ``with`` block, or -- as
a backstop only -- when it is garbage collected (``__del__``). Deterministic close is the
contract; the backstop merely keeps a forgotten object from leaking for the life of the
process. (Not ``weakref.finalize``: its first use registers an exit handler, and the
``pybpftrace`` command skips the interpreter's teardown only when none is registered.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType


class Fd:
    """One owned file descriptor."""

    __slots__ = ("__weakref__", "_fd", "kind")

    def __init__(self, fd: int, kind: str = "fd") -> None:
        if fd < 0:
            raise ValueError(f"invalid file descriptor {fd}")
        self._fd = fd
        self.kind = kind

    @property
    def closed(self) -> bool:
        """True once the descriptor has been closed (or released)."""
        return self._fd < 0

    @property
    def fd(self) -> int:
        """The raw descriptor number; raises ``ValueError`` once closed."""
        if self._fd < 0:
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
        self._fd = -1
        return fd

    def close(self) -> None:
        """Close the descriptor; closing twice is harmless."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self, _close: Callable[[int], None] = os.close) -> None:
        # The backstop. os.close is bound at definition: at interpreter shutdown module
        # globals may already be gone.
        fd = getattr(self, "_fd", -1)  # __init__ may have raised before setting it
        if fd >= 0:
            self._fd = -1
            try:
                _close(fd)
            except OSError:
                pass

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
