"""Object info and ids: what the kernel says about programs, maps, links and BTF.

``prog_info(fd)`` and friends wrap ``BPF_OBJ_GET_INFO_BY_FD``; ``ids(kind)`` walks
``BPF_*_GET_NEXT_ID``; ``fd_by_id(kind, id)`` opens an owned fd to an object someone else
loaded (the inspector's way in). ``enable_stats()`` switches on run-time accounting.
"""

from __future__ import annotations

import errno as E
import struct
from collections.abc import Iterator
from contextlib import suppress
from enum import Enum, IntEnum

from pybpf.bpf import syscall as sc
from pybpf.bpf.errs import kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import Cmd, LinkType, MapType, ProgType, StatsType
from pybpf.errors import KernelError
from pybpf.records import dataclass, field

_PROG_INFO_SIZE = 232
_MAP_INFO_SIZE = 104
_LINK_INFO_SIZE = 96
_BTF_INFO_SIZE = 32


class ObjKind(Enum):
    """Kinds of kernel BPF objects that have ids: (next-id command, fd-by-id command, fd kind)."""

    PROG = (Cmd.PROG_GET_NEXT_ID, Cmd.PROG_GET_FD_BY_ID, "bpf-prog")
    MAP = (Cmd.MAP_GET_NEXT_ID, Cmd.MAP_GET_FD_BY_ID, "bpf-map")
    LINK = (Cmd.LINK_GET_NEXT_ID, Cmd.LINK_GET_FD_BY_ID, "bpf-link")
    BTF = (Cmd.BTF_GET_NEXT_ID, Cmd.BTF_GET_FD_BY_ID, "btf")


def _enum(cls: type[ProgType] | type[MapType] | type[LinkType], v: int) -> int:
    try:
        return cls(v)
    except ValueError:
        return v  # a type newer than this table: keep the number


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def _get_info(fd: int, buf: bytearray, what: str) -> None:
    a = sc.attr_buffer()
    struct.pack_into("<IIQ", a, 0, fd, len(buf), sc.address_of(buf))
    try:
        sc.bpf(Cmd.OBJ_GET_INFO_BY_FD, a)
    except OSError as e:
        raise kernel_error(f"{what} info", e) from None


@dataclass(frozen=True)
class ProgInfo:
    """``struct bpf_prog_info``, the fields pybpf uses."""

    type: int
    id: int
    tag: str
    name: str
    jited_prog_len: int
    xlated_prog_len: int
    load_time: int
    created_by_uid: int
    map_ids: tuple[int, ...]
    gpl_compatible: bool
    btf_id: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    verified_insns: int
    attach_btf_obj_id: int
    attach_btf_id: int
    xlated: bytes | None = field(default=None, repr=False)
    jited: bytes | None = field(default=None, repr=False)


def prog_info(fd: int, xlated: bool = False, jited: bool = False) -> ProgInfo:
    """Info for the program behind ``fd``; ``xlated``/``jited`` also fetch the code bytes."""
    buf = bytearray(_PROG_INFO_SIZE)
    _get_info(fd, buf, "program")
    nmaps = struct.unpack_from("<I", buf, 52)[0]
    jlen, xlen = struct.unpack_from("<II", buf, 16)
    map_ids = bytearray(4 * nmaps)
    xbuf = bytearray(xlen if xlated else 0)
    jbuf = bytearray(jlen if jited else 0)
    if nmaps or xbuf or jbuf:
        # Second pass: give the kernel room for exactly the arrays we asked for.
        buf2 = bytearray(_PROG_INFO_SIZE)
        struct.pack_into("<II", buf2, 16, len(jbuf), len(xbuf))
        struct.pack_into("<QQ", buf2, 24, sc.address_of(jbuf), sc.address_of(xbuf))
        struct.pack_into("<IQ", buf2, 52, nmaps, sc.address_of(map_ids))
        _get_info(fd, buf2, "program")
    (ptype, pid) = struct.unpack_from("<II", buf, 0)
    (load_time, uid) = struct.unpack_from("<QI", buf, 40)
    run = struct.unpack_from("<QQQIII", buf, 192)
    return ProgInfo(
        type=_enum(ProgType, ptype),
        id=pid,
        tag=bytes(buf[8:16]).hex(),
        name=_cstr(bytes(buf[64:80])),
        jited_prog_len=struct.unpack_from("<I", buf, 16)[0],
        xlated_prog_len=struct.unpack_from("<I", buf, 20)[0],
        load_time=load_time,
        created_by_uid=uid,
        map_ids=struct.unpack(f"<{nmaps}I", map_ids),
        gpl_compatible=bool(struct.unpack_from("<I", buf, 84)[0] & 1),
        btf_id=struct.unpack_from("<I", buf, 128)[0],
        run_time_ns=run[0],
        run_cnt=run[1],
        recursion_misses=run[2],
        verified_insns=run[3],
        attach_btf_obj_id=run[4],
        attach_btf_id=run[5],
        xlated=bytes(xbuf) if xlated else None,
        jited=bytes(jbuf) if jited else None,
    )


