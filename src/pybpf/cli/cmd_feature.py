"""``pybpf feature``: what this kernel supports, found by trying each thing for real."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pybpf.bpf.features import Probe
from pybpf.errors import PrivilegeError, UsageError

HELP = "show which program types, map types, attach kinds and helpers this kernel supports"

GROUPS = ("attach", "program_types", "map_types", "helpers")
_TITLES = {
    "attach": "attach kinds",
    "program_types": "program types",
    "map_types": "map types",
    "helpers": "helpers (kprobe/uprobe programs)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` and a group filter."""
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "groups", nargs="*", metavar="GROUP",
        help=f"only these groups ({', '.join(GROUPS)}); default all",
    )  # fmt: skip


def collect(groups: tuple[str, ...] = GROUPS) -> dict[str, list[Probe]]:
    """Run the probes of ``groups``."""
    from pybpf.attach.features import btf_id_for_probe, probe_attach_kinds
    from pybpf.bpf.features import probe_helpers, probe_map_types, probe_prog_types

    runners: dict[str, Callable[[], list[Probe]]] = {
        "attach": probe_attach_kinds,
        "program_types": lambda: probe_prog_types(btf_id_for_probe),
        "map_types": probe_map_types,
        "helpers": lambda: list(probe_helpers()),
    }
    # The attach probes mostly wait on the kernel; the rest runs meanwhile.
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(runners["attach"]) if "attach" in groups else None
        fast = {g: runners[g]() for g in groups if g != "attach"}
        out = {"attach": slow.result()} if slow else {}
    out.update(fast)
    return {g: out[g] for g in groups}


def _word(p: Probe) -> str:
    return "n/a" if p.supported is None else "yes" if p.supported else "no"


def render_text(results: dict[str, list[Probe]]) -> str:
    """Groups of ``name  yes|no  (reason)`` lines."""
    u = os.uname()
    lines = [f"kernel: {u.sysname} {u.release} {u.machine}"]
    for group, probes in results.items():
        lines.append("")
        lines.append(_TITLES[group])
        for p in probes:
            line = f"  {p.name:<28} {_word(p)}"
            if p.reason and not p.supported:
                line += f"  ({p.reason})"
            lines.append(line.rstrip())
    return "\n".join(lines)


def render_json(results: dict[str, list[Probe]]) -> str:
    """One object: ``{"kernel": ..., group: {name: {"supported": ..., "reason": ...}}}``."""
    doc: dict[str, Any] = {"kernel": os.uname().release}
    for group, probes in results.items():
        doc[group] = {
            p.name: {"supported": p.supported, **({"reason": p.reason} if p.reason else {})}
            for p in probes
        }
    return json.dumps(doc, indent=2)


def run(args: argparse.Namespace) -> int:
    """Probe and print."""
    groups = tuple(args.groups) if args.groups else GROUPS
    for g in groups:
        if g not in GROUPS:
            raise UsageError(f"unknown group '{g}' (choose from {', '.join(GROUPS)})")
    from pybpf.bpf.errs import has_bpf_privilege

    if not has_bpf_privilege():
        # Every probe would fail with EPERM and read as "no": say what is really wrong.
        raise PrivilegeError(
            "probing the kernel loads BPF programs: run as root, or with CAP_BPF and CAP_PERFMON"
        )
    start = time.perf_counter()
    results = collect(groups)
    elapsed = time.perf_counter() - start
    print(render_json(results) if args.json else render_text(results))
    if not args.json:
        print(f"\n({elapsed * 1000:.0f} ms)", file=sys.stderr)
    return 0
