"""``pybpf tool``: the classic bpftrace tools shipped with pybpf, run by the tracer."""

from __future__ import annotations

import argparse
from importlib import resources

HELP = "list or run the shipped tracing tools (opensnoop, biolatency, ...)"


def tool_dir() -> resources.abc.Traversable:
    """Where the ``.bt`` scripts live inside the installed package."""
    return resources.files("pybpf") / "tools"


def tools() -> dict[str, str]:
    """Tool name -> its one-line description (the script's first comment line)."""
    out = {}
    for entry in sorted(tool_dir().iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".bt"):
            continue
        desc = ""
        for line in entry.read_text().splitlines():
            if line.startswith("//"):
                desc = line[2:].strip()
                name = entry.name[:-3]
                if desc.startswith(f"{name}:"):
                    desc = desc[len(name) + 1 :].strip()
                break
        out[entry.name[:-3]] = desc
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``tool [NAME [ARGS...]]``."""
    parser.add_argument("name", nargs="?", help="tool to run; none lists them")
    parser.add_argument(
        "args", nargs=argparse.REMAINDER, help="pybpftrace flags and positional parameters"
    )


def run(args: argparse.Namespace) -> int:
    """List the tools, or run one through ``pybpftrace``."""
    from pybpf.errors import UsageError

    known = tools()
    if args.name is None:
        for name, desc in known.items():
            print(f"{name:<15} {desc}")
        return 0
    if args.name not in known:
        from pybpf.diag.suggest import closest

        hint = closest(args.name, known) or ""
        raise UsageError(
            f"unknown tool '{args.name}'"
            + (f" (did you mean '{hint}'?)" if hint else "")
            + "; 'pybpf tool' lists them"
        )
    from pybpf.cli import pybpftrace

    with resources.as_file(tool_dir() / f"{args.name}.bt") as path:
        status: int = pybpftrace.main([str(path), *args.args])  # then $1..: the arguments
    return status
