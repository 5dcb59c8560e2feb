"""``compile_filter``: pcap-filter expression -> classic BPF program (libpcap's pcap_compile)."""

from __future__ import annotations

from pybpf.cbpf import insn as I
from pybpf.cbpf import names
from pybpf.cbpf.ast import ABin, ALen, ALoad, ANeg, ANum
from pybpf.cbpf.blocks import Block, backpatch, new_block
from pybpf.cbpf.emit import icode_to_fcode
from pybpf.cbpf.gencode import CodeGen
from pybpf.cbpf.lexer import FilterError
from pybpf.cbpf.parser import ParseFailure, parse

DEFAULT_SNAPLEN = 262144


def _first_semantic_error(
    fail: ParseFailure, linktype: int, snaplen: int, netmask: int, live: bool, savefile: bool
) -> None:
    """libpcap generates code while it parses, so a primitive finished before a syntax error
    reports its own error first (``src foo bar`` is "unknown host 'foo'"); replay them."""
    cg = CodeGen(linktype, snaplen, netmask, live)
    cg.savefile = savefile
    for node in fail.completed:
        if isinstance(node, (ALoad, ABin)):
            cg.gen_arth(node)
        elif not isinstance(node, (ANum, ANeg, ALen)):
            cg.gen(node)


def build_blocks(
    expr: str,
    linktype: int = names.DLT_EN10MB,
    snaplen: int = DEFAULT_SNAPLEN,
    netmask: int = 0,
    live: bool = False,
    savefile: bool = False,
) -> Block:
    """The unoptimised block graph for ``expr`` (the root block)."""
    try:
        try:
            node = parse(expr)
        except ParseFailure as fail:
            _first_semantic_error(fail, linktype, snaplen, netmask, live, savefile)
            raise
        cg = CodeGen(linktype, snaplen, netmask, live)
        cg.savefile = savefile
        if node is None:
            return new_block(I.RET | I.K, snaplen)
        p = cg.gen(node)
    except FilterError as e:
        e.expr = expr
        raise
    except RecursionError:
        raise FilterError("expression too complex", -1, expr) from None
    backpatch(p, new_block(I.RET | I.K, snaplen))
    p.sense = not p.sense
    backpatch(p, new_block(I.RET | I.K, 0))
    assert p.head is not None
    return p.head


def compile_filter(
    expr: str,
    linktype: int = names.DLT_EN10MB,
    optimize: bool = True,
    snaplen: int = DEFAULT_SNAPLEN,
    netmask: int = 0,
    live: bool = False,
    savefile: bool = False,
) -> list[I.CInsn]:
    """Compile ``expr`` for ``linktype``; raises :class:`FilterError` with libpcap's message.

    ``live`` compiles for a Linux packet socket, where the outermost VLAN tag has been moved
    from the packet data into metadata (tcpdump's listings are of the default, a file).
    ``savefile`` refuses what a capture file cannot answer (``inbound``/``outbound``), as
    libpcap does when reading one; RAW is always treated so (its tcpdump listings come from
    ``tcpdump -r``).
    """
    root = build_blocks(expr, linktype, snaplen, netmask, live, savefile)
    if optimize:
        from pybpf.cbpf.optimize import optimize as run_optimizer

        root = run_optimizer(root)
        if root.is_ret and root.k == 0:
            raise FilterError("expression rejects all packets", -1, expr)
    return icode_to_fcode(root)
