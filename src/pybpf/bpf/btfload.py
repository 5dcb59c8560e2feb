"""Loading raw BTF into the kernel (``BPF_BTF_LOAD``), keeping the kernel's log on failure."""

from __future__ import annotations

import struct

from pybpf.bpf import syscall as sc
from pybpf.bpf.errs import kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import Cmd
from pybpf.errors import KernelError


class BtfLoadError(KernelError):
    """The kernel rejected a BTF blob; ``log`` is its explanation."""

    def __init__(self, message: str, log: str, errno: int) -> None:
        self.log = log
        super().__init__(message, errno)


def _attempt(raw: bytearray, log: bytearray | None) -> int:
    a = sc.attr_buffer()
    struct.pack_into(
        "<QQIII", a, 0, sc.address_of(raw), sc.address_of(log), len(raw),
        len(log) if log else 0, 1 if log else 0,
    )  # fmt: skip
    return sc.bpf(Cmd.BTF_LOAD, a)


def load_btf(data: bytes, log_size: int = 1 << 16) -> Fd:
    """Load raw BTF bytes (header, types, strings); returns the owned BTF fd.

    On rejection the load is repeated with a log so the error says what the kernel
    disliked (:class:`BtfLoadError` with ``.log``).
    """
    raw = bytearray(data)
    try:
        return Fd(_attempt(raw, None), "btf")
    except OSError as first:
        log = bytearray(log_size)
        try:
            fd = _attempt(raw, log)
        except OSError as e:
            text = log.split(b"\0", 1)[0].decode(errors="replace").strip()
            if not text:
                raise kernel_error("load BTF", e) from None
            last = text.splitlines()[-1]
            raise BtfLoadError(
                f"load BTF: kernel rejected it: {last}", text, e.errno or 0
            ) from None
        Fd(fd, "btf").close()  # succeeded on retry: a transient failure, report the first
        raise kernel_error("load BTF", first) from None


__all__ = ["BtfLoadError", "load_btf"]
