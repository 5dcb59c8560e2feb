"""Argument shapes shared by the inspector verbs (``prog``, ``map``, ``link``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any

from pybpf.errors import UsageError


def add_common(parser: argparse.ArgumentParser) -> None:
    """``-j``/``--json`` and ``-p``/``--pretty`` like bpftool."""
    parser.add_argument("-j", "--json", action="store_true", help="JSON output")
    parser.add_argument("-p", "--pretty", action="store_true", help="pretty-printed JSON")


def object_id(words: list[str], what: str) -> int | None:
    """The id in ``[ID]`` or bpftool's ``id ID``; ``None`` when absent."""
    if words and words[0] == "id":
        words = words[1:]
    if not words:
        return None
    if len(words) > 1 or not words[0].isdigit():
        raise UsageError(f"expected a {what} id, got '{' '.join(words)}'")
    return int(words[0])


def print_json(args: argparse.Namespace, data: Any) -> None:
    """Print ``data`` as bpftool prints JSON (compact, or indented with ``-p``)."""
    if args.pretty:
        print(json.dumps(data, indent=3))
    else:
        print(json.dumps(data, separators=(",", ":")))


def print_all(args: argparse.Namespace, records: Iterable[Any], text: Any) -> None:
    """Print every record, as one JSON list or as text blocks."""
    if args.json or args.pretty:
        print_json(args, [r.as_json() for r in records])
    else:
        for r in records:
            print(text(r), end="")
