"""The parsed filter expression: qualifiers, primitives and arithmetic, before code generation.

Qualifier inheritance (``host a or b``: ``b`` is a host too) is resolved by the parser, so
every :class:`Id` carries the qualifiers it will be compiled with.
"""

from __future__ import annotations

from pybpf.records import dataclass

# A qualifier triple: (protocol, direction, address kind). "undef" in all three is libpcap's
# ``qerr``: what a bare value inherits from something that has no qualifiers to lend.
Qual = tuple[str, str, str]
QDEFAULT: Qual = ("default", "default", "default")
QERR: Qual = ("undef", "undef", "undef")


@dataclass(frozen=True)
class Id:
    """A value after qualifiers: kind is num, name, hid, hidlen, hidmask, hid6, hid6len or eid."""

    q: Qual
    kind: str
    text: str
    num: int = 0
    extra: str = ""
    pos: int = 0


@dataclass(frozen=True)
class Bin:
    """``and`` / ``or`` (equal precedence, left associative, as in libpcap)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """Negation."""

    child: Node


@dataclass(frozen=True)
class Abbrev:
    """A bare protocol name: ``tcp``, ``ip6``, ``arp``..."""

    proto: str
    pos: int = 0


@dataclass(frozen=True)
class Other:
    """Primitives without an address: broadcast, multicast, less, greater, byte, vlan."""

    kind: str
    proto: str = "default"
    num: int = -1
    num2: int = 0
    op: str = ""
    pos: int = 0


@dataclass(frozen=True)
class Rel:
    """``arth relop arth``; ``code`` is jgt/jge/jeq and ``reversed`` negates it."""

    code: str
    left: Arth
    right: Arth
    reversed: bool
    pos: int = 0


@dataclass(frozen=True)
class ANum:
    """An immediate."""

    value: int


@dataclass(frozen=True)
class ALoad:
    """``proto[index:size]``."""

    proto: str
    index: Arth
    size: int
    pos: int = 0


@dataclass(frozen=True)
class ABin:
    """Binary arithmetic: + - * / % & | ^ << >>."""

    op: str
    left: Arth
    right: Arth


@dataclass(frozen=True)
class ANeg:
    """Unary minus."""

    child: Arth


@dataclass(frozen=True)
class ALen:
    """``len``: the packet length."""


Node = Id | Bin | Not | Abbrev | Other | Rel
Arth = ANum | ALoad | ABin | ANeg | ALen
