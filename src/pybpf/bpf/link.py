"""Links: ``BPF_LINK_CREATE``, raw tracepoint open, link update/detach, iterators.

A :class:`Link` owns the fd that keeps a program attached, plus any helper fds the
attachment needs (a perf event, say). Closing it detaches; the kernel also detaches when
the process dies, however it dies -- which is why pybpf prefers links.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from types import TracebackType

from pybpf.bpf import syscall as sc
from pybpf.bpf.errs import kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import AttachType, Cmd

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pybpf.bpf.info import LinkInfo


class Link:
    """One live attachment. ``close()`` detaches; also a context manager."""

    def __init__(self, fd: Fd | None, label: str = "", extra: Sequence[Fd] = ()) -> None:
        self._fd = fd
        self.label = label
        """How messages name this attachment (e.g. ``tracepoint:syscalls:sys_enter_read``)."""
        self._extra = list(extra)

    @property
    def fd(self) -> int:
        """The link fd (or the perf event fd for an ioctl-attached perf event)."""
        if self._fd is not None:
            return self._fd.fd
        return self._extra[0].fd

    @property
    def is_bpf_link(self) -> bool:
        """True when a kernel BPF link object owns the attachment."""
        return self._fd is not None

    @property
    def closed(self) -> bool:
        """True once detached."""
        fds = ([self._fd] if self._fd else []) + self._extra
        return all(f.closed for f in fds)

    def info(self) -> LinkInfo:
        """``bpf_link_info`` (only for BPF links)."""
        if self._fd is None:
            raise ValueError(f"{self.label}: attached by ioctl, no BPF link to describe")
        from pybpf.bpf.info import link_info  # lazy: attaching never needs it

        return link_info(self._fd.fd)

    @property
    def id(self) -> int:
        """The kernel's link id (0 when attached without a BPF link)."""
        return self.info().id if self._fd is not None else 0

    def update(self, prog_fd: int, old_prog_fd: int = 0) -> None:
        """Swap the program behind this link (``BPF_LINK_UPDATE``)."""
        a = sc.attr_buffer()
        flags = 1 << 2 if old_prog_fd else 0  # BPF_F_REPLACE: only if old_prog_fd matches
        struct.pack_into("<IIII", a, 0, self.fd, prog_fd, flags, old_prog_fd)
        try:
            sc.bpf(Cmd.LINK_UPDATE, a)
        except OSError as e:
            raise kernel_error(f"update link {self.label}", e) from None

    def detach(self) -> None:
        """Force-detach (``BPF_LINK_DETACH``) while keeping the fd; ``close()`` still needed."""
        a = sc.attr_buffer()
        struct.pack_into("<I", a, 0, self.fd)
        try:
            sc.bpf(Cmd.LINK_DETACH, a)
        except OSError as e:
            raise kernel_error(f"detach link {self.label}", e) from None

    def close(self) -> None:
        """Detach: close the link fd first, then the helper fds it referenced."""
        if self._fd is not None:
            self._fd.close()
        for f in self._extra:
            f.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Link {self.label} {'closed' if self.closed else 'attached'}>"


def link_create(
    prog_fd: int,
    target_fd: int,
    attach_type: AttachType,
    *,
    flags: int = 0,
    tail: bytes = b"",
    context: str = "",
    feature: str | None = None,
) -> Fd:
    """``BPF_LINK_CREATE``; ``tail`` is the packed type-specific union at offset 16."""
    a = sc.attr_buffer()
    struct.pack_into("<IIII", a, 0, prog_fd, target_fd, attach_type, flags)
    a[16 : 16 + len(tail)] = tail
    try:
        return Fd(sc.bpf(Cmd.LINK_CREATE, a), "bpf-link")
    except OSError as e:
        raise kernel_error(
            context or f"create {attach_type.name.lower()} link", e, feature
        ) from None


def raw_tracepoint_open(name: str | None, prog_fd: int, cookie: int = 0) -> Fd:
    """``BPF_RAW_TRACEPOINT_OPEN`` (``name=None`` for tp_btf programs, whose BTF names it)."""
    buf = bytearray(name.encode() + b"\0") if name else None
    a = sc.attr_buffer()
    struct.pack_into("<QI4xQ", a, 0, sc.address_of(buf), prog_fd, cookie)
    try:
        return Fd(sc.bpf(Cmd.RAW_TRACEPOINT_OPEN, a), "bpf-link")
    except OSError as e:
        what = f"raw tracepoint {name}" if name else "tp_btf tracepoint"
        raise kernel_error(f"attach {what}", e, feature=None) from None


def iter_create(link_fd: int) -> Fd:
    """``BPF_ITER_CREATE``: a readable fd producing the iterator program's output."""
    a = sc.attr_buffer()
    struct.pack_into("<II", a, 0, link_fd, 0)
    try:
        return Fd(sc.bpf(Cmd.ITER_CREATE, a), "bpf-iter")
    except OSError as e:
        raise kernel_error("create iterator", e) from None


def read_all(fd: Fd, chunk: int = 1 << 16) -> bytes:
    """Read an iterator fd to EOF."""
    parts: list[bytes] = []
    while True:
        try:
            data = os.read(fd.fd, chunk)
        except OSError as e:
            raise kernel_error("read iterator", e) from None
        if not data:
            return b"".join(parts)
        parts.append(data)


__all__ = ["Link", "iter_create", "link_create", "raw_tracepoint_open", "read_all"]
