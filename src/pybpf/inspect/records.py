"""Plain records of loaded programs, maps and links, read through the kernel's info calls.

An object can vanish between listing its id and opening it (another tool exits): such ids
are skipped when listing, and reported as an error when asked for by id.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from typing import Any

from pybpf.bpf import info as bi
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import AttachType, LinkType, MapType, ProgType
from pybpf.errors import KernelError, UsageError
from pybpf.records import dataclass, field


def _type_name(enum: type[ProgType] | type[MapType] | type[LinkType], value: int) -> str:
    try:
        return enum(value).name.lower()
    except ValueError:
        return f"type {value}"


def fdinfo(fd: int) -> dict[str, str]:
    """The ``/proc/self/fdinfo`` fields of ``fd`` (``memlock``, ``map_ids`` ...)."""
    out: dict[str, str] = {}
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key.strip()] = value.strip()
    except OSError:
        pass
    return out


def boot_to_wall(ns_since_boot: int) -> float:
    """A CLOCK_BOOTTIME stamp (program load time) as seconds since the epoch."""
    return (
        time.clock_gettime(time.CLOCK_REALTIME)
        - time.clock_gettime(time.CLOCK_BOOTTIME)
        + ns_since_boot / 1e9
    )


@dataclass(frozen=True)
class ProgRecord:
    """One loaded program: bpftool's ``prog show`` fields plus verified instructions."""

    info: bi.ProgInfo
    memlock: int
    loaded_at: float

    @property
    def type_name(self) -> str:
        """bpftool's spelling of the program type (``tracepoint``, ``perf_event`` ...)."""
        return _type_name(ProgType, self.info.type)

    @property
    def avg_ns(self) -> int | None:
        """Mean run time per event in ns, when run-time statistics were on."""
        if not self.info.run_cnt:
            return None
        return self.info.run_time_ns // self.info.run_cnt

    def as_json(self) -> dict[str, Any]:
        """bpftool ``prog show -j`` object (plus ``verified_insns``)."""
        i = self.info
        d: dict[str, Any] = {"id": i.id, "type": self.type_name}
        if i.name:
            d["name"] = i.name
        d["tag"] = i.tag
        d["gpl_compatible"] = i.gpl_compatible
        if i.run_time_ns:
            d["run_time_ns"] = i.run_time_ns
            d["run_cnt"] = i.run_cnt
        if i.recursion_misses:
            d["recursion_misses"] = i.recursion_misses
        d["loaded_at"] = int(self.loaded_at)
        d["uid"] = i.created_by_uid
        d["bytes_xlated"] = i.xlated_prog_len
        d["jited"] = bool(i.jited_prog_len)
        if i.jited_prog_len:
            d["bytes_jited"] = i.jited_prog_len
        d["bytes_memlock"] = self.memlock
        if i.map_ids:
            d["map_ids"] = list(i.map_ids)
        if i.btf_id:
            d["btf_id"] = i.btf_id
        d["verified_insns"] = i.verified_insns
        return d


@dataclass(frozen=True)
class MapRecord:
    """One map: bpftool's ``map show`` fields."""

    info: bi.MapInfo
    memlock: int
    frozen: bool

    @property
    def type_name(self) -> str:
        """bpftool's spelling of the map type."""
        return _type_name(MapType, self.info.type)

    @property
    def per_cpu(self) -> bool:
        """True for the per-CPU map types (one value per possible CPU)."""
        return self.info.type in (
            MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH,
            MapType.PERCPU_CGROUP_STORAGE,
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """bpftool ``map show -j`` object."""
        i = self.info
        d: dict[str, Any] = {"id": i.id, "type": self.type_name}
        if i.name:
            d["name"] = i.name
        d.update(
            flags=i.flags, bytes_key=i.key_size, bytes_value=i.value_size,
            max_entries=i.max_entries, bytes_memlock=self.memlock, frozen=int(self.frozen),
        )  # fmt: skip
        if i.btf_id:
            d["btf_id"] = i.btf_id
        return d


@dataclass(frozen=True)
class LinkRecord:
    """One link: its type, id, program and the type-specific details bpftool prints."""

    info: bi.LinkInfo
    details: dict[str, int | str] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        """bpftool's spelling of the link type."""
        return _type_name(LinkType, self.info.type)

    def as_json(self) -> dict[str, Any]:
        """bpftool ``link show -j`` object."""
        d: dict[str, Any] = {
            "id": self.info.id,
            "type": self.type_name,
            "prog_id": self.info.prog_id,
        }
        d.update(self.details)
        return d


def open_id(kind: bi.ObjKind, obj_id: int) -> Fd | None:
    """An owned fd for object ``obj_id``, or ``None`` if it has gone."""
    try:
        return bi.fd_by_id(kind, obj_id)
    except KernelError as e:
        if e.errno == errno.ENOENT:
            return None
        raise


def prog_record(fd: Fd) -> ProgRecord:
    """The record for the program behind ``fd``."""
    info = bi.prog_info(fd.fd)
    memlock = int(fdinfo(fd.fd).get("memlock", "0") or 0)
    return ProgRecord(info, memlock, boot_to_wall(info.load_time))


def map_record(fd: Fd) -> MapRecord:
    """The record for the map behind ``fd``."""
    fi = fdinfo(fd.fd)
    return MapRecord(bi.map_info(fd.fd), int(fi.get("memlock", "0") or 0), fi.get("frozen") == "1")


def link_record(fd: Fd) -> LinkRecord:
    """The record for the link behind ``fd``, with its attach details where known."""
    info = bi.link_info(fd.fd)
    details: dict[str, int | str] = {}
    if info.type == LinkType.TRACING and info.attach_type is not None:
        try:
            details["attach_type"] = AttachType(info.attach_type).name.lower()
        except ValueError:
            details["attach_type"] = info.attach_type
    return LinkRecord(info, details)


def _records(kind: bi.ObjKind, obj_id: int | None, make: Any) -> Iterator[Any]:
    wanted = [obj_id] if obj_id is not None else list(bi.ids(kind))
    for i in wanted:
        fd = open_id(kind, i)
        if fd is None:
            if obj_id is not None:
                raise UsageError(f"no {kind.name.lower()} with id {obj_id}")
            continue
        with fd:
            yield make(fd)


def prog_records(prog_id: int | None = None) -> Iterator[ProgRecord]:
    """Every loaded program (or the one with ``prog_id``), in id order."""
    return _records(bi.ObjKind.PROG, prog_id, prog_record)


def map_records(map_id: int | None = None) -> Iterator[MapRecord]:
    """Every map (or the one with ``map_id``), in id order."""
    return _records(bi.ObjKind.MAP, map_id, map_record)


def link_records(link_id: int | None = None) -> Iterator[LinkRecord]:
    """Every link (or the one with ``link_id``), in id order."""
    return _records(bi.ObjKind.LINK, link_id, link_record)
