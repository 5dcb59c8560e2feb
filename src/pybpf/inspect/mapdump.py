"""Reading every entry of a map someone else created (``map dump``)."""

from __future__ import annotations

from typing import Any

from pybpf.bpf import info as bi
from pybpf.bpf.maps import Map
from pybpf.bpf.syscall import MapType
from pybpf.errors import UsageError
from pybpf.inspect.records import MapRecord, map_record, open_id

# Map types whose entries cannot be read by key from user space.
_NOT_DUMPABLE = {MapType.RINGBUF, MapType.PERF_EVENT_ARRAY, MapType.PROG_ARRAY}


def entries(map_id: int) -> tuple[MapRecord, list[tuple[bytes, bytes | list[bytes]]]]:
    """The map's record and its (key, value) pairs; per-CPU values are lists."""
    fd = open_id(bi.ObjKind.MAP, map_id)
    if fd is None:
        raise UsageError(f"no map with id {map_id}")
    rec = map_record(fd)
    if rec.info.type in _NOT_DUMPABLE:
        fd.close()
        raise UsageError(f"map {map_id} ({rec.type_name}) has no entries to dump")
    with Map.from_fd(fd) as m:
        out = []
        for key in list(m.keys()):
            value = m.lookup(key)
            if value is not None:  # deleted while we walked
                out.append((key, value))
    return rec, out


def _hex(data: bytes) -> list[str]:
    return [f"0x{b:02x}" for b in data]


def entry_json(key: bytes, value: bytes | list[bytes]) -> dict[str, Any]:
    """bpftool's ``map dump -j`` object for one entry of a map without BTF."""
    if isinstance(value, list):
        return {
            "key": _hex(key),
            "values": [{"cpu": c, "value": _hex(v)} for c, v in enumerate(value)],
        }
    return {"key": _hex(key), "value": _hex(value)}
