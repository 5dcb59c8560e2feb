"""Recursive-descent parser for pcap-filter expressions, shaped after libpcap's grammar.y.

``and``/``or`` share one precedence level and associate left; ``not`` binds tighter. A value
without qualifiers borrows those of what precedes it (``port 80 or 443``).
"""

from __future__ import annotations

from typing import TypeVar

from pybpf.cbpf.ast import (
    QDEFAULT,
    QERR,
    Abbrev,
    ABin,
    ALen,
    ALoad,
    ANeg,
    ANum,
    Arth,
    Bin,
    Id,
    Node,
    Not,
    Other,
    Qual,
    Rel,
)
from pybpf.cbpf.lexer import SYNTAX, FilterError, Token, tokenize

PNAMES = frozenset(
    "link ip arp rarp sctp tcp udp icmp igmp igrp pim vrrp carp ip6 icmp6 ah esp atalk aarp "
    "decnet lat sca moprc mopdl iso stp ipx netbeui".split()
)
_DIRS = frozenset(("src", "dst"))
_AQUALS = frozenset(("host", "net", "port", "portrange", "proto", "protochain", "gateway"))
_RELOPS = {">": ("jgt", False), ">=": ("jge", False), "=": ("jeq", False)}
_IRELOPS = {"<=": ("jgt", True), "<": ("jge", True), "!=": ("jeq", True)}
_N = TypeVar("_N", bound=Node | Arth)
_NOPREC = frozenset(("%", "^"))
_BINPREC = {"|": 1, "^": 0, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}
_ID_KINDS = frozenset(("HID", "HID6", "EID", "ID"))


