"""Code generation for link types and protocols (libpcap's gen_linktype, gen_proto,
gen_proto_abbrev and the load/compare helpers they share), for Ethernet and raw IP.

:class:`LinkGen` also holds the compiler state (offsets that ``vlan`` moves, scratch
registers); :class:`pybpf.cbpf.gen_addr.AddrGen` builds hosts, networks and ports on it.
"""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.cbpf import names as N
from pybpf.cbpf.blocks import Block, Stmt, gen_and, gen_not, gen_or, new_block
from pybpf.cbpf.lexer import FilterError

_ABBREV_IP = {"icmp": 1, "igmp": 2, "igrp": 9, "vrrp": 112, "carp": 112}
_ABBREV_BOTH = {"sctp": 132, "tcp": 6, "udp": 17, "pim": 103, "ah": 51, "esp": 50}
_ABBREV_LINK = {
    "ip": N.ETHERTYPE_IP,
    "arp": N.ETHERTYPE_ARP,
    "rarp": N.ETHERTYPE_REVARP,
    "atalk": N.ETHERTYPE_ATALK,
    "aarp": N.ETHERTYPE_AARP,
    "decnet": N.ETHERTYPE_DN,
    "sca": N.ETHERTYPE_SCA,
    "lat": N.ETHERTYPE_LAT,
    "mopdl": N.ETHERTYPE_MOPDL,
    "moprc": N.ETHERTYPE_MOPRC,
    "ip6": N.ETHERTYPE_IPV6,
    "iso": N.LLCSAP_ISONS,
    "stp": N.LLCSAP_8021D,
    "ipx": N.LLCSAP_IPX,
    "netbeui": N.LLCSAP_NETBEUI,
}