def prog_line_info(fd: int) -> tuple[int, list[tuple[int, int, int, int]]]:
    """The program's BTF id and its ``bpf_line_info`` records.

    Each record is (insn_off, file_name_off, line_off, line_col); the offsets index the
    string section of the program's BTF (``btf_info(..., data=True)``), ``line_col`` is
    ``line << 10 | column``. A program loaded without line info gives ``(btf_id, [])``.
    """
    buf = bytearray(_PROG_INFO_SIZE)
    _get_info(fd, buf, "program")
    btf_id = struct.unpack_from("<I", buf, 128)[0]
    count = struct.unpack_from("<I", buf, 148)[0]
    rec_size = struct.unpack_from("<I", buf, 172)[0] or 16
    if not count:
        return btf_id, []
    recs = bytearray(count * rec_size)
    buf2 = bytearray(_PROG_INFO_SIZE)
    struct.pack_into("<I", buf2, 148, count)
    struct.pack_into("<Q", buf2, 152, sc.address_of(recs))
    struct.pack_into("<I", buf2, 172, rec_size)
    _get_info(fd, buf2, "program")
    out = [struct.unpack_from("<IIII", recs, i * rec_size) for i in range(count)]
    return btf_id, out


@dataclass(frozen=True)
class MapInfo:
    """``struct bpf_map_info``."""

    type: int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    name: str
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    map_extra: int


def map_info(fd: int) -> MapInfo:
    """Info for the map behind ``fd``."""
    buf = bytearray(_MAP_INFO_SIZE)
    _get_info(fd, buf, "map")
    t, i, k, v, n, f = struct.unpack_from("<6I", buf, 0)
    btf_id, bk, bv = struct.unpack_from("<3I", buf, 64)
    return MapInfo(
        _enum(MapType, t), i, k, v, n, f, _cstr(bytes(buf[24:40])), btf_id, bk, bv,
        struct.unpack_from("<Q", buf, 80)[0],
    )  # fmt: skip


class PerfEventKind(IntEnum):
    """``enum bpf_perf_event_type``: what a perf-event link is attached to."""

    UNSPEC = 0
    UPROBE = 1
    URETPROBE = 2
    KPROBE = 3
    KRETPROBE = 4
    TRACEPOINT = 5
    EVENT = 6


@dataclass(frozen=True)
class LinkInfo:
    """``struct bpf_link_info``: the common part, the raw type-specific union, and the
    decoded ``details`` for the link types pybpf creates (names fetched from the kernel)."""

    type: int
    id: int
    prog_id: int
    extra: bytes = field(repr=False, default=b"")
    details: dict[str, int | str] = field(default_factory=dict)

    @property
    def attach_type(self) -> int | None:
        """Attach type for tracing and cgroup-like links, where the union carries one."""
        if self.type == LinkType.TRACING:
            return int(struct.unpack_from("<I", self.extra, 0)[0])
        return None


