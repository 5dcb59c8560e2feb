"""Code generation: the parsed expression -> libpcap-shaped blocks (see :mod:`blocks`).

Each ``gen_*`` routine builds the same blocks, in the same order and with the same scratch
registers, as the libpcap routine of that name does for Ethernet (EN10MB) and raw-IP (RAW)
captures, so the unoptimised program is libpcap's instruction for instruction.
"""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.cbpf import names
from pybpf.cbpf.ast import ALen, ALoad, ANeg, ANum, Arth, Bin, Id, Node, Not, Other, Rel
from pybpf.cbpf.blocks import Block, Stmt, gen_and, gen_not, gen_or, new_block
from pybpf.cbpf.gen_addr import AddrGen
from pybpf.cbpf.lexer import FilterError


class Arith:
    """An arithmetic value being computed: its statements, the register holding it, and
    the protocol checks (``b``) that must pass before it may be computed."""

    def __init__(self, stmts: list[Stmt], regno: int, b: Block | None = None) -> None:
        self.s = stmts
        self.regno = regno
        self.b = b


_ALU = {
    "+": I.ADD,
    "-": I.SUB,
    "*": I.MUL,
    "/": I.DIV,
    "%": I.MOD,
    "&": I.AND,
    "|": I.OR,
    "^": I.XOR,
    "<<": I.LSH,
    ">>": I.RSH,
}
_JMPS = {"jgt": I.JGT, "jge": I.JGE, "jeq": I.JEQ}
PACKET_OUTGOING = 4
_NET_PROTOS = frozenset("ip arp rarp atalk decnet sca lat moprc mopdl ip6".split())
_TRAN_PROTOS = frozenset("sctp tcp udp icmp igmp igrp pim vrrp carp".split())


