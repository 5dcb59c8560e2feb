"""``pybpf run``: run eBPF bytecode in the userspace VM and print r0."""

from __future__ import annotations

import argparse
import sys

from pybpf.asm import DecodeError, decode
from pybpf.errors import UsageError
from pybpf.vm import ENGINES, Machine
from pybpf.vm.source import load_program, parse_hex

HELP = "run eBPF bytecode in the userspace VM and print r0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pybpf run``."""
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="assembly, raw bytecode, or ELF FILE:SECTION (with --plugin: hex memory)",
    )
    parser.add_argument("--mem", metavar="HEX", help="input buffer: r1 points at it, r2 = length")
    parser.add_argument("--engine", choices=ENGINES, default="compiled", help="execution engine")
    parser.add_argument(
        "--plugin",
        action="store_true",
        help="bpf_conformance plugin mode: bytecode on stdin, r0 in hex on stdout",
    )
    parser.add_argument("--limit", type=int, default=10_000_000, help="instruction budget")


def run(args: argparse.Namespace) -> int:
    """Run the program once; print r0 (decimal and hex, or bare hex in plugin mode)."""
    if args.plugin:
        mem = parse_hex(args.file) if args.file else None
        try:
            insns = decode(sys.stdin.buffer.read())
        except DecodeError as e:
            raise UsageError(str(e)) from None
    else:
        if not args.file:
            raise UsageError("no program: give FILE (or --plugin with bytecode on stdin)")
        insns = load_program(args.file)
        mem = parse_hex(args.mem) if args.mem else None
    machine = Machine(insn_limit=args.limit)
    r0 = machine.load(insns, args.engine).run(mem)
    for line in machine.trace:
        print(line, file=sys.stderr)
    if args.plugin:
        print(f"{r0:x}")
    else:
        print(f"r0 = {r0} ({r0:#x})")
    return 0
