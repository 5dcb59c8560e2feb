"""Tokens of the pcap-filter language (``man 7 pcap-filter``), lexed as libpcap's scanner does.

Longest match wins; on a tie the earlier rule wins (numbers before dotted hosts before MAC
addresses before names), and a name that is exactly a keyword is that keyword unless it was
written with a leading backslash (``\\tcp`` is the name ``tcp``).
"""

from __future__ import annotations

import ipaddress
import re

from pybpf.errors import PybpfError
from pybpf.records import dataclass


class FilterError(PybpfError):
    """A filter expression that cannot be compiled.

    ``message`` is libpcap's own text for the problem; ``pos`` is the 0-based character
    offset in the expression where it was found (or -1 when libpcap's error has no place).
    """

    def __init__(self, message: str, pos: int = -1, expr: str = "") -> None:
        self.message = message
        self.pos = pos
        self.expr = expr
        super().__init__(message)

    def caret(self) -> str:
        """Two lines: the expression and a caret under the offending place (empty if none)."""
        if self.pos < 0 or not self.expr:
            return ""
        return f"{self.expr}\n{' ' * self.pos}^"


SYNTAX = "can't parse filter expression: syntax error"

# Keywords that name a value (scanner.l turns them into NUM tokens).
NAMED_NUMBERS: dict[str, int] = {
    "icmptype": 0,
    "icmpcode": 1,
    "icmp-echoreply": 0,
    "icmp-unreach": 3,
    "icmp-sourcequench": 4,
    "icmp-redirect": 5,
    "icmp-echo": 8,
    "icmp-routeradvert": 9,
    "icmp-routersolicit": 10,
    "icmp-timxceed": 11,
    "icmp-paramprob": 12,
    "icmp-tstamp": 13,
    "icmp-tstampreply": 14,
    "icmp-ireq": 15,
    "icmp-ireqreply": 16,
    "icmp-maskreq": 17,
    "icmp-maskreply": 18,
    "icmp6type": 0,
    "icmp6code": 1,
    "icmp6-destinationunreach": 1,
    "icmp6-packettoobig": 2,
    "icmp6-timeexceeded": 3,
    "icmp6-parameterproblem": 4,
    "icmp6-echo": 128,
    "icmp6-echoreply": 129,
    "icmp6-multicastlistenerquery": 130,
    "icmp6-multicastlistenerreportv1": 131,
    "icmp6-multicastlistenerdone": 132,
    "icmp6-routersolicit": 133,
    "icmp6-routeradvert": 134,
    "icmp6-neighborsolicit": 135,
    "icmp6-neighboradvert": 136,
    "icmp6-redirect": 137,
    "icmp6-routerrenum": 138,
    "icmp6-nodeinformationquery": 139,
    "icmp6-nodeinformationresponse": 140,
    "icmp6-ineighbordiscoverysolicit": 141,
    "icmp6-ineighbordiscoveryadvert": 142,
    "icmp6-multicastlistenerreportv2": 143,
    "icmp6-homeagentdiscoveryrequest": 144,
    "icmp6-homeagentdiscoveryreply": 145,
    "icmp6-mobileprefixsolicit": 146,
    "icmp6-mobileprefixadvert": 147,
    "icmp6-certpathsolicit": 148,
    "icmp6-certpathadvert": 149,
    "icmp6-multicastrouteradvert": 151,
    "icmp6-multicastroutersolicit": 152,
    "icmp6-multicastrouterterm": 153,
    "tcpflags": 13,
    "tcp-fin": 0x01,
    "tcp-syn": 0x02,
    "tcp-rst": 0x04,
    "tcp-push": 0x08,
    "tcp-ack": 0x10,
    "tcp-urg": 0x20,
    "tcp-ece": 0x40,
    "tcp-cwr": 0x80,
}

# Keyword spellings -> canonical keyword.
KEYWORDS: dict[str, str] = {
    "dst": "dst",
    "src": "src",
    "link": "link",
    "ether": "link",
    "ppp": "link",
    "slip": "link",
    "fddi": "link",
    "tr": "link",
    "wlan": "link",
    "arp": "arp",
    "rarp": "rarp",
    "ip": "ip",
    "sctp": "sctp",
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "igmp": "igmp",
    "igrp": "igrp",
    "pim": "pim",
    "vrrp": "vrrp",
    "carp": "carp",
    "ip6": "ip6",
    "icmp6": "icmp6",
    "ah": "ah",
    "esp": "esp",
    "atalk": "atalk",
    "aarp": "aarp",
    "decnet": "decnet",
    "lat": "lat",
    "sca": "sca",
    "moprc": "moprc",
    "mopdl": "mopdl",
    "iso": "iso",
    "stp": "stp",
    "ipx": "ipx",
    "netbeui": "netbeui",
    "host": "host",
    "net": "net",
    "mask": "mask",
    "port": "port",
    "portrange": "portrange",
    "proto": "proto",
    "protochain": "protochain",
    "gateway": "gateway",
    "less": "less",
    "greater": "greater",
    "byte": "byte",
    "broadcast": "broadcast",
    "multicast": "multicast",
    "and": "and",
    "&&": "and",
    "or": "or",
    "||": "or",
    "not": "!",
    "len": "len",
    "length": "len",
    "inbound": "inbound",
    "outbound": "outbound",
    "vlan": "vlan",
}

