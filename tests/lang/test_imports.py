"""The front end imports nothing heavy at start-up (issue 3's performance clause).

Kernel-facing and large modules (ctypes, BTF, ELF, kallsyms, the loader) load lazily,
only when a pass first needs them; ``-l`` does not even build the AST classes.
Checked in a fresh interpreter, by module name, not by time.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("ctypes", "mmap", "elftools", "capstone", "pybpf.btf", "pybpf.bpf", "pybpf.elf",
         "pybpf.kallsyms", "pybpf.attach", "pybpf.codegen", "pybpf.session")  # fmt: skip


def _loaded_after(stmt: str) -> set[str]:
    code = f"import json, sys\n{stmt}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def _heavy(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_front_end_import_is_light() -> None:
    mods = _loaded_after("import pybpf.passes.pipeline, pybpf.lang.listing")
    assert "pybpf.passes.typecheck" in mods  # the import really happened
    assert _heavy(mods) == []


def test_listing_does_not_build_the_ast() -> None:
    mods = _loaded_after("import pybpf.lang.listing")
    assert "pybpf.lang.listing" in mods
    assert "pybpf.lang.ast" not in mods
    assert _heavy(mods) == []