class LinkGen:
    """Compiler state (offsets, registers), loads and comparisons, link types, protocols."""

    def __init__(self, linktype: int, snaplen: int, netmask: int, live: bool = False) -> None:
        self.linktype = linktype
        self.live = live
        self.savefile = False
        self.snaplen = snaplen
        self.netmask = netmask
        self.regused = [False] * I.MEMWORDS
        self.curreg = 0
        self.vlan_depth = 0
        self.off_nl = 0
        if linktype == N.DLT_EN10MB:
            self.off_linktype: int | None = 12
            self.off_linkpl = 14
            self.off_nl_nosnap = 3
        elif linktype == N.DLT_RAW:
            self.off_linktype = None
            self.off_linkpl = 0
            self.off_nl_nosnap = 0
        else:
            raise FilterError(f"unknown data link type {linktype}")

    # -- loads and comparisons ------------------------------------------------------------
    def gen_load_a(self, offrel: str, offset: int, size: int) -> list[Stmt]:
        """Statements loading A from ``offset`` relative to the header ``offrel``."""
        if offrel == "link":
            return [Stmt(I.LD | I.ABS | size, offset)]
        if offrel == "llc":
            return [Stmt(I.LD | I.ABS | size, self.off_linkpl + offset)]
        if offrel == "linkpl":
            return [Stmt(I.LD | I.ABS | size, self.off_linkpl + self.off_nl + offset)]
        if offrel == "tran4":
            k = self.off_linkpl + self.off_nl + offset
            return [self.loadx_iphdrlen(), Stmt(I.LD | I.IND | size, k)]
        # "tran6"
        return [Stmt(I.LD | I.ABS | size, self.off_linkpl + self.off_nl + 40 + offset)]

    def loadx_iphdrlen(self) -> Stmt:
        return Stmt(I.LDX | I.MSH | I.B, self.off_linkpl + self.off_nl)

    def gen_ncmp(
        self, offrel: str, offset: int, size: int, mask: int, jtype: int, rev: bool, v: int
    ) -> Block:
        s = self.gen_load_a(offrel, offset, size)
        if mask != I.U32:
            s.append(Stmt(I.ALU | I.AND | I.K, mask))
        b = new_block(I.JMP | jtype | I.K, v, s)
        if rev and jtype in (I.JGT, I.JGE):
            gen_not(b)
        return b

    def gen_cmp(self, offrel: str, offset: int, size: int, v: int) -> Block:
        return self.gen_ncmp(offrel, offset, size, I.U32, I.JEQ, False, v)

    def gen_mcmp(self, offrel: str, offset: int, size: int, v: int, mask: int) -> Block:
        return self.gen_ncmp(offrel, offset, size, mask & I.U32, I.JEQ, False, v)

    def gen_bcmp(self, offrel: str, offset: int, data: bytes) -> Block:
        b: Block | None = None
        size = len(data)
        while size >= 4:
            w = int.from_bytes(data[size - 4 : size], "big")
            tmp = self.gen_cmp(offrel, offset + size - 4, I.W, w)
            if b is not None:
                gen_and(b, tmp)
            b = tmp
            size -= 4
        while size >= 2:
            w = int.from_bytes(data[size - 2 : size], "big")
            tmp = self.gen_cmp(offrel, offset + size - 2, I.H, w)
            if b is not None:
                gen_and(b, tmp)
            b = tmp
            size -= 2
        if size > 0:
            tmp = self.gen_cmp(offrel, offset, I.B, data[0])
            if b is not None:
                gen_and(b, tmp)
            b = tmp
        assert b is not None
        return b

    def gen_uncond(self, rsense: bool) -> Block:
        return new_block(I.JMP | I.JEQ, 0, [Stmt(I.LD | I.IMM, 0 if rsense else 1)])

    # -- link types -----------------------------------------------------------------------
    def gen_linktype(self, proto: int) -> Block:
        if self.linktype == N.DLT_RAW:
            if proto == N.ETHERTYPE_IP:
                return self.gen_mcmp("link", 0, I.B, 0x40, 0xF0)
            if proto == N.ETHERTYPE_IPV6:
                return self.gen_mcmp("link", 0, I.B, 0x60, 0xF0)
            return self.gen_uncond(False)
        return self.gen_ether_linktype(proto)

    def gen_ether_linktype(self, proto: int) -> Block:
        olt = self.off_linktype
        assert olt is not None
        if proto in (N.LLCSAP_ISONS, 0x06, N.LLCSAP_NETBEUI):
            b0 = self.gen_ncmp("link", olt, I.H, I.U32, I.JGT, False, N.ETHERMTU)
            gen_not(b0)
            b1 = self.gen_cmp("llc", 0, I.H, (proto << 8) | proto)
            gen_and(b0, b1)
            return b1
        if proto == N.LLCSAP_IPX:
            b0 = self.gen_cmp("llc", 0, I.B, N.LLCSAP_IPX)
            b1 = self.gen_cmp("llc", 0, I.H, 0xFFFF)
            gen_or(b0, b1)
            b0 = self.gen_snap(0x000000, 0x8137)
            gen_or(b0, b1)
            b0 = self.gen_ncmp("link", olt, I.H, I.U32, I.JGT, False, N.ETHERMTU)
            gen_not(b0)
            gen_and(b0, b1)
            b0 = self.gen_cmp("link", olt, I.H, 0x8137)
            gen_or(b0, b1)
            return b1
        if proto in (N.ETHERTYPE_ATALK, N.ETHERTYPE_AARP):
            b0 = self.gen_ncmp("link", olt, I.H, I.U32, I.JGT, False, N.ETHERMTU)
            gen_not(b0)
            if proto == N.ETHERTYPE_ATALK:
                b1 = self.gen_snap(0x080007, N.ETHERTYPE_ATALK)
            else:
                b1 = self.gen_snap(0x000000, N.ETHERTYPE_AARP)
            gen_and(b0, b1)
            b0 = self.gen_cmp("link", olt, I.H, proto)
            gen_or(b0, b1)
            return b1
        if proto <= N.ETHERMTU:
            b0 = self.gen_ncmp("link", olt, I.H, I.U32, I.JGT, False, N.ETHERMTU)
            gen_not(b0)
            b1 = self.gen_cmp("link", olt + 2, I.B, proto)
            gen_and(b0, b1)
            return b1
        return self.gen_cmp("link", olt, I.H, proto)

    def gen_snap(self, orgcode: int, ptype: int) -> Block:
        block = bytes([0xAA, 0xAA, 0x03]) + orgcode.to_bytes(3, "big") + ptype.to_bytes(2, "big")
        return self.gen_bcmp("llc", 0, block)

    # -- protocols --------------------------------------------------------------------------
    def gen_ipfrag(self) -> Block:
        s = self.gen_load_a("linkpl", 6, I.H)
        b = new_block(I.JMP | I.JSET | I.K, 0x1FFF, s)
        gen_not(b)
        return b

    def gen_proto_abbrev(self, proto: str) -> Block:
        if proto in _ABBREV_BOTH:
            return self.gen_proto(_ABBREV_BOTH[proto], "default", "default")
        if proto in _ABBREV_IP:
            return self.gen_proto(_ABBREV_IP[proto], "ip", "default")
        if proto == "icmp6":
            return self.gen_proto(N.IPPROTO_ICMPV6, "ip6", "default")
        if proto == "link":
            raise FilterError("link layer applied in wrong context")
        return self.gen_linktype(_ABBREV_LINK[proto])

    def gen_proto(self, v: int, proto: str, dir_: str) -> Block:
        if dir_ != "default":
            raise FilterError("direction applied to 'proto'")
        if proto == "default":
            b0 = self.gen_proto(v, "ip", dir_)
            b1 = self.gen_proto(v, "ip6", dir_)
            gen_or(b0, b1)
            return b1
        if proto == "ip":
            b0 = self.gen_linktype(N.ETHERTYPE_IP)
            b1 = self.gen_cmp("linkpl", 9, I.B, v)
            gen_and(b0, b1)
            return b1
        if proto == "ip6":
            b0 = self.gen_linktype(N.ETHERTYPE_IPV6)
            b2 = self.gen_cmp("linkpl", 6, I.B, N.IPPROTO_FRAGMENT)
            b1 = self.gen_cmp("linkpl", 40, I.B, v)
            gen_and(b2, b1)
            b2 = self.gen_cmp("linkpl", 6, I.B, v)
            gen_or(b2, b1)
            gen_and(b0, b1)
            return b1
        if proto == "link":
            return self.gen_linktype(v)
        if proto in ("arp", "rarp", "sca", "lat", "moprc", "mopdl"):
            raise FilterError(f"{proto} does not encapsulate another protocol")
        if proto in ("atalk", "decnet"):
            raise FilterError(f"{proto} encapsulation is not specifiable")
        raise FilterError(f"'{proto} proto' is bogus")
