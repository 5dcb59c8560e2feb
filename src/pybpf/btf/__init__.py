"""BTF: the kernel's (and object files') type information, parsed lazily; and a builder.

``vmlinux()`` is the running kernel's BTF, parsed once per process. ``Spec.find(name, kind)``
gives a type id, ``Spec.type(id)`` the decoded record. ``pybpf.btf.cformat`` prints types as
C; ``pybpf.btf.builder`` writes BTF bytes for ``BPF_BTF_LOAD``.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pybpf.btf.index import BtfError, Header
    from pybpf.btf.spec import BtfNotFoundError, Spec
    from pybpf.btf.types import (
        AnyType,
        Array,
        Composite,
        Datasec,
        DeclTag,
        Enum,
        EnumValue,
        Float,
        Func,
        FuncProto,
        Fwd,
        Int,
        IntEncoding,
        Kind,
        Linkage,
        Member,
        Param,
        Ref,
        Type,
        Var,
        VarSecInfo,
        Void,
    )

# Imported on first use: writing a small BTF (pybpf.btf.builder, at every compilation) needs
# neither the parser nor the record classes, whose creation costs ~8 ms. Names not listed
# here are the records of pybpf.btf.types (its __all__).
_HOME = {
    "BtfError": "index",
    "Header": "index",
    "BtfNotFoundError": "spec",
    "Spec": "spec",
}


def __getattr__(name: str) -> Any:
    module = importlib.import_module(f"{__name__}.{_HOME.get(name, 'types')}")
    if name not in _HOME and name not in module.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


VMLINUX_PATH = "/sys/kernel/btf/vmlinux"
_vmlinux: Spec | None = None


def vmlinux() -> Spec:
    """The running kernel's BTF (parsed once per process, index cached on disk)."""
    global _vmlinux
    if _vmlinux is None:
        if not os.path.exists(VMLINUX_PATH):
            from pybpf.errors import NotSupportedError

            raise NotSupportedError(
                "kernel BTF", f"{VMLINUX_PATH} is missing (CONFIG_DEBUG_INFO_BTF)"
            )
        from pybpf.btf.spec import Spec

        _vmlinux = Spec.from_file(VMLINUX_PATH)
    return _vmlinux


def load(path: str | os.PathLike[str]) -> Spec:
    """BTF from a raw BTF file or the ``.BTF`` section of an ELF file."""
    from pybpf.btf.spec import Spec

    return Spec.from_file(path)


__all__ = [
    "VMLINUX_PATH",
    "AnyType",
    "Array",
    "BtfError",
    "BtfNotFoundError",
    "Composite",
    "Datasec",
    "DeclTag",
    "Enum",
    "EnumValue",
    "Float",
    "Func",
    "FuncProto",
    "Fwd",
    "Header",
    "Int",
    "IntEncoding",
    "Kind",
    "Linkage",
    "Member",
    "Param",
    "Ref",
    "Spec",
    "Type",
    "Var",
    "VarSecInfo",
    "Void",
    "load",
    "vmlinux",
]
