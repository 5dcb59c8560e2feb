"""Type ids in the kernel's BTF that attaching needs (``btf_trace_<tp>``, ``bpf_iter_<x>``).

Uses :func:`pybpf.btf.vmlinux` when the BTF package is available; otherwise a small
name-only scan of /sys/kernel/btf/vmlinux (we only need "which id has this name and kind").
"""

from __future__ import annotations

import functools
import struct

from pybpf.errors import NotSupportedError, PybpfError

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"

KIND_STRUCT = 4
KIND_TYPEDEF = 8
KIND_FUNC = 12

# Bytes that follow the 12-byte common header, per kind: (fixed, per vlen item).
_EXTRA: dict[int, tuple[int, int]] = {
    1: (4, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 13: (0, 8), 14: (4, 0),
    15: (0, 12), 17: (4, 0), 19: (0, 12),
}  # fmt: skip


@functools.cache
def _raw() -> bytes:
    try:
        with open(VMLINUX_BTF, "rb") as f:
            return f.read()
    except OSError as e:
        raise NotSupportedError("kernel BTF", f"{VMLINUX_BTF}: {e.strerror}") from None


def _scan(name: str, kind: int) -> int | None:
    found = _locate(name, kind)
    return found[0] if found else None


def _locate(name: str, kind: int) -> tuple[int, int] | None:
    """(type id, byte position of its record) of the first ``kind`` type named ``name``."""
    data = _raw()
    magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
        "<HBBIIIII", data, 0
    )
    if magic != 0xEB9F:
        raise NotSupportedError("kernel BTF", f"{VMLINUX_BTF}: bad magic")
    strs = data[hdr_len + str_off : hdr_len + str_off + str_len]
    want = strs.find(b"\0" + name.encode() + b"\0")
    if want < 0:
        return None
    want += 1
    pos, end, tid = hdr_len + type_off, hdr_len + type_off + type_len, 1
    unpack = struct.Struct("<II").unpack_from
    while pos < end:
        name_off, info = unpack(data, pos)
        k = (info >> 24) & 0x1F
        if name_off == want and k == kind:
            return tid, pos
        fixed, per = _EXTRA.get(k, (0, 0))
        pos += 12 + fixed + per * (info & 0xFFFF)
        tid += 1
    return None


def _name_at(off: int) -> str:
    data = _raw()
    hdr_len, str_off = struct.unpack_from("<I", data, 4)[0], struct.unpack_from("<I", data, 16)[0]
    start = hdr_len + str_off + off
    return data[start : data.index(b"\0", start)].decode()


def _spec() -> Any | None:
    """The BTF package's vmlinux spec when that package is present, else ``None``."""
    try:
        from pybpf import btf

        return btf.vmlinux()
    except (ImportError, AttributeError):
        return None


def struct_member_offset(struct_name: str, member: str) -> int | None:
    """Byte offset of member ``member`` of ``struct struct_name`` in vmlinux BTF."""
    spec = _spec()
    if spec is not None:
        try:
            _m, bits = spec.member(spec.find(struct_name, _kind(KIND_STRUCT)), member)
            return int(bits) // 8
        except (KeyError, LookupError, ValueError):
            return None
        except PybpfError:
            return None
    return _scan_member(struct_name, member)


def _scan_member(struct_name: str, member: str) -> int | None:
    found = _locate(struct_name, KIND_STRUCT)
    if found is None:
        return None
    data = _raw()
    _tid, pos = found
    info = struct.unpack_from("<I", data, pos + 4)[0]
    kflag = info >> 31
    for i in range(info & 0xFFFF):
        m_name, _m_type, m_off = struct.unpack_from("<III", data, pos + 12 + 12 * i)
        if m_name and _name_at(m_name) == member:
            bits = m_off & 0xFFFFFF if kflag else m_off
            return int(bits) // 8
    return None


def _kind(kind: int) -> Any:
    from pybpf.btf.types import Kind

    return Kind(kind)


def vmlinux_type_id(name: str, kind: int) -> int | None:
    """The vmlinux BTF id of the type called ``name`` of ``kind``, or ``None``."""
    spec = _spec()
    if spec is None:
        return _scan(name, kind)
    try:
        return int(spec.find(name, _kind(kind)))
    except (KeyError, LookupError):
        return None


__all__ = [
    "KIND_FUNC",
    "KIND_STRUCT",
    "KIND_TYPEDEF",
    "VMLINUX_BTF",
    "struct_member_offset",
    "vmlinux_type_id",
]
