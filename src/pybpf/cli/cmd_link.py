"""``pybpf link``: BPF links in the kernel, as bpftool lists them."""

from __future__ import annotations

import argparse

from pybpf.cli.inspect_args import add_common, object_id, print_all

HELP = "list BPF links (bpftool link)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``link list|show [ID]``."""
    parser.add_argument("action", choices=["list", "show"])
    parser.add_argument("words", nargs="*", help="[id] ID")
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    """Carry out one ``link`` action."""
    from pybpf.inspect import records, text

    print_all(args, records.link_records(object_id(args.words, "link")), text.link_show)
    return 0
