"""``pybpf verify``: check eBPF bytecode with pybpf's own verifier (no kernel needed)."""

from __future__ import annotations

import argparse
import sys

from pybpf.errors import UsageError
from pybpf.verifier import PROG_TYPES, MapInfo, verify
from pybpf.vm.source import load_program

HELP = "check eBPF bytecode with the userspace verifier (no kernel needed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pybpf verify``."""
    parser.add_argument("file", metavar="FILE", help="assembly, raw bytecode, or ELF FILE:SECTION")
    parser.add_argument(
        "--type", dest="prog_type", choices=sorted(PROG_TYPES), default="socket_filter",
        help="program type (decides the context and the helpers allowed)",
    )  # fmt: skip
    parser.add_argument(
        "--map", action="append", default=[], metavar="FD:TYPE:KEY:VALUE:MAX",
        help="declare a map the program refers to by fd (numbers; repeatable)",
    )  # fmt: skip
    parser.add_argument("--mem-size", type=int, default=0, help="buffer size (conformance type)")
    parser.add_argument("--no-loops", action="store_true", help="reject every back-edge")


def _maps(specs: list[str]) -> dict[int, MapInfo]:
    out: dict[int, MapInfo] = {}
    for s in specs:
        try:
            fd, t, k, v, n = (int(x, 0) for x in s.split(":"))
        except ValueError:
            raise UsageError(f"--map {s!r}: expected FD:TYPE:KEY:VALUE:MAX (numbers)") from None
        out[fd] = MapInfo(t, k, v, n)
    return out


def run(args: argparse.Namespace) -> int:
    """Verify FILE; print the verdict (status 1 and the kernel-style reason on rejection)."""
    insns = load_program(args.file)
    verdict = verify(
        insns, args.prog_type, _maps(args.map), mem_size=args.mem_size,
        allow_loops=not args.no_loops,
    )  # fmt: skip
    if verdict.error is not None:
        e = verdict.error
        where = f" (line {getattr(e.span, 'line', '?')})" if e.span is not None else ""
        print(f"{e.pc}: {e.message}{where}", file=sys.stderr)
        print(verdict.log[-1], file=sys.stderr)
        print("pybpf: ERROR: verification failed", file=sys.stderr)
        return 1
    print(f"OK: {verdict.log[-1]}")
    return 0