# Where each link type keeps a name pointer/length pair in the union (offsets from the start
# of bpf_link_info), for the second info call that fetches the name.
_NAME_FIELDS: dict[int, tuple[int, int]] = {
    LinkType.RAW_TRACEPOINT: (16, 24),
    LinkType.ITER: (16, 24),
    LinkType.UPROBE_MULTI: (16, 48),
}
_PERF_NAME_KINDS = {PerfEventKind.UPROBE, PerfEventKind.URETPROBE, PerfEventKind.KPROBE,
                    PerfEventKind.KRETPROBE, PerfEventKind.TRACEPOINT}  # fmt: skip


def link_info(fd: int) -> LinkInfo:
    """Info for the link behind ``fd``, with names (tracepoint, file, iterator) decoded."""
    buf = bytearray(_LINK_INFO_SIZE)
    _get_info(fd, buf, "link")
    t, i, p = struct.unpack_from("<3I", buf, 0)
    name = _link_name(fd, t, buf)
    return LinkInfo(_enum(LinkType, t), i, p, bytes(buf[16:]), _link_details(t, buf, name))


def _link_name(fd: int, ltype: int, first: bytearray) -> str:
    """Second info call with a buffer for the name the first call measured."""
    if ltype == LinkType.PERF_EVENT:
        kind = struct.unpack_from("<I", first, 16)[0]
        if kind not in _PERF_NAME_KINDS:
            return ""
        ptr_at, len_at = 24, 32
    elif ltype in _NAME_FIELDS:
        ptr_at, len_at = _NAME_FIELDS[ltype]
    else:
        return ""
    size = struct.unpack_from("<I", first, len_at)[0]
    if not size:
        return ""
    name = bytearray(size + 1)
    buf = bytearray(_LINK_INFO_SIZE)
    if ltype == LinkType.PERF_EVENT:
        struct.pack_into("<I", buf, 16, struct.unpack_from("<I", first, 16)[0])
    struct.pack_into("<Q", buf, ptr_at, sc.address_of(name))
    struct.pack_into("<I", buf, len_at, len(name))
    try:
        _get_info(fd, buf, "link")
    except KernelError:
        return ""
    return _cstr(bytes(name))


def _link_details(ltype: int, b: bytearray, name: str) -> dict[str, int | str]:
    def u32(off: int) -> int:
        return int(struct.unpack_from("<I", b, off)[0])

    def u64(off: int) -> int:
        return int(struct.unpack_from("<Q", b, off)[0])

    if ltype == LinkType.RAW_TRACEPOINT:
        return {"tp_name": name}
    if ltype == LinkType.TRACING:
        return {"attach_type": u32(16), "target_obj_id": u32(20), "target_btf_id": u32(24)}
    if ltype == LinkType.ITER:
        return {"target_name": name}
    if ltype == LinkType.CGROUP:
        return {"cgroup_id": u64(16), "attach_type": u32(24)}
    if ltype == LinkType.UPROBE_MULTI:
        return {"path": name, "count": u32(52), "flags": u32(56), "pid": u32(60)}
    if ltype == LinkType.PERF_EVENT:
        kind = u32(16)
        out: dict[str, int | str] = {"event_type": kind}
        with suppress(ValueError):
            out["event_type"] = PerfEventKind(kind).name.lower()
        if kind in (PerfEventKind.UPROBE, PerfEventKind.URETPROBE):
            out.update(file_name=name, offset=u32(36), cookie=u64(40))
        elif kind in (PerfEventKind.KPROBE, PerfEventKind.KRETPROBE):
            out.update(func_name=name, offset=u32(36), addr=u64(40))
        elif kind == PerfEventKind.TRACEPOINT:
            out.update(tp_name=name, cookie=u64(40))
        elif kind == PerfEventKind.EVENT:
            out.update(config=u64(24), perf_type=u32(32), cookie=u64(40))
        return out
    return {}


@dataclass(frozen=True)
class BtfInfo:
    """``struct bpf_btf_info``; ``data`` holds the raw BTF when asked for."""

    id: int
    size: int
    name: str
    kernel_btf: bool
    data: bytes | None = field(default=None, repr=False)


