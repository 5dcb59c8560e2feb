"""``pybpf capture``: capture packets matching a pcap-filter expression (filter in the kernel)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from types import FrameType

HELP = "capture packets with a pcap-filter expression (AF_PACKET, filter attached in the kernel)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """tcpdump-like options."""
    parser.add_argument("-i", dest="iface", default="", help="interface (default: any)")
    parser.add_argument("-c", dest="count", type=int, default=0, help="stop after N packets")
    parser.add_argument("-w", dest="write", help="write packets to a pcap file")
    parser.add_argument("-r", dest="read", help="read packets from a pcap file")
    parser.add_argument("-s", dest="snaplen", type=int, default=262144, help="snapshot length")
    parser.add_argument("--timeout", type=float, default=0, help="stop after SECONDS")
    parser.add_argument("-q", dest="quiet", action="store_true", help="no per-packet lines")
    parser.add_argument("expr", nargs="*", help="filter expression")


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run(args: argparse.Namespace) -> int:
    """Capture (or read) and print one line per packet; exit 0, or 1 on an error."""
    from pybpf.cbpf import names
    from pybpf.cbpf.compiler import compile_filter
    from pybpf.cbpf.lexer import FilterError

    expr = " ".join(args.expr)
    lt = names.DLT_EN10MB
    records = None
    if args.read:
        from pybpf.cbpf.pcap import read_pcap

        try:
            stream = open(args.read, "rb")
        except OSError as e:
            from pybpf.errors import UsageError

            raise UsageError(f"{args.read}: {e.strerror}") from None
        file_lt, _, records = read_pcap(stream, args.read)
        lt = names.FILE_LINKTYPE.get(file_lt, -1)
        if lt < 0:
            stream.close()
            from pybpf.errors import UsageError

            raise UsageError(f"{args.read}: link type {file_lt} is not supported")
    try:
        live = records is None
        prog = compile_filter(expr, lt, True, args.snaplen, live=live, savefile=not live)
    except FilterError as e:
        print(f"pybpf: ERROR: {e.message}", file=sys.stderr)
        if e.caret():
            print(e.caret(), file=sys.stderr)
        return 1
    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if records is not None:
            return _replay(args, prog, lt, records)
        return _live(args, prog)
    except _Stop:  # a signal before the capture loop started: nothing to report
        return 0
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _replay(args: argparse.Namespace, prog: list, lt: int, records: object) -> int:  # type: ignore[type-arg]
    from pybpf.cbpf.pycompile import compile_program
    from pybpf.cbpf.summary import summarize, timestamp

    vm_run = compile_program(prog)
    n = 0
    with contextlib.suppress(_Stop):
        for rec in records:  # type: ignore[attr-defined]
            if vm_run(rec.data, rec.wirelen, None) == 0:
                continue
            n += 1
            if not args.quiet:
                print(f"{timestamp(rec.ts)} {summarize(rec.data, lt)}", flush=True)
            if args.count and n >= args.count:
                break
    return 0


def _live(args: argparse.Namespace, prog: list) -> int:  # type: ignore[type-arg]
    from pybpf.cbpf import names
    from pybpf.cbpf.capture import Capture
    from pybpf.cbpf.pcap import PcapWriter
    from pybpf.cbpf.summary import summarize, timestamp

    stop_at = time.monotonic() + args.timeout if args.timeout else None
    n = 0
    with contextlib.ExitStack() as stack:
        iface = "" if args.iface == "any" else args.iface  # tcpdump's pseudo-device
        cap = stack.enter_context(Capture(iface, prog, args.snaplen))
        writer = None
        if args.write:
            out = stack.enter_context(open(args.write, "wb"))
            writer = PcapWriter(out, names.LINKTYPE_FILE[names.DLT_EN10MB], args.snaplen)
        where = args.iface or "any"
        print(
            f"listening on {where}, link-type EN10MB (Ethernet), snapshot length "
            f"{args.snaplen} bytes",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(_Stop):
            for rec in cap.packets(stop_at):
                n += 1
                if writer is not None:
                    writer.write(rec)
                if not args.quiet and writer is None:
                    print(f"{timestamp(rec.ts)} {summarize(rec.data)}", flush=True)
                if args.count and n >= args.count:
                    break
    print(f"{n} packet{'s' if n != 1 else ''} captured", file=sys.stderr, flush=True)
    return 0
