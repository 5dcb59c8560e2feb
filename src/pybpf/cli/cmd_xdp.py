"""``pybpf xdp``: drop (or pass) packets matching a pcap-filter expression with XDP."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

HELP = "attach a pcap-filter expression as an XDP program (drop or pass matches, count them)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """IFACE EXPR --action drop|pass [--count] [--duration S]."""
    parser.add_argument("iface", help="interface to attach to")
    parser.add_argument("expr", nargs="+", help="filter expression")
    parser.add_argument("--action", choices=("drop", "pass"), default="drop",
                        help="what to do with matching packets (the rest get the other)")  # fmt: skip
    parser.add_argument("--count", action="store_true", help="print per-action counts at exit")
    parser.add_argument("--duration", type=float, default=0, help="detach after SECONDS")


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run(args: argparse.Namespace) -> int:
    """Attach, wait for SIGINT/SIGTERM (or --duration), detach, report."""
    from pybpf.cbpf.lexer import FilterError
    from pybpf.cbpf.xdp import XdpFilter

    expr = " ".join(args.expr)
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            filt = XdpFilter(args.iface, expr, args.action)
        except _Stop:  # interrupted while attaching: XdpFilter already cleaned up
            return 130
        except FilterError as e:
            print(f"pybpf: ERROR: {e.message}", file=sys.stderr)
            if e.caret():
                print(e.caret(), file=sys.stderr)
            return 1
        with filt:
            print(f"attached to {args.iface} ({filt.mode} XDP): {args.action} '{expr}'",
                  file=sys.stderr, flush=True)  # fmt: skip
            try:
                deadline = time.monotonic() + args.duration if args.duration else None
                while deadline is None or time.monotonic() < deadline:
                    time.sleep(0.05)
            except _Stop:
                pass
            matched, other = filt.counts()
        other_action = "pass" if args.action == "drop" else "drop"
        print(f"detached from {args.iface}", file=sys.stderr, flush=True)
        if args.count:
            print(f"{args.action}: {matched}")
            print(f"{other_action}: {other}")
        return 0
    finally:
        for s, h in old.items():
            signal.signal(s, h)