def btf_info(fd: int, data: bool = False) -> BtfInfo:
    """Info for the BTF object behind ``fd``; ``data`` also fetches its bytes."""
    name = bytearray(64)
    buf = bytearray(_BTF_INFO_SIZE)
    struct.pack_into("<QIIQI", buf, 0, 0, 0, 0, sc.address_of(name), len(name))
    _get_info(fd, buf, "btf")
    size, bid = struct.unpack_from("<II", buf, 8)
    raw = bytearray(size if data else 0)
    if data and size:
        buf2 = bytearray(_BTF_INFO_SIZE)
        struct.pack_into("<QI", buf2, 0, sc.address_of(raw), size)
        _get_info(fd, buf2, "btf")
    kern = bool(struct.unpack_from("<I", buf, 28)[0])
    return BtfInfo(bid, size, _cstr(bytes(name)), kern, bytes(raw) if data else None)


def next_id(kind: ObjKind, start: int = 0) -> int | None:
    """The next id of ``kind`` after ``start``, or ``None`` when there is none."""
    a = sc.attr_buffer()
    struct.pack_into("<I", a, 0, start)
    try:
        sc.bpf(kind.value[0], a)
    except OSError as e:
        if e.errno == E.ENOENT:
            return None
        raise kernel_error(f"list {kind.name.lower()} ids", e) from None
    nid: int = struct.unpack_from("<I", a, 4)[0]
    return nid


def ids(kind: ObjKind) -> Iterator[int]:
    """Every id of ``kind`` currently in the kernel, ascending."""
    cur = next_id(kind, 0)
    while cur is not None:
        yield cur
        cur = next_id(kind, cur)


def fd_by_id(kind: ObjKind, obj_id: int) -> Fd:
    """An owned fd for object ``obj_id``; ``KernelError`` with errno ENOENT if it is gone."""
    a = sc.attr_buffer()
    struct.pack_into("<I", a, 0, obj_id)
    try:
        fd = sc.bpf(kind.value[1], a)
    except OSError as e:
        raise kernel_error(f"open {kind.name.lower()} id {obj_id}", e) from None
    return Fd(fd, kind.value[2])


def exists(kind: ObjKind, obj_id: int) -> bool:
    """True while the kernel still has object ``obj_id`` of ``kind``."""
    try:
        fd_by_id(kind, obj_id).close()
    except KernelError as e:
        if e.errno == E.ENOENT:
            return False
        raise
    return True


def gone(kind: ObjKind, obj_id: int, wait: float = 5.0) -> bool:
    """True once object ``obj_id`` has left the kernel, waiting up to ``wait`` seconds.

    The kernel frees maps and programs asynchronously (RCU, work queues) after the last
    reference goes, so "closed" and "gone" are a short moment apart.
    """
    import time

    deadline = time.monotonic() + wait
    while exists(kind, obj_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def enable_stats(kind: StatsType = StatsType.RUN_TIME) -> Fd:
    """Switch on run-time statistics while the returned fd stays open."""
    a = sc.attr_buffer()
    struct.pack_into("<I", a, 0, kind)
    try:
        return Fd(sc.bpf(Cmd.ENABLE_STATS, a), "bpf-stats")
    except OSError as e:
        raise kernel_error("enable bpf stats", e) from None


_STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


def stats_sysctl() -> bool:
    """The ``kernel.bpf_stats_enabled`` sysctl."""
    with open(_STATS_SYSCTL) as f:
        return f.read().strip() == "1"


def set_stats_sysctl(on: bool) -> None:
    """Set ``kernel.bpf_stats_enabled`` (global and sticky: prefer :func:`enable_stats`)."""
    try:
        with open(_STATS_SYSCTL, "w") as f:
            f.write("1" if on else "0")
    except OSError as e:
        raise kernel_error("set kernel.bpf_stats_enabled", e) from None


__all__ = [
    "BtfInfo",
    "LinkInfo",
    "MapInfo",
    "ObjKind",
    "PerfEventKind",
    "ProgInfo",
    "btf_info",
    "enable_stats",
    "exists",
    "fd_by_id",
    "gone",
    "ids",
    "link_info",
    "map_info",
    "next_id",
    "prog_info",
    "prog_line_info",
    "set_stats_sysctl",
    "stats_sysctl",
]
