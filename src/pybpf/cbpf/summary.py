"""One line per packet, in the shape of tcpdump's default output (absolute sequence numbers,
as with ``-S``) for Ethernet or raw-IP frames carrying IPv4/IPv6 TCP, UDP, ICMP and ARP."""

from __future__ import annotations

import ipaddress
import struct
import time

from pybpf.cbpf import names

_TCP_FLAGS = [(0x02, "S"), (0x01, "F"), (0x08, "P"), (0x04, "R"), (0x20, "U"), (0x40, "E"),
              (0x80, "W"), (0x10, ".")]  # fmt: skip
_ICMP = {0: "echo reply", 8: "echo request", 3: "unreachable", 11: "time exceeded"}
_ICMP6 = {128: "echo request", 129: "echo reply", 135: "neighbor solicitation",
          136: "neighbor advertisement", 133: "router solicitation"}  # fmt: skip


def timestamp(ts: float) -> str:
    """``HH:MM:SS.ffffff`` in local time, as tcpdump prints it."""
    return time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int((ts % 1) * 1e6):06d}"


def summarize(pkt: bytes, linktype: int = names.DLT_EN10MB) -> str:
    """The text after the timestamp for one packet."""
    try:
        if linktype == names.DLT_RAW:
            if pkt and pkt[0] >> 4 == 6:
                return _ip6(pkt)
            return _ip4(pkt)
        return _ether(pkt)
    except (struct.error, IndexError, ValueError):
        return f"[|truncated], length {len(pkt)}"


def _ether(pkt: bytes) -> str:
    etype = struct.unpack_from("!H", pkt, 12)[0]
    off, prefix = 14, ""
    # tcpdump shows VLAN tags only with -e; without it the line starts at the payload.
    while etype in (0x8100, 0x88A8) and len(pkt) >= off + 4:
        etype = struct.unpack_from("!H", pkt, off + 2)[0]
        off += 4
    body = pkt[off:]
    if etype == names.ETHERTYPE_IP:
        return prefix + _ip4(body)
    if etype == names.ETHERTYPE_IPV6:
        return prefix + _ip6(body)
    if etype in (names.ETHERTYPE_ARP, names.ETHERTYPE_REVARP):
        return prefix + _arp(body, etype)
    return prefix + f"ethertype Unknown (0x{etype:04x}), length {len(pkt)}"


def _ip4(p: bytes) -> str:
    ihl = (p[0] & 0xF) * 4
    total = struct.unpack_from("!H", p, 2)[0]
    proto = p[9]
    src, dst = str(ipaddress.IPv4Address(p[12:16])), str(ipaddress.IPv4Address(p[16:20]))
    return "IP " + _l4(proto, p[ihl:], src, dst, total - ihl, False)


def _ip6(p: bytes) -> str:
    plen, nxt = struct.unpack_from("!HB", p, 4)
    src, dst = str(ipaddress.IPv6Address(p[8:24])), str(ipaddress.IPv6Address(p[24:40]))
    return "IP6 " + _l4(nxt, p[40:], src, dst, plen, True)


def _l4(proto: int, p: bytes, src: str, dst: str, length: int, six: bool) -> str:
    if proto == 6:
        sport, dport, seq, ack, hl, flags, win = struct.unpack_from("!HHIIBBH", p)
        data = max(length - (hl >> 4) * 4, 0)
        fl = "".join(c for bit, c in _TCP_FLAGS if flags & bit) or "none"
        seqs = f"seq {seq}:{(seq + data) & 0xFFFFFFFF}" if data else f"seq {seq}"
        parts = [f"Flags [{fl}]"]
        if data or flags & 0x07:
            parts.append(seqs)
        if flags & 0x10:
            parts.append(f"ack {ack}")
        parts += [f"win {win}", f"length {data}"]
        return f"{src}.{sport} > {dst}.{dport}: " + ", ".join(parts)
    if proto == 17:
        sport, dport, ulen = struct.unpack_from("!HHH", p)
        return f"{src}.{sport} > {dst}.{dport}: UDP, length {max(ulen - 8, 0)}"
    if proto in (1, 58):
        typ = p[0]
        table = _ICMP6 if six else _ICMP
        what = table.get(typ, f"type {typ}")
        if typ in (0, 8, 128, 129):
            ident, seq = struct.unpack_from("!HH", p, 4)
            what += f", id {ident}, seq {seq}"
        label = "ICMP6, " if six else "ICMP "
        return f"{src} > {dst}: {label}{what}, length {length}"
    return f"{src} > {dst}: ip-proto-{proto} {length}"


def _arp(p: bytes, etype: int) -> str:
    op = struct.unpack_from("!H", p, 6)[0]
    sha, spa = p[8:14], str(ipaddress.IPv4Address(p[14:18]))
    tpa = str(ipaddress.IPv4Address(p[24:28]))
    kind = "ARP" if etype == names.ETHERTYPE_ARP else "RARP"
    if op == 1:
        return f"{kind}, Request who-has {tpa} tell {spa}, length {len(p)}"
    if op == 2:
        mac = ":".join(f"{b:02x}" for b in sha)
        return f"{kind}, Reply {spa} is-at {mac}, length {len(p)}"
    return f"{kind}, op {op}, length {len(p)}"
