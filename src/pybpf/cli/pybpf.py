"""``pybpf``: the toolkit. Each verb lives in its own ``cmd_*`` module, imported on demand.

A verb module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Importing only the verb asked for keeps ``pybpf asm`` from paying for BTF or the tracer.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from pybpf import __version__
from pybpf.cli.common import guarded

VERBS: dict[str, str] = {
    "asm": "pybpf.cli.cmd_asm",
    "dis": "pybpf.cli.cmd_dis",
    "feature": "pybpf.cli.cmd_feature",
    "btf": "pybpf.cli.cmd_btf",
    "prog": "pybpf.cli.cmd_prog",
    "map": "pybpf.cli.cmd_map",
    "link": "pybpf.cli.cmd_link",
    "run": "pybpf.cli.cmd_run",
    "verify": "pybpf.cli.cmd_verify",
    "filter": "pybpf.cli.cmd_filter",
    "capture": "pybpf.cli.cmd_capture",
    "xdp": "pybpf.cli.cmd_xdp",
    "tool": "pybpf.cli.cmd_tool",
}


def _load(verb: str) -> ModuleType | None:
    try:
        return importlib.import_module(VERBS[verb])
    except ModuleNotFoundError as e:
        if e.name == VERBS[verb]:
            return None
        raise


def _usage() -> str:
    lines = ["usage: pybpf VERB [ARGS...]", "", "verbs:"]
    for verb in VERBS:
        mod = _load(verb)
        if mod is not None:
            lines.append(f"  {verb:<9} {getattr(mod, 'HELP', '')}")
    lines.append("")
    lines.append("'pybpf VERB --help' describes one verb.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pybpf`` console script."""
    args = sys.argv[1:] if argv is None else argv
    # Everything runs guarded: usage and --help text piped into `head` must not end in a
    # BrokenPipeError traceback either.
    return guarded("pybpf", lambda: _dispatch(args))


def _dispatch(args: list[str]) -> int:
    """Pick the verb, parse its arguments and run it."""
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] in ("-V", "--version"):
        print(f"pybpf {__version__}")
        return 0
    verb = args[0]
    if verb not in VERBS:
        print(f"pybpf: ERROR: unknown verb '{verb}'", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        return 2
    mod = _load(verb)
    if mod is None:
        print(f"pybpf: ERROR: '{verb}' is not available in this build", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog=f"pybpf {verb}", description=getattr(mod, "HELP", None))
    mod.add_arguments(parser)
    ns = parser.parse_args(args[1:])
    return int(mod.run(ns))


if __name__ == "__main__":
    raise SystemExit(main())
