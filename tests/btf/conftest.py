"""Kernel tests here also get the by-id leak check (tests/kernel_ids.py)."""

from kernel_ids import kernel_objects_gone

__all__ = ["kernel_objects_gone"]
