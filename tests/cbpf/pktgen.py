"""Packet builders and hypothesis strategies for the classic-BPF differential tests.

Structured packets (Ethernet, VLAN, IPv4, IPv6 with fragment headers, TCP, UDP, ICMP, ARP)
draw their fields from small pools biased toward the constants the test filters use, so
that both branches of most tests get exercised; random bytes and truncations cover the rest.
"""

from __future__ import annotations

import ipaddress
import random
import struct

from hypothesis import strategies as st

from pybpf.cbpf import insn as I

IPV4 = [
    "1.2.3.4",
    "5.6.7.8",
    "10.0.0.1",
    "192.168.1.255",
    "172.16.0.9",
    "8.8.8.8",
    "1.1.1.1",
    "9.9.9.9",
    "224.0.0.1",
    "255.255.255.255",
    "0.0.0.0",
    "192.168.0.1",
    "10.1.2.3",
]
IPV6 = ["fe80::1", "::1", "2001:db8::1", "ff02::1", "2001:db9::5"]
MACS = [
    "00:11:22:33:44:55",
    "ff:ff:ff:ff:ff:ff",
    "01:00:5e:00:00:01",
    "0a:0b:0c:0d:0e:0f",
    "66:77:88:99:aa:bb",
    "02:00:00:00:00:01",
]
PORTS = [
    80,
    443,
    53,
    22,
    25,
    8080,
    9,
    67,
    68,
    999,
    1000,
    1500,
    2000,
    2001,
    20,
    21,
    5000,
    5005,
    5010,
    6000,
    6010,
    1023,
    1024,
    0,
    65535,
]
ETHERTYPES = [
    0x0800,
    0x86DD,
    0x0806,
    0x8035,
    0x8100,
    0x88A8,
    0x9100,
    0x88CC,
    0x809B,
    0x80F3,
    0x6003,
    0x9000,
    100,
    0x0600,
]
PROTOS = [1, 2, 6, 17, 47, 50, 51, 58, 103, 112, 132, 9, 44]
VLANS = [1, 2, 5, 7, 10, 20, 100, 200, 4095, 0]


def mac(text: str) -> bytes:
    """Six bytes from colon notation."""
    return bytes(int(p, 16) for p in text.split(":"))


def ether(dst: bytes, src: bytes, etype: int, payload: bytes, vlans: tuple[int, ...] = ()) -> bytes:
    """An Ethernet II frame, optionally 802.1Q-tagged (outermost tag first)."""
    tags = b"".join(struct.pack("!HH", 0x8100, v & 0xFFF) for v in vlans)
    return dst + src + tags + struct.pack("!H", etype) + payload


def ipv4(
    src: str,
    dst: str,
    proto: int,
    payload: bytes,
    ihl: int = 5,
    frag: int = 0,
    ttl: int = 64,
    tos: int = 0,
) -> bytes:
    """An IPv4 header (options zero-filled to ``ihl``) and payload."""
    total = ihl * 4 + len(payload)
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | ihl,
        tos,
        total & 0xFFFF,
        1,
        frag,
        ttl,
        proto,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return hdr + b"\0" * (ihl * 4 - 20) + payload


def ipv6(src: str, dst: str, nxt: int, payload: bytes, frag_nxt: int | None = None) -> bytes:
    """An IPv6 header, with a fragment header first when ``frag_nxt`` is given."""
    if frag_nxt is not None:
        payload = struct.pack("!BBHI", frag_nxt, 0, 0, 7) + payload
        nxt = 44
    return (
        struct.pack(
            "!IHBB16s16s",
            0x6000_0000,
            len(payload),
            nxt,
            64,
            ipaddress.IPv6Address(src).packed,
            ipaddress.IPv6Address(dst).packed,
        )
        + payload
    )


def tcp(sport: int, dport: int, flags: int, data: bytes = b"") -> bytes:
    """A 20-byte TCP header and data."""
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 512, 0, 0) + data


