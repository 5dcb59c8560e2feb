"""Attach tests share the hand-built programs of tests/bpf."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bpf"))

from kernel_ids import kernel_objects_gone

__all__ = ["kernel_objects_gone"]