class ParseFailure(FilterError):
    """A syntax error, with the primitives finished before it (in the order yacc would have
    reduced them, and so generated their code -- which may fail first)."""

    def __init__(self, err: FilterError, completed: list[Node | Arth]) -> None:
        super().__init__(err.message, err.pos, err.expr)
        self.completed = completed


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = tokenize(expr)
        self.i = 0
        self.completed: list[Node | Arth] = []

    def done(self, node: _N) -> _N:
        """Record a finished primitive (see :class:`ParseFailure`)."""
        self.completed.append(node)
        return node

    # -- token helpers --------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def fail(self, tok: Token | None = None) -> FilterError:
        t = tok if tok is not None else self.peek()
        return FilterError(SYNTAX, t.pos if t else len(self.expr), self.expr)

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise self.fail()
        self.i += 1
        return t

    def is_op(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "OP" and t.text == text

    def is_kw(self, *names: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "KW" and t.text in names

    def expect_op(self, text: str) -> Token:
        if not self.is_op(text):
            raise self.fail()
        return self.next()

    def is_not(self) -> bool:
        return self.is_op("!") or self.is_kw("!")

    # -- expressions ----------------------------------------------------------------------
    def parse(self) -> Node | None:
        if not self.toks:
            return None
        try:
            node, _ = self.expr_(QERR, first_id=False)
            if self.peek() is not None:
                raise self.fail()
        except FilterError as e:
            raise ParseFailure(e, self.completed) from None
        return node

    def expr_(self, q: Qual, first_id: bool) -> tuple[Node, Qual]:
        # "( value and ... )" is grammar.y's pid: once it starts with a bare value, every
        # operand inside must be a value too ("(1.2.3.4 and tcp)" is a syntax error).
        pid = first_id and self.starts_id_or_not_id()
        node, q = self.term(q, first_id)
        while self.is_kw("and", "or"):
            op = self.next().text
            if pid:
                right: Node = self.id_(q)
            else:
                right, q = self.term(q, True)
            node = Bin(op, node, right)
        return node, q

    def starts_id_or_not_id(self) -> bool:
        j = 0
        while self.is_op("!", k=j) or self.is_kw("!", k=j):
            j += 1
        save, self.i = self.i, self.i + j
        try:
            return self.starts_id()
        finally:
            self.i = save

    def term(self, q: Qual, allow_id: bool) -> tuple[Node, Qual]:
        if self.is_not():
            self.next()
            child, q2 = self.term(q, allow_id)
            return Not(child), q2
        if allow_id and self.starts_id():
            mark = len(self.completed)
            node = self.id_(q)
            if isinstance(node, Id) and node.kind == "num" and not self.at_follower():
                # A number here could also begin arithmetic, so yacc decides (and
                # generates) only on a token that may follow a value.
                del self.completed[mark:]
            return node, q
        return self.rterm(q, allow_id)

    def at_follower(self) -> bool:
        return self.peek() is None or self.is_kw("and", "or") or self.is_op(")")

    def starts_id(self) -> bool:
        t = self.peek()
        if t is None:
            return False
        if t.kind in _ID_KINDS:
            return True
        if t.kind == "NUM":
            nxt = self.peek(1)
            return not (nxt is not None and nxt.kind == "OP" and nxt.text not in ("(", ")"))
        return False

    def rterm(self, q: Qual, allow_id: bool = False) -> tuple[Node, Qual]:
        t = self.peek()
        if t is None:
            raise self.fail()
        if t.kind == "OP" and t.text == "(":
            save, nsave = self.i, len(self.completed)
            try:
                return self.relation(), QERR
            except FilterError:
                self.i = save
                del self.completed[nsave:]
            self.next()
            # "( value ...)" is only a value list where a value may stand (grammar.y's
            # "paren pid"); at the start of an expression it is a syntax error.
            node, _ = self.expr_(q, first_id=allow_id)
            self.expect_op(")")
            return node, q
        if t.kind == "KW" and t.text in PNAMES:
            nxt = self.peek(1)
            if nxt is not None and nxt.kind == "OP" and nxt.text == "[":
                return self.relation(), QERR
            if nxt is not None and nxt.kind == "KW" and nxt.text in _DIRS | _AQUALS:
                return self.head_id()
            if nxt is not None and nxt.kind == "KW" and nxt.text in ("broadcast", "multicast"):
                self.next()
                kind = self.next().text
                return self.done(Other(kind, proto=t.text, pos=t.pos)), QERR
            self.next()
            node = Abbrev(t.text, t.pos)
            # yacc reduces a bare protocol name only when what follows can follow a term;
            # otherwise the syntax error comes first (no default reduction in that state).
            if self.at_follower():
                self.done(node)
            return node, QERR
        if t.kind == "KW" and t.text in _DIRS | _AQUALS:
            return self.head_id()
        if t.kind == "KW" and t.text in ("broadcast", "multicast"):
            self.next()
            return self.done(Other(t.text, pos=t.pos)), QERR
        if t.kind == "KW" and t.text in ("less", "greater", "byte", "vlan"):
            return self.done(self.other()), QERR
        if t.kind == "KW" and t.text in ("inbound", "outbound"):
            self.next()
            return self.done(Other(t.text, pos=t.pos)), QERR
        if t.kind == "NUM" or (t.kind == "KW" and t.text == "len") or self.is_op("-"):
            return self.relation(), QERR
        if t.kind == "UNSUP":
            raise FilterError(f"'{t.text}' is not supported by pybpf", t.pos, self.expr)
        raise self.fail()

    def head_id(self) -> tuple[Node, Qual]:
        proto, dir_, addr = QDEFAULT
        if self.is_kw(*PNAMES):
            proto = self.next().text
        if self.is_kw("src", "dst"):
            dir_ = self.next().text
            other = "dst" if dir_ == "src" else "src"
            if self.is_kw("and", "or") and self.is_kw(other, k=1):
                dir_ = self.next().text
                self.next()
        if self.is_kw(*_AQUALS):
            tok = self.next()
            if tok.text in ("gateway", "proto", "protochain") and dir_ != "default":
                raise self.fail(tok)
            addr = tok.text
        q = (proto, dir_, addr)
        return self.id_(q), q

    def id_(self, q: Qual) -> Node:
        t = self.peek()
        if t is None:
            raise self.fail()
        if self.is_not():
            self.next()
            return Not(self.id_(q))
        if t.kind == "OP" and t.text == "(":
            self.next()
            node = self.id_(q)
            while self.is_kw("and", "or"):
                op = self.next().text
                node = Bin(op, node, self.id_(q))
            self.expect_op(")")
            return node
        self.next()
        if t.kind == "NUM":
            return self.done(Id(q, "num", t.text, t.num, pos=t.pos))
        if t.kind == "ID":
            return self.done(Id(q, "name", t.text, pos=t.pos))
        if t.kind == "EID":
            return self.done(Id(q, "eid", t.text, pos=t.pos))
        if t.kind in ("HID", "HID6"):
            six = "6" if t.kind == "HID6" else ""
            if self.is_op("/"):
                self.next()
                n = self.next()
                if n.kind != "NUM":
                    raise self.fail(n)
                return self.done(Id(q, f"hid{six}len", t.text, n.num, pos=t.pos))
            if not six and self.is_kw("mask"):
                self.next()
                m = self.next()
                if m.kind != "HID":
                    raise self.fail(m)
                return self.done(Id(q, "hidmask", t.text, extra=m.text, pos=t.pos))
            return self.done(Id(q, f"hid{six}", t.text, pos=t.pos))
        raise self.fail(t)

    def other(self) -> Node:
        t = self.next()
        if t.text in ("less", "greater"):
            n = self.next()
            if n.kind != "NUM":
                raise self.fail(n)
            return Other(t.text, num=n.num, pos=t.pos)
        if t.text == "byte":
            idx = self.next()
            op = self.next()
            val = self.next()
            if idx.kind != "NUM" or val.kind != "NUM" or op.text not in ("&", "|", "<", ">", "="):
                raise self.fail(op)
            return Other("byte", num=idx.num, num2=val.num, op=op.text, pos=t.pos)
        # vlan [pnum]
        num = -1
        if self.peek() is not None and self.peek_pnum():
            num = self.pnum()
        return Other("vlan", num=num, pos=t.pos)

    def peek_pnum(self) -> bool:
        j = 0
        while self.is_op("(", k=j):
            j += 1
        t = self.peek(j)
        return t is not None and t.kind == "NUM"

    def pnum(self) -> int:
        if self.is_op("("):
            self.next()
            v = self.pnum()
            self.expect_op(")")
            return v
        t = self.next()
        if t.kind != "NUM":
            raise self.fail(t)
        return t.num

    # -- arithmetic -----------------------------------------------------------------------
    def relation(self) -> Rel:
        start = self.peek()
        left = self.arth(0)
        t = self.peek()
        if t is None or t.kind != "OP" or (t.text not in _RELOPS and t.text not in _IRELOPS):
            raise self.fail(t)
        self.next()
        code, rev = _RELOPS.get(t.text) or _IRELOPS[t.text]
        right = self.arth(0)
        return self.done(Rel(code, left, right, rev, start.pos if start else 0))

    def arth(self, minprec: int) -> Arth:
        left = self.unary()
        while True:
            t = self.peek()
            if t is None or t.kind != "OP" or t.text not in _BINPREC:
                return left
            if t.text in _NOPREC:
                # libpcap's grammar declares no precedence for '%' and '^', so yacc always
                # shifts them: everything to their right becomes their right operand.
                self.next()
                left = self.done(ABin(t.text, left, self.arth(0)))
                continue
            prec = _BINPREC[t.text]
            if prec <= minprec:
                return left
            self.next()
            right = self.arth(prec)
            left = self.done(ABin(t.text, left, right))

    def unary(self) -> Arth:
        t = self.peek()
        if t is None:
            raise self.fail()
        if t.kind == "OP" and t.text == "-":
            self.next()
            child = self.unary()
            nxt = self.peek()
            if nxt is not None and nxt.kind == "OP" and nxt.text in _NOPREC:
                self.next()
                child = ABin(nxt.text, child, self.arth(0))
            return ANeg(child)
        if t.kind == "OP" and t.text == "(":
            self.next()
            inner = self.arth(0)
            self.expect_op(")")
            return inner
        if t.kind == "NUM":
            self.next()
            return ANum(t.num)
        if t.kind == "KW" and t.text == "len":
            self.next()
            return ALen()
        if t.kind == "KW" and t.text in PNAMES and self.is_op("[", k=1):
            self.next()
            self.next()
            index = self.arth(0)
            size = 1
            if self.is_op(":"):
                self.next()
                n = self.next()
                if n.kind != "NUM":
                    raise self.fail(n)
                size = n.num
            self.expect_op("]")
            return self.done(ALoad(t.text, index, size, t.pos))
        raise self.fail(t)


def parse(expr: str) -> Node | None:
    """Parse ``expr``; ``None`` for an empty expression (which accepts every packet)."""
    return _Parser(expr).parse()