def udp(sport: int, dport: int, data: bytes = b"") -> bytes:
    """A UDP header and data."""
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(typ: int, code: int, data: bytes = b"") -> bytes:
    """An ICMP header and data."""
    return struct.pack("!BBHI", typ, code, 0, 0) + data


def arp(op: int, sha: bytes, spa: str, tha: bytes, tpa: str) -> bytes:
    """An Ethernet/IPv4 ARP body."""
    return struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        0x0800,
        6,
        4,
        op,
        sha,
        ipaddress.IPv4Address(spa).packed,
        tha,
        ipaddress.IPv4Address(tpa).packed,
    )


@st.composite
def transport(draw: st.DrawFn, proto: int) -> bytes:
    """A transport payload for ``proto``."""
    data = draw(st.binary(max_size=12))
    if proto == 6:
        return tcp(
            draw(st.sampled_from(PORTS)),
            draw(st.sampled_from(PORTS)),
            draw(st.integers(0, 255)),
            b"GET " + data if draw(st.booleans()) else data,
        )
    if proto in (17, 132):
        return udp(draw(st.sampled_from(PORTS)), draw(st.sampled_from(PORTS)), data)
    if proto in (1, 58):
        return icmp(
            draw(st.sampled_from([0, 3, 5, 8, 11, 128, 129, 135])), draw(st.integers(0, 3)), data
        )
    return draw(st.binary(min_size=0, max_size=24))


@st.composite
def l3(draw: st.DrawFn, etype: int) -> bytes:
    """A network-layer packet for ``etype``."""
    if etype == 0x0800:
        proto = draw(st.sampled_from(PROTOS))
        frag = draw(st.sampled_from([0, 0, 0, 0x4000, 0x2000, 1, 0x1FFF]))
        return ipv4(
            draw(st.sampled_from(IPV4)),
            draw(st.sampled_from(IPV4)),
            proto,
            draw(transport(proto)),
            ihl=draw(st.sampled_from([5, 5, 5, 6, 15])),
            frag=frag,
            ttl=draw(st.sampled_from([1, 5, 64, 65, 255])),
            tos=draw(st.integers(0, 255)),
        )
    if etype == 0x86DD:
        nxt = draw(st.sampled_from(PROTOS))
        frag = draw(st.sampled_from([None, None, 6, 17, 58]))
        return ipv6(
            draw(st.sampled_from(IPV6)),
            draw(st.sampled_from(IPV6)),
            nxt,
            draw(transport(frag if frag is not None else nxt)),
            frag,
        )
    if etype in (0x0806, 0x8035):
        return arp(
            draw(st.integers(1, 4)),
            mac(draw(st.sampled_from(MACS))),
            draw(st.sampled_from(IPV4)),
            mac(draw(st.sampled_from(MACS))),
            draw(st.sampled_from(IPV4)),
        )
    return draw(st.binary(max_size=40))


@st.composite
def ether_packets(draw: st.DrawFn) -> bytes:
    """Structured Ethernet frames, sometimes truncated, sometimes plain random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=80))
    etype = draw(st.sampled_from(ETHERTYPES))
    vlans = tuple(draw(st.lists(st.sampled_from(VLANS), max_size=2)))
    pkt = ether(
        mac(draw(st.sampled_from(MACS))),
        mac(draw(st.sampled_from(MACS))),
        etype,
        draw(l3(etype)),
        vlans,
    )
    if draw(st.integers(0, 7)) == 0:
        pkt = pkt[: draw(st.integers(0, len(pkt)))]
    return pkt


@st.composite
def raw_packets(draw: st.DrawFn) -> bytes:
    """Raw IP packets (link type RAW)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=60))
    return draw(l3(draw(st.sampled_from([0x0800, 0x86DD, 0x0800]))))


