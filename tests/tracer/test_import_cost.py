"""Start-up cost: a BEGIN-only script must not pull in the modules only other scripts need.

No timing here (machines are noisy); the check is which modules a fresh interpreter has
imported after compiling and preparing the tracer's objects for a BEGIN-only script.
"""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from pybpf.cli import pybpftrace
from pybpf.output import make_writer
import pybpf.attach, pybpf.bpf
script = pybpftrace.compile_script("BEGIN { printf(\\"hi\\\\n\\"); exit(); }", "stdin", [], False)
assert script.progs, "nothing compiled"
make_writer("text")
print(" ".join(sorted(m for m in sys.modules if m.startswith("pybpf"))))
"""

_NOT_NEEDED = (
    "pybpf.elf",  # uprobes/usdt only
    "pybpf.attach.uprobe",
    "pybpf.output.json",  # -f json only
    "pybpf.bpf.info",  # object inspection, never needed to load and attach
)


def test_begin_only_script_does_not_import_uprobe_json_or_info_modules() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "pybpf.codegen.script" in out  # the probe really compiled
    loaded = [m for m in _NOT_NEEDED if m in out]
    assert loaded == []


def test_lazy_exports_still_resolve() -> None:
    import pybpf.attach as at
    import pybpf.output as po
    from pybpf.attach.uprobe import attach_uprobe
    from pybpf.output.json import JsonWriter

    assert at.attach_uprobe is attach_uprobe
    assert po.JsonWriter is JsonWriter
    assert isinstance(po.make_writer("json"), JsonWriter)