# libpcap keywords for link types and protocols pybpf does not compile: recognised so that
# the error says so instead of a bare syntax error.
UNSUPPORTED = frozenset(
    "mpls pppoed pppoes llc geneve vxlan esis es-is isis is-is clnp l1 l2 iih lsp snp csnp "
    "psnp lane metac bcc oam oamf4 oamf4ec oamf4sc sc ilmic vpi vci connectmsg metaconnect "
    "fisu lssu msu hfisu hlssu hmsu sio opc dpc sls hsio hopc hdpc hsls on ifname rnr rulenum "
    "srnr subrulenum reason rset ruleset action type subtype direction dir address1 addr1 "
    "address2 addr2 address3 addr3 address4 addr4 ra ta radio ifindex".split()
)

_NUM = r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)"
_B = r"[0-9A-Fa-f][0-9A-Fa-f]?"
_W = r"[0-9A-Fa-f]{4}"
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("OP", re.compile(r">=|<=|!=|==|<<|>>|&&|\|\||[+\-*/%:\[\]!<>()&|^=]")),
    ("NUM", re.compile(_NUM)),
    (
        "EID",
        re.compile(
            rf"{_B}:{_B}:{_B}:{_B}:{_B}:{_B}|{_B}-{_B}-{_B}-{_B}-{_B}-{_B}"
            rf"|{_B}\.{_B}\.{_B}\.{_B}\.{_B}\.{_B}|{_W}\.{_W}\.{_W}"
        ),
    ),
    ("HID", re.compile(rf"{_NUM}\.{_NUM}(?:\.{_NUM}(?:\.{_NUM})?)?")),
    ("HID6", re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")),
    ("ID", re.compile(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?")),
    ("ESC", re.compile(r"\\[^ !()\n\t]+")),
]


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is OP, NUM, HID, HID6, EID, ID, KW or UNSUP (a libpcap keyword
    pybpf does not compile); ``pos`` its offset."""

    kind: str
    text: str
    pos: int
    num: int = 0


def parse_num(text: str) -> int:
    """A libpcap number: 0x hex, leading-0 octal, or decimal (unsigned 32-bit)."""
    if text[:2] in ("0x", "0X"):
        v = int(text[2:], 16)
    elif len(text) > 1 and text[0] == "0":
        if any(c in "89" for c in text):
            raise ValueError(text)
        v = int(text, 8)
    else:
        v = int(text)
    if v > 0xFFFF_FFFF:
        raise OverflowError(text)
    return v


def tokenize(expr: str) -> list[Token]:
    """Split ``expr`` into tokens; raises :class:`FilterError` on a character nothing matches."""
    out: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        if expr[i] in " \t\r\n":
            i += 1
            continue
        best_kind, best_len = "", 0
        for kind, rx in _RULES:
            m = rx.match(expr, i)
            if m and len(m.group()) > best_len:
                if kind == "HID6" and not _is_v6(m.group()):
                    continue
                best_kind, best_len = kind, len(m.group())
        if not best_len:
            raise FilterError(SYNTAX, i, expr)
        text = expr[i : i + best_len]
        out.append(_classify(best_kind, text, i, expr))
        i += best_len
    return out


def _is_v6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _classify(kind: str, text: str, pos: int, expr: str) -> Token:
    if kind == "NUM":
        try:
            return Token("NUM", text, pos, parse_num(text))
        except (ValueError, OverflowError):
            raise FilterError(f"number {text} contains non-octal digit", pos, expr) from None
    if kind == "ESC":
        return Token("ID", text[1:], pos)
    if kind == "OP" and text in ("&&", "||"):
        return Token("KW", KEYWORDS[text], pos)
    if kind == "OP" and text == "==":
        return Token("OP", "=", pos)
    if kind == "ID":
        if text in NAMED_NUMBERS:
            return Token("NUM", text, pos, NAMED_NUMBERS[text])
        if text in KEYWORDS:
            return Token("KW", KEYWORDS[text], pos)
        if text in UNSUPPORTED:
            return Token("UNSUP", text, pos)
    return Token(kind, text, pos)
