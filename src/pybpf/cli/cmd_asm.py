"""``pybpf asm``: assemble eBPF text (``%r`` or C-like dialect) into raw bytecode."""

from __future__ import annotations

import argparse
import sys

from pybpf.asm import assemble, encode
from pybpf.asm.assembler import DIALECTS
from pybpf.asm.hexio import format_hex_words
from pybpf.errors import UsageError

HELP = "assemble eBPF text (%r or C-like dialect) into raw bytecode"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pybpf asm``."""
    parser.add_argument("file", metavar="FILE", help="assembly source ('-' for stdin)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write bytes here (default stdout)")
    parser.add_argument("--hex", action="store_true", help="print one 64-bit hex word a slot")
    parser.add_argument("--dialect", choices=DIALECTS, default="auto", help="input dialect")


def read_input(path: str) -> bytes:
    """The bytes of ``path`` ('-' reads stdin); a clear UsageError if unreadable."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError(f"cannot read '{path}': {e.strerror}") from None


def run(args: argparse.Namespace) -> int:
    """Assemble FILE and write the bytecode (or hex words)."""
    name = "<stdin>" if args.file == "-" else args.file
    text = read_input(args.file).decode("utf-8", errors="replace")
    raw = encode(assemble(text, args.dialect, source=name))
    out = format_hex_words(raw).encode() if args.hex else raw
    if args.output and args.output != "-":
        try:
            with open(args.output, "wb") as f:
                f.write(out)
        except OSError as e:
            raise UsageError(f"cannot write '{args.output}': {e.strerror}") from None
        return 0
    if not args.hex and sys.stdout.isatty():
        raise UsageError("refusing to write bytecode to a terminal (use -o FILE or --hex)")
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0
