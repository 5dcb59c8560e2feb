"""``pybpf btf``: print kernel (or object file) types as C, list and look up types."""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pybpf.btf import Spec

HELP = "show BTF types as C (pahole-style struct layouts), list types"

_KINDS = {
    "struct": "STRUCT",
    "union": "UNION",
    "enum": "ENUM",
    "enum64": "ENUM64",
    "typedef": "TYPEDEF",
    "func": "FUNC",
    "var": "VAR",
    "datasec": "DATASEC",
    "int": "INT",
    "float": "FLOAT",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``dump TYPE...`` and ``list [GLOB]``, both reading --file (default: the kernel)."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    dump = sub.add_parser("dump", help="print types as C, e.g. dump 'struct task_struct'")
    dump.add_argument(
        "type",
        nargs="+",
        help="'struct NAME', 'union NAME', 'enum NAME', 'typedef NAME', 'func NAME', a bare "
        "NAME, or '#ID'",
    )
    dump.add_argument(
        "--format", choices=("c", "raw"), default="c", help="C (default) or bpftool's raw lines"
    )
    lst = sub.add_parser("list", help="list type names, optionally matching a glob")
    lst.add_argument("glob", nargs="?", default="*", help="shell pattern for names")
    lst.add_argument("--kind", choices=sorted(_KINDS), help="only types of this kind")
    for p in (dump, lst):
        p.add_argument(
            "--file", "-f", default=None, help="raw BTF or ELF file (default: the running kernel)"
        )


def _spec(path: str | None) -> Spec:
    from pybpf import btf

    return btf.vmlinux() if path is None else btf.load(path)


def _parse_query(words: list[str]) -> list[tuple[str | None, str]]:
    """'struct a' 'enum b' c -> [(struct, a), (enum, b), (None, c)]."""
    from pybpf.errors import UsageError

    tokens = " ".join(words).replace(",", " ").split()
    out: list[tuple[str | None, str]] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word in _KINDS:
            if i + 1 >= len(tokens):
                raise UsageError(f"btf dump: '{word}' needs a type name")
            out.append((word, tokens[i + 1]))
            i += 2
        else:
            out.append((None, word))
            i += 1
    for _kind, name in out:
        if not re.fullmatch(r"#\d+|[A-Za-z_][\w]*", name):
            raise UsageError(f"btf dump: bad type name '{name}'")
    return out


def _dump(args: argparse.Namespace) -> int:
    from pybpf.btf import Kind
    from pybpf.btf.cformat import dump

    spec = _spec(args.file)
    chunks = []
    for kind, name in _parse_query(args.type):
        if name.startswith("#"):
            tid = int(name[1:])
            spec.type(tid)  # range check
        else:
            tid = spec.find(name, Kind[_KINDS[kind]] if kind else None)
        if args.format == "raw":
            from pybpf.btf.raw import dump_raw

            chunks.append("\n".join(dump_raw(spec, [tid])))
        else:
            chunks.append(dump(spec, tid))
    sys.stdout.write("\n\n".join(chunks) + "\n")
    return 0


def _list(args: argparse.Namespace) -> int:
    from pybpf.btf import Kind

    spec = _spec(args.file)
    want = Kind[_KINDS[args.kind]] if args.kind else None
    rx = re.compile(fnmatch.translate(args.glob))
    out = []
    for tid, name in spec.names():
        if rx.match(name):
            kind = spec.kind(tid)
            if want is None or kind == want:
                out.append(f"[{tid}] {kind.name} {name}")
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``pybpf btf ACTION``."""
    return _dump(args) if args.action == "dump" else _list(args)
