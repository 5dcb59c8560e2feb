"""Code generation for addresses: hosts, networks, ports, MAC addresses, broadcast and
multicast (libpcap's gen_host, gen_port, gen_scode/ncode/mcode/ecode and friends)."""

from __future__ import annotations

import ipaddress
import socket

from pybpf.cbpf import insn as I
from pybpf.cbpf import names as N
from pybpf.cbpf.ast import Id
from pybpf.cbpf.blocks import Block, gen_and, gen_or, new_block
from pybpf.cbpf.gen_link import LinkGen
from pybpf.cbpf.lexer import SYNTAX, FilterError

SYNTAX_GEN = "syntax error in filter expression"
_PORT_PROTOS = {"udp": N.IPPROTO_UDP, "tcp": N.IPPROTO_TCP, "sctp": N.IPPROTO_SCTP}


class AddrGen(LinkGen):
    """Hosts, networks, ports and the qualifier-driven dispatch of a value."""

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
        if proto == "atalk":
            raise FilterError("AppleTalk host filtering not implemented")
        if proto == "decnet":
            raise FilterError("DECnet hosts are not supported by pybpf")
        if proto in ("aarp", "sca", "lat", "mopdl", "moprc", "iso", "ipx"):
            raise FilterError(f"{proto.upper()} host filtering not implemented")
        raise FilterError(f"'{proto}' modifier applied to {typestr}")

    def gen_host6(self, addr: bytes, mask: bytes, proto: str, dir_: str, typ: str) -> Block:
        typestr = "net" if typ == "net" else "host"
        if proto in ("default", "ip6"):
            return self.gen_hostop6(addr, mask, dir_, 8, 24)
        if proto == "link":
            raise FilterError(f"link-layer modifier applied to ip6 {typestr}")
        if proto == "atalk":
            raise FilterError(f"AppleTalk modifier applied to ip6 {typestr}")
        raise FilterError(f"'{proto}' modifier applied to ip6 {typestr}")

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
        if addr == "undef" and node.kind in ("num", "name", "hid"):
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
