"""The userspace eBPF VM: run bytecode without a kernel, on an interpreter or a translator.

``run(program, mem)`` is the one-shot form; :class:`Machine` holds maps and an address
space that several programs (and runs) share.
"""

from __future__ import annotations

from pybpf.vm.engine import ENGINES, Program
from pybpf.vm.errors import VMError
from pybpf.vm.machine import Env, Machine, run
from pybpf.vm.maps import MapType

__all__ = ["ENGINES", "Env", "Machine", "MapType", "Program", "VMError", "run"]
