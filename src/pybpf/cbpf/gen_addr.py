"""Code generation for addresses, protocols and link types (libpcap's gen_host, gen_port,
gen_proto, gen_linktype and friends), for Ethernet and raw-IP link types."""

from __future__ import annotations

import ipaddress
import socket

from pybpf.cbpf import insn as I
from pybpf.cbpf import names as N
from pybpf.cbpf.ast import Id
from pybpf.cbpf.blocks import Block, Stmt, gen_and, gen_not, gen_or, new_block
from pybpf.cbpf.lexer import SYNTAX, FilterError

SYNTAX_GEN = "syntax error in filter expression"
_PORT_PROTOS = {"udp": N.IPPROTO_UDP, "tcp": N.IPPROTO_TCP, "sctp": N.IPPROTO_SCTP}
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


class AddrGen:
    """Compiler state (offsets, registers) and the address/protocol generators."""

    def __init__(self, linktype: int, snaplen: int, netmask: int, live: bool = False) -> None:
        self.linktype = linktype
        self.live = live
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

    # -- hosts ------------------------------------------------------------------------------
    def gen_hostop(self, addr: int, mask: int, dir_: str, proto: int, src: int, dst: int) -> Block:
        if dir_ in ("and", "or", "default"):
            b0 = self.gen_hostop(addr, mask, "src", proto, src, dst)
            b1 = self.gen_hostop(addr, mask, "dst", proto, src, dst)
            (gen_and if dir_ == "and" else gen_or)(b0, b1)
            return b1
        offset = src if dir_ == "src" else dst
        b0 = self.gen_linktype(proto)
        b1 = self.gen_mcmp("linkpl", offset, I.W, addr, mask)
        gen_and(b0, b1)
        return b1

    def gen_hostop6(self, addr: bytes, mask: bytes, dir_: str, src: int, dst: int) -> Block:
        if dir_ in ("and", "or", "default"):
            b0 = self.gen_hostop6(addr, mask, "src", src, dst)
            b1 = self.gen_hostop6(addr, mask, "dst", src, dst)
            (gen_and if dir_ == "and" else gen_or)(b0, b1)
            return b1
        off = src if dir_ == "src" else dst

        def word(buf: bytes, i: int) -> int:
            return int.from_bytes(buf[4 * i : 4 * i + 4], "big")

        b1 = self.gen_mcmp("linkpl", off + 12, I.W, word(addr, 3), word(mask, 3))
        for i in (2, 1, 0):
            b0 = self.gen_mcmp("linkpl", off + 4 * i, I.W, word(addr, i), word(mask, i))
            gen_and(b0, b1)
        b0 = self.gen_linktype(N.ETHERTYPE_IPV6)
        gen_and(b0, b1)
        return b1

    def gen_host(self, addr: int, mask: int, proto: str, dir_: str, typ: str) -> Block:
        typestr = "net" if typ == "net" else "host"
        if proto == "default":
            b0 = self.gen_host(addr, mask, "ip", dir_, typ)
            b1 = self.gen_host(addr, mask, "arp", dir_, typ)
            gen_or(b0, b1)
            b0 = self.gen_host(addr, mask, "rarp", dir_, typ)
            gen_or(b1, b0)
            return b0
        if proto == "link":
            raise FilterError(f"link-layer modifier applied to {typestr}")
        if proto == "ip":
            return self.gen_hostop(addr, mask, dir_, N.ETHERTYPE_IP, 12, 16)
        if proto == "rarp":
            return self.gen_hostop(addr, mask, dir_, N.ETHERTYPE_REVARP, 14, 24)
        if proto == "arp":
            return self.gen_hostop(addr, mask, dir_, N.ETHERTYPE_ARP, 14, 24)
        if proto == "ip6":
            raise FilterError("'ip6' modifier applied to ip host")
        if proto in ("atalk", "aarp", "decnet", "sca", "lat", "mopdl", "moprc", "iso", "ipx"):
            raise FilterError(f"{proto.upper()} host filtering not implemented")
        raise FilterError(f"'{proto}' modifier applied to {typestr}")

    def gen_host6(self, addr: bytes, mask: bytes, proto: str, dir_: str, typ: str) -> Block:
        typestr = "net" if typ == "net" else "host"
        if proto in ("default", "ip6"):
            return self.gen_hostop6(addr, mask, dir_, 8, 24)
        if proto == "link":
            raise FilterError(f"link-layer modifier applied to ip6 {typestr}")
        if proto in ("ip", "arp", "rarp", "decnet"):
            raise FilterError(f"'{proto}' modifier applied to ip6 {typestr}")
        raise FilterError(f"'{proto}' modifier applied to {typestr}")

    def gen_ehostop(self, eaddr: bytes, dir_: str) -> Block:
        if dir_ == "src":
            return self.gen_bcmp("link", 6, eaddr)
        if dir_ == "dst":
            return self.gen_bcmp("link", 0, eaddr)
        b0 = self.gen_ehostop(eaddr, "src")
        b1 = self.gen_ehostop(eaddr, "dst")
        (gen_and if dir_ == "and" else gen_or)(b0, b1)
        return b1

    # -- ports ------------------------------------------------------------------------------
    def gen_portop(self, port: int, proto: int, dir_: str, six: bool, rng: int = -1) -> Block:
        if six:
            b0 = self.gen_cmp("linkpl", 6, I.B, proto)
        else:
            tmp = self.gen_cmp("linkpl", 9, I.B, proto)
            b0 = self.gen_ipfrag()
            gen_and(tmp, b0)
        rel = "tran6" if six else "tran4"

        def atom(off: int) -> Block:
            if rng < 0:
                return self.gen_cmp(rel, off, I.H, port)
            lo, hi = min(port, rng), max(port, rng)
            b1 = self.gen_ncmp(rel, off, I.H, I.U32, I.JGE, False, lo)
            b2 = self.gen_ncmp(rel, off, I.H, I.U32, I.JGT, True, hi)
            gen_and(b1, b2)
            return b2

        if dir_ == "src":
            b1 = atom(0)
        elif dir_ == "dst":
            b1 = atom(2)
        else:
            tmp = atom(0)
            b1 = atom(2)
            (gen_and if dir_ == "and" else gen_or)(tmp, b1)
        gen_and(b0, b1)
        return b1

    def gen_port(self, port: int, ip_proto: int, dir_: str, six: bool, rng: int = -1) -> Block:
        b0 = self.gen_linktype(N.ETHERTYPE_IPV6 if six else N.ETHERTYPE_IP)
        if ip_proto == N.PROTO_UNDEF:
            tmp = self.gen_portop(port, N.IPPROTO_TCP, dir_, six, rng)
            b1 = self.gen_portop(port, N.IPPROTO_UDP, dir_, six, rng)
            gen_or(tmp, b1)
            tmp = self.gen_portop(port, N.IPPROTO_SCTP, dir_, six, rng)
            gen_or(tmp, b1)
        else:
            b1 = self.gen_portop(port, ip_proto, dir_, six, rng)
        gen_and(b0, b1)
        return b1

    def gen_ports(self, port: int, ip_proto: int, dir_: str, rng: int = -1) -> Block:
        b = self.gen_port(port, ip_proto, dir_, False, rng)
        gen_or(self.gen_port(port, ip_proto, dir_, True, rng), b)
        return b

    # -- values after qualifiers ----------------------------------------------------------
    def gen_id(self, node: Id) -> Block:
        addr = node.q[2]
        if addr == "undef" and node.kind != "eid":
            raise FilterError(SYNTAX_GEN, node.pos)
        if node.kind == "num":
            return self.gen_ncode(node.num, 32, node)
        if node.kind == "name":
            return self.gen_scode(node)
        if node.kind == "eid":
            return self.gen_ecode(node)
        if node.kind in ("hid6", "hid6len"):
            return self.gen_mcode6(node)
        if node.kind == "hid":
            if addr in ("port", "portrange", "proto", "protochain"):
                raise FilterError(f"'{addr}' modifier applied to ip host")
            v, vlen = N.atoin(node.text)
            return self.gen_ncode(v, vlen, node, dotted=True)
        return self.gen_mcode(node)

    def gen_ncode(self, v: int, vlen: int, node: Id, dotted: bool = False) -> Block:
        proto, dir_, addr = node.q
        if addr in ("default", "host", "net"):
            if proto == "link":
                raise FilterError("illegal link layer address")
            mask = I.U32
            if not dotted and addr == "net":
                while v and (v & 0xFF000000) == 0:
                    v = (v << 8) & I.U32
                    mask = (mask << 8) & I.U32
            else:
                v = (v << (32 - vlen)) & I.U32
                mask = (mask << (32 - vlen)) & I.U32
            return self.gen_host(v, mask, proto, dir_, addr)
        if addr in ("port", "portrange"):
            if proto in _PORT_PROTOS:
                ipp = _PORT_PROTOS[proto]
            elif proto == "default":
                ipp = N.PROTO_UNDEF
            else:
                raise FilterError(f"illegal qualifier of '{addr}'")
            if v > 65535:
                raise FilterError(f"illegal port number {v} > 65535")
            return self.gen_ports(v, ipp, dir_, v if addr == "portrange" else -1)
        if addr == "gateway":
            raise FilterError("'gateway' requires a name")
        if addr == "proto":
            return self.gen_proto(v, proto, dir_)
        raise FilterError("'protochain' is not supported by pybpf", node.pos)

    def gen_scode(self, node: Id) -> Block:
        proto, dir_, addr = node.q
        name = node.text
        if addr == "net":
            raise FilterError(f"unknown network '{name}'")
        if addr in ("default", "host"):
            if proto == "link":
                mac = N.parse_mac(name)
                if mac is None:
                    raise FilterError(f"unknown ether host '{name}'")
                return self.gen_ehostop(mac, dir_)
            return self.gen_named_host(name, proto, dir_, addr)
        if addr in ("port", "portrange"):
            return self.gen_named_port(name, proto, dir_, addr)
        if addr == "proto":
            v = self.lookup_proto(name, proto)
            return self.gen_proto(v, proto, dir_)
        if addr == "gateway":
            raise FilterError("'gateway' not supported in this configuration")
        raise FilterError("'protochain' is not supported by pybpf", node.pos)

    def gen_named_host(self, name: str, proto: str, dir_: str, addr: str) -> Block:
        try:
            infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise FilterError(f"unknown host '{name}'") from None
        tproto = tproto6 = proto
        if self.off_linktype is None and proto == "default":
            tproto, tproto6 = "ip", "ip6"
        b: Block | None = None
        for fam, _t, _p, _c, sa in infos:
            if fam == socket.AF_INET and tproto != "ip6":
                tmp = self.gen_host(N.atoin(str(sa[0]))[0], I.U32, tproto, dir_, addr)
            elif fam == socket.AF_INET6 and tproto6 != "ip":
                a6 = ipaddress.IPv6Address(str(sa[0])).packed
                tmp = self.gen_host6(a6, b"\xff" * 16, tproto6, dir_, addr)
            else:
                continue
            if b is not None:
                gen_or(b, tmp)
            b = tmp
        if b is None:
            extra = "" if proto == "default" else " for specified address family"
            raise FilterError(f"unknown host '{name}'{extra}")
        return b

    def gen_named_port(self, name: str, proto: str, dir_: str, addr: str) -> Block:
        if proto not in ("default", "udp", "tcp", "sctp"):
            raise FilterError(f"illegal qualifier of '{addr}'")
        what = "port" if addr == "port" else "port in range"
        if addr == "port":
            found = N.service_port(name)
            if found is None:
                raise FilterError(f"unknown port '{name}'")
            p1, real = found
            p2 = -1
        else:
            p1, p2, real = self.parse_range(name)
        if proto in _PORT_PROTOS:
            for other, num in _PORT_PROTOS.items():
                if other != proto and real == num:
                    raise FilterError(f"{what} '{name}' is {other}")
            real = _PORT_PROTOS[proto]
        return self.gen_ports(p1, real, dir_, p2)

    def parse_range(self, text: str) -> tuple[int, int, int]:
        lo, sep, hi = text.partition("-")
        if not sep:
            raise FilterError(f"unknown port in range '{text}'")
        ends: list[tuple[int, int]] = []
        for part in (lo, hi):
            if part.isdigit():
                v = int(part)
                if v > 65535:
                    raise FilterError(f"illegal port number {v} > 65535")
                ends.append((v, N.PROTO_UNDEF))
            else:
                found = N.service_port(part)
                if found is None:
                    raise FilterError(f"unknown port in range '{text}'")
                ends.append(found)
        real = ends[0][1] if ends[0][1] == ends[1][1] else N.PROTO_UNDEF
        return ends[0][0], ends[1][0], real

    def lookup_proto(self, name: str, proto: str) -> int:
        if proto in ("default", "ip", "ip6"):
            v = N.ip_proto(name)
            if v < 0:
                raise FilterError(f"unknown ip proto '{name}'")
            return v
        if proto == "link":
            v = N.ETHER_PROTOS.get(name, N.LLC_PROTOS.get(name, -1))
            if v < 0:
                raise FilterError(f"unknown ether proto '{name}'")
            return v
        raise FilterError(f"unknown protocol: {name}")

    def gen_mcode(self, node: Id) -> Block:
        n, nlen = N.atoin(node.text)
        n = (n << (32 - nlen)) & I.U32
        if node.kind == "hidmask":
            m, mlen = N.atoin(node.extra)
            m = (m << (32 - mlen)) & I.U32
            if n & ~m & I.U32:
                raise FilterError(f'non-network bits set in "{node.text} mask {node.extra}"')
        else:
            if node.num > 32:
                raise FilterError("mask length must be <= 32")
            m = 0 if node.num == 0 else (I.U32 << (32 - node.num)) & I.U32
            if n & ~m & I.U32:
                raise FilterError(f'non-network bits set in "{node.text}/{node.num}"')
        if node.q[2] != "net":
            raise FilterError("Mask syntax for networks only")
        return self.gen_host(n, m, node.q[0], node.q[1], node.q[2])

    def gen_mcode6(self, node: Id) -> Block:
        addr = ipaddress.IPv6Address(node.text).packed
        masklen = node.num if node.kind == "hid6len" else 128
        if masklen > 128:
            raise FilterError("mask length must be <= 128")
        mask = ((1 << 128) - (1 << (128 - masklen))).to_bytes(16, "big")
        if any(a & ~m & 0xFF for a, m in zip(addr, mask, strict=True)):
            raise FilterError(f'non-network bits set in "{node.text}/{masklen}"')
        addrq = node.q[2]
        if addrq in ("default", "host") and masklen != 128:
            raise FilterError("Mask syntax for networks only")
        if addrq not in ("default", "host", "net"):
            raise FilterError("invalid qualifier against IPv6 address")
        return self.gen_host6(addr, mask, node.q[0], node.q[1], addrq)

    def gen_ecode(self, node: Id) -> Block:
        proto, dir_, addr = node.q
        mac = N.parse_mac(node.text)
        if mac is None:
            raise FilterError(f"bogus ethernet address {node.text}")
        if addr in ("host", "default") and proto == "link":
            if self.linktype != N.DLT_EN10MB:
                raise FilterError(
                    "ethernet addresses supported only on ethernet/FDDI/token ring/802.11"
                    "/ATM LANE/Fibre Channel"
                )
            return self.gen_ehostop(mac, dir_)
        raise FilterError("ethernet address used in non-ether expression")

    # -- broadcast / multicast ------------------------------------------------------------
    def gen_broadcast(self, proto: str) -> Block:
        if proto in ("default", "link"):
            if self.linktype != N.DLT_EN10MB:
                raise FilterError("not a broadcast link")
            return self.gen_ehostop(b"\xff" * 6, "dst")
        if proto == "ip":
            if self.netmask == I.U32:
                raise FilterError("netmask not known, so 'ip broadcast' not supported")
            b0 = self.gen_linktype(N.ETHERTYPE_IP)
            hostmask = ~self.netmask & I.U32
            b1 = self.gen_mcmp("linkpl", 16, I.W, 0, hostmask)
            b2 = self.gen_mcmp("linkpl", 16, I.W, hostmask, hostmask)
            gen_or(b1, b2)
            gen_and(b0, b2)
            return b2
        raise FilterError("only link-layer/IP broadcast filters supported")

    def gen_multicast(self, proto: str) -> Block:
        if proto in ("default", "link"):
            if self.linktype != N.DLT_EN10MB:
                raise FilterError(
                    "link-layer multicast filters supported only on ethernet/FDDI/token ring"
                    "/ARCNET/802.11/ATM LANE/Fibre Channel"
                )
            s = self.gen_load_a("link", 0, I.B)
            return new_block(I.JMP | I.JSET | I.K, 1, s)
        if proto == "ip":
            b0 = self.gen_linktype(N.ETHERTYPE_IP)
            b1 = self.gen_ncmp("linkpl", 16, I.B, I.U32, I.JGE, False, 224)
            gen_and(b0, b1)
            return b1
        if proto == "ip6":
            b0 = self.gen_linktype(N.ETHERTYPE_IPV6)
            b1 = self.gen_cmp("linkpl", 24, I.B, 255)
            gen_and(b0, b1)
            return b1
        raise FilterError(
            "link-layer multicast filters supported only on ethernet/FDDI/token ring"
            "/ARCNET/802.11/ATM LANE/Fibre Channel"
        )


__all__ = ["SYNTAX", "SYNTAX_GEN", "AddrGen"]
