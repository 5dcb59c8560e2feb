"""Numbers behind names: link types, EtherTypes, IP protocols, services, MAC addresses."""

from __future__ import annotations

import socket

DLT_EN10MB = 1
DLT_RAW = 12
LINKTYPES = {"EN10MB": DLT_EN10MB, "RAW": DLT_RAW}
# pcap file link-type numbers (LINKTYPE_RAW is 101 in files, DLT_RAW 12 in memory).
LINKTYPE_FILE = {DLT_EN10MB: 1, DLT_RAW: 101}
FILE_LINKTYPE = {1: DLT_EN10MB, 101: DLT_RAW, 12: DLT_RAW, 14: DLT_RAW}

ETHERTYPE_IP = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_REVARP = 0x8035
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_8021Q = 0x8100
ETHERTYPE_8021AD = 0x88A8
ETHERTYPE_8021QINQ = 0x9100
ETHERTYPE_ATALK = 0x809B
ETHERTYPE_AARP = 0x80F3
ETHERTYPE_DN = 0x6003
ETHERTYPE_SCA = 0x6007
ETHERTYPE_LAT = 0x6004
ETHERTYPE_MOPDL = 0x6001
ETHERTYPE_MOPRC = 0x6002
ETHERMTU = 1500

LLCSAP_ISONS = 0xFE
LLCSAP_8021D = 0x42
LLCSAP_IPX = 0xE0
LLCSAP_NETBEUI = 0xF0

IPPROTO_ICMP = 1
IPPROTO_IGMP = 2
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_FRAGMENT = 44
IPPROTO_ICMPV6 = 58
IPPROTO_SCTP = 132
PROTO_UNDEF = -1

ETHER_PROTOS = {
    "aarp": ETHERTYPE_AARP,
    "arp": ETHERTYPE_ARP,
    "atalk": ETHERTYPE_ATALK,
    "decnet": ETHERTYPE_DN,
    "ip": ETHERTYPE_IP,
    "ip6": ETHERTYPE_IPV6,
    "lat": ETHERTYPE_LAT,
    "loopback": 0x9000,
    "mopdl": ETHERTYPE_MOPDL,
    "moprc": ETHERTYPE_MOPRC,
    "rarp": ETHERTYPE_REVARP,
    "sca": ETHERTYPE_SCA,
}
LLC_PROTOS = {
    "iso": LLCSAP_ISONS,
    "stp": LLCSAP_8021D,
    "ipx": LLCSAP_IPX,
    "netbeui": LLCSAP_NETBEUI,
}

# Fallback for hosts without /etc/protocols (the names libpcap users reach for).
_IP_PROTOS = {
    "ip": 0,
    "icmp": 1,
    "igmp": 2,
    "ipencap": 4,
    "tcp": 6,
    "egp": 8,
    "igp": 9,
    "pup": 12,
    "udp": 17,
    "ipv6": 41,
    "ipv6-route": 43,
    "ipv6-frag": 44,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "ipv6-icmp": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "ospf": 89,
    "pim": 103,
    "vrrp": 112,
    "l2tp": 115,
    "sctp": 132,
    "udplite": 136,
}


def dlt_description(dlt: int) -> str:
    """libpcap's description of a link type, as used in its error messages."""
    return {DLT_EN10MB: "Ethernet", DLT_RAW: "Raw IP"}.get(dlt, f"DLT {dlt}")


def ip_proto(name: str) -> int:
    """IP protocol number for ``name`` (getprotobyname, then a built-in table); -1 if unknown."""
    try:
        return socket.getprotobyname(name)
    except OSError:
        return _IP_PROTOS.get(name, PROTO_UNDEF)


def service_port(name: str) -> tuple[int, int] | None:
    """``(port, ip_proto)`` for a service name like libpcap's pcap_nametoport: PROTO_UNDEF
    when TCP and UDP agree, None when unknown."""
    ports: dict[str, int] = {}
    for proto in ("tcp", "udp"):
        try:
            ports[proto] = socket.getservbyname(name, proto)
        except OSError:
            pass
    if "tcp" in ports:
        if ports.get("udp") == ports["tcp"]:
            return ports["tcp"], PROTO_UNDEF
        return ports["tcp"], IPPROTO_TCP
    if "udp" in ports:
        return ports["udp"], IPPROTO_UDP
    return None


def parse_mac(text: str) -> bytes | None:
    """Six bytes from ``aa:bb:cc:dd:ee:ff``, ``aa-bb-..``, ``aa.bb...`` or ``aabb.ccdd.eeff``."""
    if text.count(".") == 2 and ":" not in text and "-" not in text:
        parts = text.split(".")
        if any(not 1 <= len(p) <= 4 for p in parts):
            return None
        try:
            return b"".join(int(p, 16).to_bytes(2, "big") for p in parts)
        except ValueError:
            return None
    for sep in ":-.":
        parts = text.split(sep)
        if len(parts) == 6:
            try:
                vals = [int(p, 16) for p in parts]
            except ValueError:
                return None
            if all(0 <= v <= 255 and 1 <= len(p) <= 2 for v, p in zip(vals, parts, strict=True)):
                return bytes(vals)
    return None


def atoin(text: str) -> tuple[int, int]:
    """libpcap's ``__pcap_atoin``: a dotted quad, possibly short; returns (value, bit length)."""
    value, length = 0, 0
    for part in text.split("."):
        n = int(part, 0) if part[:2].lower() == "0x" else int(part)
        value = (value << 8) | (n & 0xFF)
        length += 8
    return value & 0xFFFF_FFFF, length
