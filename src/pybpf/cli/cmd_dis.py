"""``pybpf dis``: disassemble raw eBPF bytecode into text."""

from __future__ import annotations

import argparse
import sys

from pybpf.asm import decode, disassemble
from pybpf.asm.fmt import format_c, format_rfmt, format_xlated, kallsyms_resolver
from pybpf.asm.hexio import parse_hex
from pybpf.asm.insn import DecodeError
from pybpf.cli.cmd_asm import read_input
from pybpf.errors import UsageError

HELP = "disassemble raw eBPF bytecode (rfmt, C-like or bpftool xlated style)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pybpf dis``."""
    parser.add_argument("file", metavar="FILE", help="raw bytecode ('-' for stdin)")
    parser.add_argument(
        "--style", choices=("rfmt", "c", "xlated"), default="c", help="output style (default c)"
    )
    parser.add_argument(
        "--hex", action="store_true", help="FILE is hex text (64-bit 0x words or bytes)"
    )
    parser.add_argument(
        "--labels", action="store_true", help="name jump targets L<slot> (rfmt and c styles)"
    )
    parser.add_argument(
        "--kallsyms",
        action="store_true",
        help="name translated helper calls from /proc/kallsyms (xlated style)",
    )


def run(args: argparse.Namespace) -> int:
    """Print FILE's instructions, one a line."""
    data = read_input(args.file)
    name = "<stdin>" if args.file == "-" else args.file
    if args.hex:
        try:
            data = parse_hex(data.decode("utf-8", errors="replace"))
        except ValueError as e:
            raise UsageError(f"{name}: {e}") from None
    try:
        insns = decode(data)
    except DecodeError as e:
        raise UsageError(f"{name}: {e}") from None
    resolve = None
    if args.kallsyms:
        try:
            with open("/proc/kallsyms", encoding="utf-8") as f:
                resolve = kallsyms_resolver(f.read())
        except OSError as e:
            raise UsageError(f"cannot read /proc/kallsyms: {e.strerror}") from None
    recs = disassemble(insns)
    if args.style == "rfmt":
        text = format_rfmt(recs, labels=args.labels)
    elif args.style == "c":
        text = format_c(recs, labels=args.labels)
    else:
        if args.labels:
            raise UsageError("--labels does not apply to --style xlated (bpftool has none)")
        text = format_xlated(recs, resolve)
    sys.stdout.write(text)
    return 0
