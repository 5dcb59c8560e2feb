"""pybpf: the Linux BPF toolchain in pure Python.

The public API is re-exported here; ``__all__`` is sorted and pinned by a test.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
