"""The public API surface: a sorted, pinned ``__all__`` and a cheap ``import pybpf``."""

from __future__ import annotations

import subprocess
import sys

import pybpf

PINNED = [
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


def test_all_is_sorted_and_pinned() -> None:
    assert pybpf.__all__ == sorted(pybpf.__all__)
    assert pybpf.__all__ == PINNED


def test_every_public_name_resolves() -> None:
    for name in pybpf.__all__:
        assert getattr(pybpf, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        pybpf.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as e:
        assert "NoSuchThing" in str(e)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_cheap() -> None:
    code = "import sys, pybpf; print(sorted(m for m in sys.modules if m.startswith(('pybpf.', 'prometheus'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
