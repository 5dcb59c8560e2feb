"""``pybpf prog``: loaded programs, as bpftool shows them."""

from __future__ import annotations

import argparse

from pybpf.cli.inspect_args import add_common, object_id, print_all, print_json
from pybpf.errors import UsageError

HELP = "list loaded programs; dump their translated or JITed code (bpftool prog)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``prog list|show [ID]``, ``prog dump xlated|jited ID``."""
    parser.add_argument("action", choices=["list", "show", "dump"])
    parser.add_argument("words", nargs="*", help="[id] ID, or for dump: xlated|jited [id] ID")
    parser.add_argument(
        "--source", action="store_true", help="with dump xlated: the script line above its code"
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    """Carry out one ``prog`` action."""
    from pybpf.inspect import dump, records, text

    if args.action in ("list", "show"):
        print_all(args, records.prog_records(object_id(args.words, "program")), text.prog_show)
        return 0
    if not args.words or args.words[0] not in ("xlated", "jited"):
        raise UsageError("usage: pybpf prog dump xlated|jited [id] ID")
    prog_id = object_id(args.words[1:], "program")
    if prog_id is None:
        raise UsageError(f"usage: pybpf prog dump {args.words[0]} [id] ID")
    if args.words[0] == "xlated":
        if args.source:
            from pybpf.inspect.source import xlated_with_source

            print(xlated_with_source(prog_id), end="")
        elif args.json or args.pretty:
            print_json(args, dump.xlated(prog_id).splitlines())
        else:
            print(dump.xlated(prog_id), end="")
    else:
        print(dump.jited(prog_id), end="")
    return 0
