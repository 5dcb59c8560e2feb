"""``pybpf map``: maps in the kernel, as bpftool shows and dumps them."""

from __future__ import annotations

import argparse

from pybpf.cli.inspect_args import add_common, object_id, print_all, print_json
from pybpf.errors import UsageError

HELP = "list maps and dump their entries (bpftool map)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``map list|show [ID]``, ``map dump ID``."""
    parser.add_argument("action", choices=["list", "show", "dump"])
    parser.add_argument("words", nargs="*", help="[id] ID")
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    """Carry out one ``map`` action."""
    from pybpf.inspect import mapdump, records, text

    map_id = object_id(args.words, "map")
    if args.action in ("list", "show"):
        print_all(args, records.map_records(map_id), text.map_show)
        return 0
    if map_id is None:
        raise UsageError("usage: pybpf map dump [id] ID")
    rec, entries = mapdump.entries(map_id)
    if args.json or args.pretty:
        print_json(args, [mapdump.entry_json(k, v) for k, v in entries])
    else:
        for k, v in entries:
            print(text.map_entry(rec, k, v), end="")
        print(text.found(len(entries)), end="")
    return 0
