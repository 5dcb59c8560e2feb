"""pybpf: the Linux BPF toolchain in pure Python.

The public API is re-exported here; ``__all__`` is sorted and pinned by a test. Names are
imported on first use (module ``__getattr__``), so ``import pybpf`` stays cheap: the tracer,
the compiler and prometheus-client load only when a program asks for them.

Run a bpftrace program in-process with :class:`Tracer` (events as :class:`Printf`,
:class:`Print`, ... and maps as dicts); the lower layers are :mod:`pybpf.asm` (instructions,
assembler), :mod:`pybpf.bpf` (maps, programs, object info) and :mod:`pybpf.attach` (links).
See docs/api.md.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.api import (
        Cat,
        Event,
        Exit,
        Join,
        Lost,
        Message,
        Print,
        Printf,
        Stats,
        System,
        Time,
        Tracer,
    )
    from pybpf.cli.pybpftrace import ScriptError
    from pybpf.errors import KernelError, NotSupportedError, PybpfError, VerifierError

_LAZY = {
    "Cat": "pybpf.api",
    "Event": "pybpf.api",
    "Exit": "pybpf.api",
    "Join": "pybpf.api",
    "KernelError": "pybpf.errors",
    "Lost": "pybpf.api",
    "Message": "pybpf.api",
    "NotSupportedError": "pybpf.errors",
    "Print": "pybpf.api",
    "Printf": "pybpf.api",
    "PybpfError": "pybpf.errors",
    "ScriptError": "pybpf.cli.pybpftrace",
    "Stats": "pybpf.api",
    "System": "pybpf.api",
    "Time": "pybpf.api",
    "Tracer": "pybpf.api",
    "VerifierError": "pybpf.errors",
}

__all__ = [
    "Cat",
    "Event",
    "Exit",
    "Join",
    "KernelError",
    "Lost",
    "Message",
    "NotSupportedError",
    "Print",
    "Printf",
    "PybpfError",
    "ScriptError",
    "Stats",
    "System",
    "Time",
    "Tracer",
    "VerifierError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (keeps ``import pybpf`` cheap)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pybpf' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
