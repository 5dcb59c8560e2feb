"""``pybpf filter``: compile a pcap-filter expression and print it as tcpdump -d/-dd/-ddd do."""

from __future__ import annotations

import argparse
import sys

HELP = "compile a pcap-filter expression to classic BPF (tcpdump -d/-dd/-ddd listings)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options mirror tcpdump's."""
    style = parser.add_mutually_exclusive_group()
    style.add_argument("-d", dest="style", action="store_const", const="d", help="listing")
    style.add_argument(
        "--dd", "-dd", dest="style", action="store_const", const="dd", help="C array"
    )
    style.add_argument(
        "--ddd", "-ddd", dest="style", action="store_const", const="ddd", help="decimal"
    )
    parser.add_argument("-O", dest="no_optimize", action="store_true", help="do not optimise")
    parser.add_argument("-y", dest="linktype", default="EN10MB", help="EN10MB (default) or RAW")
    parser.add_argument("--snaplen", "-s", type=int, default=262144, help="snapshot length")
    parser.add_argument(
        "--live",
        action="store_true",
        help="compile as 'pybpf capture' does for a live interface (outer VLAN tag in metadata)",
    )
    parser.add_argument("expr", nargs="*", help="filter expression (words are joined)")


def run(args: argparse.Namespace) -> int:
    """Print the listing; a bad expression prints libpcap's message and exits 1."""
    from pybpf.cbpf import names
    from pybpf.cbpf.compiler import compile_filter
    from pybpf.cbpf.insn import listing
    from pybpf.cbpf.lexer import FilterError
    from pybpf.errors import UsageError

    lt = names.LINKTYPES.get(str(args.linktype).upper())
    if lt is None:
        raise UsageError(f"unknown link type '{args.linktype}' (use EN10MB or RAW)")
    expr = " ".join(args.expr)
    try:
        prog = compile_filter(expr, lt, not args.no_optimize, args.snaplen, live=args.live)
    except FilterError as e:
        print(f"pybpf: ERROR: {e.message}", file=sys.stderr)
        if e.caret():
            print(e.caret(), file=sys.stderr)
        return 1
    sys.stdout.write(listing(prog, args.style or "d"))
    return 0
