"""SO_ATTACH_FILTER: put a classic BPF program on a socket (the ``struct sock_fprog``
pointer plumbing is the one thing here that needs ctypes)."""

from __future__ import annotations

import ctypes
import socket
import struct

from pybpf.errors import KernelError, errno_message

SO_ATTACH_FILTER = 26
SO_DETACH_FILTER = 27
SO_LOCK_FILTER = 44


def attach_filter(sock: socket.socket, program: bytes) -> None:
    """Attach the ``struct sock_filter`` array ``program`` (8 bytes per instruction)."""
    if len(program) % 8 or not program:
        raise KernelError("attach socket filter: program must be a non-empty array of insns")
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(buf))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as e:
        raise KernelError(
            f"attach socket filter: {errno_message(e.errno or 0)}", e.errno or 0
        ) from None
    finally:
        del buf


def detach_filter(sock: socket.socket) -> None:
    """Remove the socket's filter."""
    sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