def _rand_transport(rng: random.Random, proto: int) -> bytes:
    data = rng.randbytes(rng.randint(0, 12))
    if proto == 6:
        return tcp(rng.choice(PORTS), rng.choice(PORTS), rng.randint(0, 255), data)
    if proto in (17, 132):
        return udp(rng.choice(PORTS), rng.choice(PORTS), data)
    if proto in (1, 58):
        return icmp(rng.choice([0, 3, 5, 8, 11, 128, 129]), rng.randint(0, 3), data)
    return rng.randbytes(rng.randint(0, 24))


def _rand_l3(rng: random.Random, etype: int) -> bytes:
    if etype == 0x0800:
        proto = rng.choice(PROTOS)
        return ipv4(
            rng.choice(IPV4),
            rng.choice(IPV4),
            proto,
            _rand_transport(rng, proto),
            ihl=rng.choice([5, 5, 5, 6, 15]),
            frag=rng.choice([0, 0, 0x4000, 0x2000, 1]),
            ttl=rng.choice([1, 5, 64, 255]),
            tos=rng.randint(0, 255),
        )
    if etype == 0x86DD:
        nxt = rng.choice(PROTOS)
        frag = rng.choice([None, None, 6, 17, 58])
        return ipv6(
            rng.choice(IPV6),
            rng.choice(IPV6),
            nxt,
            _rand_transport(rng, frag if frag is not None else nxt),
            frag,
        )
    if etype in (0x0806, 0x8035):
        return arp(
            rng.randint(1, 4),
            mac(rng.choice(MACS)),
            rng.choice(IPV4),
            mac(rng.choice(MACS)),
            rng.choice(IPV4),
        )
    return rng.randbytes(rng.randint(0, 40))


def corpus(n: int, seed: int, raw: bool = False) -> list[bytes]:
    """A deterministic list of ``n`` varied packets (Ethernet, or raw IP when ``raw``)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for _ in range(n):
        if rng.randint(0, 9) == 0:
            out.append(rng.randbytes(rng.randint(0, 80)))
            continue
        if raw:
            out.append(_rand_l3(rng, rng.choice([0x0800, 0x86DD])))
            continue
        etype = rng.choice(ETHERTYPES)
        vlans = tuple(rng.choice(VLANS) for _ in range(rng.choice([0, 0, 1, 2])))
        pkt = ether(
            mac(rng.choice(MACS)), mac(rng.choice(MACS)), etype, _rand_l3(rng, etype), vlans
        )
        if rng.randint(0, 7) == 0:
            pkt = pkt[: rng.randint(0, len(pkt))]
        out.append(pkt)
    return out


def bias(pkt: bytes, prog: list[I.CInsn], rng: random.Random) -> bytes:
    """``pkt`` with some of the values ``prog`` compares against written where it loads them.

    A ``ld [k]`` (or ``ld [x + k]`` with a 20-byte IPv4 header in X) followed by a
    ``jeq``/``jset``/``jge``/``jgt`` #v gets v stored at that offset, so random packets
    reach deep into the filter instead of failing its first test.
    """
    buf = bytearray(pkt)
    for i, a in enumerate(prog[:-1]):
        if I.bpf_class(a.code) != I.LD or I.bpf_mode(a.code) not in (I.ABS, I.IND):
            continue
        b = prog[i + 1]
        if b.code == I.ALU | I.AND | I.K and i + 2 < len(prog):
            b = prog[i + 2]  # ``ld; and #m; jeq #v``: v already has only m's bits
        if I.bpf_class(b.code) != I.JMP or I.bpf_src(b.code) != I.K or rng.random() < 0.3:
            continue
        size = {I.W: 4, I.H: 2, I.B: 1}[I.bpf_size(a.code)]
        off = a.k + (20 if I.bpf_mode(a.code) == I.IND else 0)
        if off + size > 1500:
            continue
        if len(buf) < off + size:
            buf.extend(rng.randbytes(off + size - len(buf) + rng.randint(0, 20)))
        val = b.k + (rng.randint(0, 1) if I.bpf_op(b.code) in (I.JGT, I.JGE) else 0)
        buf[off : off + size] = (val & ((1 << (8 * size)) - 1)).to_bytes(size, "big")
    return bytes(buf)