class CodeGen(AddrGen):
    """Walks the AST in yacc's reduction order (post-order, left to right)."""

    def gen(self, node: Node) -> Block:
        """Blocks for ``node``; an error without a place gets the node's."""
        try:
            return self._gen(node)
        except FilterError as e:
            if e.pos < 0:
                e.pos = getattr(node, "pos", -1)
            raise

    def _gen(self, node: Node) -> Block:
        if isinstance(node, Bin):
            b0 = self.gen(node.left)
            b1 = self.gen(node.right)
            (gen_and if node.op == "and" else gen_or)(b0, b1)
            return b1
        if isinstance(node, Not):
            b = self.gen(node.child)
            gen_not(b)
            return b
        if isinstance(node, Id):
            return self.gen_id(node)
        if isinstance(node, Rel):
            return self.gen_relation(node)
        if isinstance(node, Other):
            return self.gen_other(node)
        return self.gen_proto_abbrev(node.proto)

    def gen_other(self, node: Other) -> Block:
        if node.kind == "less":
            b = self.gen_len(I.JGT, node.num)
            gen_not(b)
            return b
        if node.kind == "greater":
            return self.gen_len(I.JGE, node.num)
        if node.kind == "byte":
            return self.gen_byteop(node.op, node.num, node.num2)
        if node.kind == "vlan":
            return self.gen_vlan(node.num)
        if node.kind == "broadcast":
            return self.gen_broadcast(node.proto)
        if node.kind in ("inbound", "outbound"):
            return self.gen_inbound(node.kind == "outbound")
        return self.gen_multicast(node.proto)

    def gen_len(self, jmp: int, n: int) -> Block:
        return new_block(I.JMP | jmp, n, [Stmt(I.LD | I.W | I.LEN)])

    def gen_byteop(self, op: str, idx: int, val: int) -> Block:
        if op == "=":
            return self.gen_cmp("link", idx, I.B, val)
        if op == "<":
            return self.gen_ncmp("link", idx, I.B, I.U32, I.JGE, True, val)
        if op == ">":
            return self.gen_ncmp("link", idx, I.B, I.U32, I.JGT, False, val)
        # libpcap 1.10's gen_byteop emits the and/or without loading the byte first (so
        # it tests A, which is 0 at entry); reproduced for identical listings.
        s = [Stmt(I.ALU | (I.OR if op == "|" else I.AND) | I.K, val)]
        b = new_block(I.JMP | I.JEQ, 0, s)
        gen_not(b)
        return b

    def gen_vlan(self, num: int) -> Block:
        if self.linktype != names.DLT_EN10MB:
            raise FilterError(f"no VLAN support for {names.dlt_description(self.linktype)}")
        if num > 4095:
            raise FilterError(f"VLAN tag {num} greater than maximum 4095")
        if self.live and self.vlan_depth == 0:
            return self.gen_vlan_metadata(num)
        b0 = self.gen_linktype(names.ETHERTYPE_8021Q)
        b1 = self.gen_linktype(names.ETHERTYPE_8021AD)
        gen_or(b0, b1)
        b0 = b1
        b1 = self.gen_linktype(names.ETHERTYPE_8021QINQ)
        gen_or(b0, b1)
        b0 = b1
        if num >= 0:
            b1 = self.gen_mcmp("linkpl", 0, I.H, num, 0x0FFF)
            gen_and(b0, b1)
            b0 = b1
        self.off_linkpl += 4
        assert self.off_linktype is not None
        self.off_linktype += 4
        self.vlan_depth += 1
        return b0

    def gen_inbound(self, outbound: bool) -> Block:
        """Direction from Linux's packet type (ancillary ``type``); not in capture files."""
        if self.savefile or self.linktype == names.DLT_RAW:
            raise FilterError(
                "inbound/outbound not supported on "
                f"{names.dlt_description(self.linktype)} when reading savefiles"
            )
        k = (I.SKF_AD_OFF + I.SKF_AD_PKTTYPE) & I.U32
        b = self.gen_cmp("link", k, I.H, PACKET_OUTGOING)
        if not outbound:
            gen_not(b)
        return b

    def gen_vlan_metadata(self, num: int) -> Block:
        """The outermost tag of a live capture: Linux moves it out of the packet data into
        metadata, which the filter reads with ancillary loads (offsets do not move)."""
        ad = I.SKF_AD_OFF & I.U32
        s = [Stmt(I.LD | I.B | I.ABS, ad + I.SKF_AD_VLAN_TAG_PRESENT)]
        b0 = new_block(I.JMP | I.JEQ | I.K, 1, s)
        if num >= 0:
            s = [Stmt(I.LD | I.B | I.ABS, ad + I.SKF_AD_VLAN_TAG), Stmt(I.ALU | I.AND | I.K, 0xFFF)]
            b1 = new_block(I.JMP | I.JEQ | I.K, num, s)
            gen_and(b0, b1)
            b0 = b1
        self.vlan_depth += 1
        return b0

    # -- arithmetic -----------------------------------------------------------------------
    def alloc_reg(self) -> int:
        for _ in range(I.MEMWORDS):
            if self.regused[self.curreg]:
                self.curreg = (self.curreg + 1) % I.MEMWORDS
            else:
                self.regused[self.curreg] = True
                return self.curreg
        raise FilterError("too many registers needed to evaluate expression")

    def free_reg(self, n: int) -> None:
        self.regused[n] = False

    def gen_arth(self, a: Arth) -> Arith:
        if isinstance(a, ANum):
            reg = self.alloc_reg()
            return Arith([Stmt(I.LD | I.IMM, a.value), Stmt(I.ST, reg)], reg)
        if isinstance(a, ALen):
            reg = self.alloc_reg()
            return Arith([Stmt(I.LD | I.W | I.LEN), Stmt(I.ST, reg)], reg)
        if isinstance(a, ANeg):
            x = self.gen_arth(a.child)
            x.s += [Stmt(I.LD | I.MEM, x.regno), Stmt(I.ALU | I.NEG), Stmt(I.ST, x.regno)]
            return x
        if isinstance(a, ALoad):
            try:
                return self.gen_load(a.proto, self.gen_arth(a.index), a.size)
            except FilterError as e:
                if e.pos < 0:
                    e.pos = a.pos
                raise
        a0 = self.gen_arth(a.left)
        a1 = self.gen_arth(a.right)
        code = _ALU[a.op]
        first = a1.s[0]
        if first.code == I.LD | I.IMM:
            if code == I.DIV and first.k == 0:
                raise FilterError("division by zero")
            if code == I.MOD and first.k == 0:
                raise FilterError("modulus by zero")
            if code in (I.LSH, I.RSH) and first.k > 31:
                raise FilterError("shift by more than 31 bits")
        a0.s += a1.s
        a0.s += [Stmt(I.LDX | I.MEM, a1.regno), Stmt(I.LD | I.MEM, a0.regno)]
        a0.s.append(Stmt(I.ALU | I.X | code))
        self.free_reg(a0.regno)
        self.free_reg(a1.regno)
        a0.regno = self.alloc_reg()
        a0.s.append(Stmt(I.ST, a0.regno))
        # libpcap 1.10 keeps only the left operand's protocol checks here (its gen_arth
        # drops a1->b); reproduced so that listings stay identical.
        return a0

    def gen_load(self, proto: str, inst: Arith, size: int) -> Arith:
        regno = self.alloc_reg()
        self.free_reg(inst.regno)
        sizes = {1: I.B, 2: I.H, 4: I.W}
        if size not in sizes:
            raise FilterError("data size must be 1, 2, or 4")
        sz = sizes[size]
        if proto == "link":
            inst.s += [Stmt(I.LDX | I.MEM, inst.regno), Stmt(I.LD | I.IND | sz, 0)]
        elif proto in _NET_PROTOS:
            k = self.off_linkpl + self.off_nl
            inst.s += [Stmt(I.LDX | I.MEM, inst.regno), Stmt(I.LD | I.IND | sz, k)]
            b = self.gen_proto_abbrev(proto)
            if inst.b is not None:
                gen_and(inst.b, b)
            inst.b = b
        elif proto in _TRAN_PROTOS:
            k = self.off_linkpl + self.off_nl
            inst.s += [
                self.loadx_iphdrlen(),
                Stmt(I.LD | I.MEM, inst.regno),
                Stmt(I.ALU | I.ADD | I.X),
                Stmt(I.MISC | I.TAX),
                Stmt(I.LD | I.IND | sz, k),
            ]
            b = self.gen_ipfrag()
            gen_and(self.gen_proto_abbrev(proto), b)
            if inst.b is not None:
                gen_and(inst.b, b)
            gen_and(self.gen_proto_abbrev("ip"), b)
            inst.b = b
        elif proto == "icmp6":
            b = self.gen_proto_abbrev("ip6")
            if inst.b is not None:
                gen_and(inst.b, b)
            b2 = self.gen_cmp("linkpl", 6, I.B, 58)
            gen_and(b, b2)
            inst.b = b2
            k = self.off_linkpl + self.off_nl + 40
            inst.s += [Stmt(I.LDX | I.MEM, inst.regno), Stmt(I.LD | I.IND | sz, k)]
        else:
            raise FilterError("unsupported index operation")
        inst.regno = regno
        inst.s.append(Stmt(I.ST, regno))
        return inst

    def gen_relation(self, rel: Rel) -> Block:
        a0 = self.gen_arth(rel.left)
        a1 = self.gen_arth(rel.right)
        code = _JMPS[rel.code]
        tail = [Stmt(I.LDX | I.MEM, a1.regno), Stmt(I.LD | I.MEM, a0.regno)]
        if code == I.JEQ:
            tail.append(Stmt(I.ALU | I.SUB | I.X))
            b = new_block(I.JMP | code | I.K)
        else:
            b = new_block(I.JMP | code | I.X)
        if rel.reversed:
            gen_not(b)
        b.stmts = a0.s + a1.s + tail
        self.free_reg(a0.regno)
        self.free_reg(a1.regno)
        tmp: Block | None
        if a0.b is not None:
            if a1.b is not None:
                gen_and(a0.b, a1.b)
                tmp = a1.b
            else:
                tmp = a0.b
        else:
            tmp = a1.b
        if tmp is not None:
            gen_and(tmp, b)
        return b
