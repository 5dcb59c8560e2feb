"""Live capture: an AF_PACKET socket with the compiled filter attached in the kernel.

The socket is opened with protocol 0 (it receives nothing), the filter is attached, and
only then is it bound to ETH_P_ALL, so no unfiltered packet is ever queued. On loopback
every packet passes twice (out and back in); like libpcap we keep only the incoming copy.

Linux hands packet sockets frames whose outermost VLAN tag has been moved to metadata;
filters for live capture are therefore compiled with ``live=True`` (the tag is tested with
ancillary loads), and, like libpcap, the tag is put back into the captured bytes from the
PACKET_AUXDATA control message so that files and summaries show it.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Iterator, Sequence

from pybpf.bpf.sockfilter import attach_filter
from pybpf.cbpf import insn as I
from pybpf.cbpf.pcap import Record
from pybpf.errors import KernelError, PrivilegeError, UsageError, errno_message

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
ARPHRD_LOOPBACK = 772
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
_AUX = struct.Struct("=IIIHHHH")


def _reinsert_vlan(data: bytes, anc: list[tuple[int, int, bytes]]) -> bytes:
    """Put the VLAN tag the kernel moved to metadata back after the MAC addresses."""
    for level, kind, payload in anc:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(payload) < _AUX.size:
            continue
        status, _, _, _, _, tci, tpid = _AUX.unpack_from(payload)
        if status & TP_STATUS_VLAN_VALID and len(data) >= 12:
            tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
            return data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


class Capture:
    """A filtered packet socket on one interface (or all, when ``iface`` is empty)."""

    def __init__(self, iface: str, program: Sequence[I.CInsn], snaplen: int = 262144) -> None:
        self.iface = iface
        self.snaplen = snaplen
        # One interface: bind after attaching (nothing unfiltered is ever queued). All
        # interfaces cannot be bound by name, so the socket listens from the start and what
        # arrived before the filter is drained, as libpcap does.
        proto = 0 if iface else socket.htons(ETH_P_ALL)
        try:
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, proto)
        except PermissionError:
            raise PrivilegeError("open packet socket: permission denied (run as root)") from None
        try:
            attach_filter(self.sock, I.encode(program))
            self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            if iface:
                self.sock.bind((iface, ETH_P_ALL))
            else:
                self._drain()
        except OSError as e:
            self.sock.close()
            what = f"interface '{iface}'" if iface else "packet socket"
            raise UsageError(f"bind {what}: {errno_message(e.errno or 0)}") from None
        except KernelError:
            self.sock.close()
            raise

    def _drain(self) -> None:
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(65536)
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)

    def packets(self, stop_at: float | None = None) -> Iterator[Record]:
        """Yield captured packets until ``stop_at`` (a ``time.monotonic()`` deadline)."""
        while True:
            timeout = None if stop_at is None else max(stop_at - time.monotonic(), 0.0)
            if stop_at is not None and timeout == 0.0:
                return
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                continue
            data, anc, _flags, addr = self.sock.recvmsg(self.snaplen + 4, 64)
            if addr[2] == PACKET_OUTGOING and addr[3] == ARPHRD_LOOPBACK:
                continue
            data = _reinsert_vlan(data, anc)
            yield Record(time.time(), data[: self.snaplen], len(data))

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
