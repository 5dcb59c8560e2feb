"""What this kernel supports, found by trying: load a minimal program of each type, create a
tiny map of each type, and load one call of each helper.

The answers are data (:class:`Probe` records); ``pybpf feature`` renders them. Attach kinds
are probed in :mod:`pybpf.attach.features` (they need BTF, ELF and tracefs).
"""

from __future__ import annotations

import errno as E
import struct
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress

from pybpf.asm.insn import Insn
from pybpf.bpf import syscall as sc
from pybpf.bpf.btfload import load_btf
from pybpf.bpf.errs import has_bpf_privilege
from pybpf.bpf.fd import Fd
from pybpf.bpf.maps import Map, MapSpec
from pybpf.bpf.prog import LOG_LEVEL_BRANCH, ProgSpec
from pybpf.bpf.syscall import AttachType, Cmd, MapFlags, MapType, ProgFlags, ProgType
from pybpf.errors import PybpfError, errno_message
from pybpf.records import dataclass

RET0 = (Insn(0xB7, 0, 0, 0, 0), Insn(0x95))
"""``r0 = 0; exit``: the smallest program every type accepts."""


@dataclass(frozen=True)
class Probe:
    """One answer: ``name`` is supported or not, with the kernel's reason when not."""

    name: str
    supported: bool | None
    """``None`` when the probe could not be made on this system (needs extra setup)."""
    reason: str = ""


def try_load(spec: ProgSpec, log: bool = False) -> tuple[bool, int, str]:
    """Load ``spec`` and unload it at once: (loaded, errno, verifier log if ``log``)."""
    buf = bytearray(4096) if log else None
    a, keep = spec.attr(buf, LOG_LEVEL_BRANCH if log else 0)
    try:
        Fd(sc.bpf(Cmd.PROG_LOAD, a), "bpf-prog").close()
    except OSError as e:
        text = buf.split(b"\0", 1)[0].decode(errors="replace") if buf else ""
        return False, e.errno or 0, text
    finally:
        del keep
    return True, 0, ""


# Program types needing an expected attach type (or more) to load at all.
_EXPECTED: dict[ProgType, AttachType] = {
    ProgType.CGROUP_SOCK_ADDR: AttachType.CGROUP_INET4_CONNECT,
    ProgType.CGROUP_SOCKOPT: AttachType.CGROUP_GETSOCKOPT,
    ProgType.SK_LOOKUP: AttachType.SK_LOOKUP,
    ProgType.NETFILTER: AttachType.NETFILTER,
}

# These need a BTF target; the caller supplies an id resolver (BTF lives above this layer).
_BTF_TARGET: dict[ProgType, tuple[AttachType, str]] = {
    ProgType.TRACING: (AttachType.TRACE_RAW_TP, "btf_trace_sys_enter"),
    ProgType.LSM: (AttachType.LSM_MAC, "bpf_lsm_file_open"),
}

_UNPROBED = {
    ProgType.UNSPEC: "",
    ProgType.EXT: "needs a target program with BTF",
    ProgType.STRUCT_OPS: "needs a struct_ops map",
}


def prog_type_spec(
    ptype: ProgType, btf_id: Callable[[str], int | None] | None = None
) -> ProgSpec | str:
    """The minimal spec probing ``ptype``, or why it is not probed."""
    if ptype in _UNPROBED:
        return _UNPROBED[ptype]
    if ptype in _BTF_TARGET:
        attach, target = _BTF_TARGET[ptype]
        tid = btf_id(target) if btf_id else None
        if tid is None:
            return f"no BTF id for {target}"
        return ProgSpec(ptype, RET0, expected_attach_type=attach, attach_btf_id=tid)
    # Syscall programs exist only as sleepable ones.
    flags = ProgFlags.SLEEPABLE if ptype == ProgType.SYSCALL else 0
    return ProgSpec(ptype, RET0, expected_attach_type=_EXPECTED.get(ptype), flags=flags)


def probe_prog_types(btf_id: Callable[[str], int | None] | None = None) -> list[Probe]:
    """Every program type: loads or not."""
    out = []
    for ptype in ProgType:
        if ptype == ProgType.UNSPEC:
            continue
        spec = prog_type_spec(ptype, btf_id)
        if isinstance(spec, str):
            out.append(Probe(ptype.name.lower(), None, spec))
            continue
        ok, err, _ = try_load(spec)
        out.append(Probe(ptype.name.lower(), ok, "" if ok else _why(err)))
    return out


