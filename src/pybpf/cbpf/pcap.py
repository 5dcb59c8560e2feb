"""Classic pcap capture files: read (either byte order, micro- or nanosecond) and write."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from pybpf.errors import UsageError
from pybpf.records import dataclass

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


@dataclass(frozen=True)
class Record:
    """One captured packet: timestamp (seconds, float), captured bytes, length on the wire."""

    ts: float
    data: bytes
    wirelen: int


class PcapWriter:
    """Writes a microsecond pcap file; owns nothing but the stream it is given."""

    def __init__(self, stream: BinaryIO, linktype: int, snaplen: int = 262144) -> None:
        self.stream = stream
        stream.write(struct.pack("<IHHiIII", MAGIC_US, 2, 4, 0, 0, snaplen, linktype))
        stream.flush()

    def write(self, rec: Record) -> None:
        """Append one record (and flush, so that a reader sees whole packets)."""
        sec = int(rec.ts)
        usec = min(round((rec.ts - sec) * 1e6), 999_999)
        hdr = struct.pack("<IIII", sec, usec, len(rec.data), rec.wirelen)
        self.stream.write(hdr + rec.data)
        self.stream.flush()


def read_pcap(stream: BinaryIO, name: str = "file") -> tuple[int, int, Iterator[Record]]:
    """``(linktype, snaplen, records)`` of a pcap file; raises UsageError if it is not one."""
    head = stream.read(24)
    if len(head) < 24:
        raise UsageError(f"{name}: not a pcap file (too short)")
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", head[:4])[0]
        if magic in (MAGIC_US, MAGIC_NS):
            break
    else:
        raise UsageError(f"{name}: unknown file format")
    scale = 1e-6 if magic == MAGIC_US else 1e-9
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", head[4:])

    def records() -> Iterator[Record]:
        while True:
            h = stream.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", h)
            data = stream.read(caplen)
            if len(data) < caplen:
                return
            yield Record(sec + frac * scale, data, wirelen)

    return linktype & 0x0FFF_FFFF, snaplen, records()