def _why(err: int) -> str:
    if err in (E.EPERM, E.EACCES) and has_bpf_privilege():
        return "refused even as root (kernel lockdown?)"
    return errno_message(err)


def _int_btf() -> bytes:
    """A one-type BTF blob (``int``), for map types whose values must be BTF-described."""
    types = struct.pack("<IIII", 1, 1 << 24, 4, (1 << 24) | 32)
    strings = b"\0int\0"
    return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings)) + (
        types + strings
    )


def map_type_spec(mtype: MapType, inner_fd: int, btf_fd: int) -> MapSpec | str:
    """The minimal spec probing ``mtype`` (or why it is not probed)."""
    nopre = MapFlags.NO_PREALLOC
    simple = {
        MapType.STACK_TRACE: (4, 8, 1, 0),
        MapType.LPM_TRIE: (8, 4, 1, nopre),
        MapType.CGROUP_STORAGE: (16, 4, 0, 0),
        MapType.PERCPU_CGROUP_STORAGE: (16, 4, 0, 0),
        MapType.QUEUE: (0, 4, 1, 0),
        MapType.STACK: (0, 4, 1, 0),
        MapType.BLOOM_FILTER: (0, 4, 1, 0),
        MapType.RINGBUF: (0, 0, 4096, 0),
        MapType.USER_RINGBUF: (0, 0, 4096, 0),
        MapType.ARENA: (0, 0, 1, MapFlags.MMAPABLE),
    }
    if mtype in (MapType.UNSPEC, MapType.STRUCT_OPS):
        return "needs a kernel struct_ops type" if mtype else ""
    if mtype in simple:
        k, v, n, f = simple[mtype]
        return MapSpec(mtype, k, v, n, flags=f)
    if mtype in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
        return MapSpec(mtype, 4, 4, 1, inner_map_fd=inner_fd)
    if mtype in (MapType.SK_STORAGE, MapType.INODE_STORAGE, MapType.TASK_STORAGE,
                 MapType.CGRP_STORAGE):  # fmt: skip
        return MapSpec(mtype, 4, 4, 0, flags=nopre, btf_fd=btf_fd, btf_key_type_id=1,
                       btf_value_type_id=1)  # fmt: skip
    return MapSpec(mtype, 4, 4, 1)


def probe_map_types() -> list[Probe]:
    """Every map type: can a tiny one be created."""
    out = []
    with ExitStack() as stack:
        inner = stack.enter_context(Map.create(MapSpec(MapType.ARRAY, 4, 4, 1)))
        btf_fd = -1
        with suppress(PybpfError):
            btf_fd = stack.enter_context(load_btf(_int_btf())).fd
        for mtype in MapType:
            if mtype == MapType.UNSPEC:
                continue
            spec = map_type_spec(mtype, inner.fd, btf_fd)
            if isinstance(spec, str):
                out.append(Probe(mtype.name.lower(), None, spec))
                continue
            try:
                fd = sc.bpf(Cmd.MAP_CREATE, spec.attr())
            except OSError as e:
                out.append(Probe(mtype.name.lower(), False, _why(e.errno or 0)))
            else:
                Fd(fd, "bpf-map").close()
                out.append(Probe(mtype.name.lower(), True))
    return out


def probe_helpers(
    ptype: ProgType = ProgType.KPROBE, names: Callable[[int], str | None] | None = None
) -> Iterator[Probe]:
    """Helpers callable from ``ptype`` programs: the verifier says "unknown func" or
    "program of this type cannot use helper" when not; any other complaint (about the
    arguments of our empty call) means the helper is there."""
    from pybpf.asm.helpers import MAX_HELPER_ID, helper_name

    namer = names or helper_name
    for hid in range(1, MAX_HELPER_ID + 1):
        spec = ProgSpec(ptype, (Insn(0x85, 0, 0, 0, hid), *RET0))
        ok, err, log = try_load(spec, log=True)
        name = (namer(hid) or f"helper_{hid}").removeprefix("bpf_")
        if ok:
            yield Probe(name, True)
            continue
        last = [ln for ln in log.splitlines() if ln.strip() and not ln.startswith("processed")]
        verdict = last[-1] if last else errno_message(err)
        missing = ("unknown func" in log or "cannot use helper" in log
                   or "invalid func" in log or err == E.EPERM)  # fmt: skip
        yield Probe(name, not missing, verdict if missing else "")


__all__ = [
    "RET0",
    "Probe",
    "map_type_spec",
    "probe_helpers",
    "probe_map_types",
    "probe_prog_types",
    "prog_type_spec",
    "try_load",
]
