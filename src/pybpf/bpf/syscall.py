"""The one place pybpf talks to the kernel through ctypes: ``bpf(2)``, ``perf_event_open(2)``.

Everything here is deliberately thin. Callers pack the ``union bpf_attr`` (or
``perf_event_attr``) into a ``bytearray`` with :mod:`struct`, pass pointers obtained from
:func:`address_of` (the bytearrays must stay alive and unresized during the call), and get
back the raw return value. Failures raise :class:`OSError` carrying the kernel's errno; the
layers above turn that into the :mod:`pybpf.errors` tree with context.

Kernel constants live here as ``IntEnum``/``IntFlag`` so they print by name.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import struct
from enum import IntEnum, IntFlag

# System call numbers per architecture; x86_64 is the machine we run on, aarch64 is cheap
# to carry along.
_NR = {
    "x86_64": {"bpf": 321, "perf_event_open": 298},
    "aarch64": {"bpf": 280, "perf_event_open": 241},
}

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


_MACHINE = os.uname().machine


def _nr(name: str) -> int:
    machine = _MACHINE
    table = _NR.get(machine)
    if table is None:
        raise OSError(38, f"{name}: unsupported architecture {machine}")
    return table[name]


class Cmd(IntEnum):
    """``enum bpf_cmd``."""

    MAP_CREATE = 0
    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    MAP_GET_NEXT_KEY = 4
    PROG_LOAD = 5
    OBJ_PIN = 6
    OBJ_GET = 7
    PROG_ATTACH = 8
    PROG_DETACH = 9
    PROG_TEST_RUN = 10
    PROG_GET_NEXT_ID = 11
    MAP_GET_NEXT_ID = 12
    PROG_GET_FD_BY_ID = 13
    MAP_GET_FD_BY_ID = 14
    OBJ_GET_INFO_BY_FD = 15
    PROG_QUERY = 16
    RAW_TRACEPOINT_OPEN = 17
    BTF_LOAD = 18
    BTF_GET_FD_BY_ID = 19
    TASK_FD_QUERY = 20
    MAP_LOOKUP_AND_DELETE_ELEM = 21
    MAP_FREEZE = 22
    BTF_GET_NEXT_ID = 23
    MAP_LOOKUP_BATCH = 24
    MAP_LOOKUP_AND_DELETE_BATCH = 25
    MAP_UPDATE_BATCH = 26
    MAP_DELETE_BATCH = 27
    LINK_CREATE = 28
    LINK_UPDATE = 29
    LINK_GET_FD_BY_ID = 30
    LINK_GET_NEXT_ID = 31
    ENABLE_STATS = 32
    ITER_CREATE = 33
    LINK_DETACH = 34
    PROG_BIND_MAP = 35


class MapType(IntEnum):
    """``enum bpf_map_type``."""

    UNSPEC = 0
    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    STACK_TRACE = 7
    CGROUP_ARRAY = 8
    LRU_HASH = 9
    LRU_PERCPU_HASH = 10
    LPM_TRIE = 11
    ARRAY_OF_MAPS = 12
    HASH_OF_MAPS = 13
    DEVMAP = 14
    SOCKMAP = 15
    CPUMAP = 16
    XSKMAP = 17
    SOCKHASH = 18
    CGROUP_STORAGE = 19
    REUSEPORT_SOCKARRAY = 20
    PERCPU_CGROUP_STORAGE = 21
    QUEUE = 22
    STACK = 23
    SK_STORAGE = 24
    DEVMAP_HASH = 25
    STRUCT_OPS = 26
    RINGBUF = 27
    INODE_STORAGE = 28
    TASK_STORAGE = 29
    BLOOM_FILTER = 30
    USER_RINGBUF = 31
    CGRP_STORAGE = 32
    ARENA = 33


class ProgType(IntEnum):
    """``enum bpf_prog_type``."""

    UNSPEC = 0
    SOCKET_FILTER = 1
    KPROBE = 2
    SCHED_CLS = 3
    SCHED_ACT = 4
    TRACEPOINT = 5
    XDP = 6
    PERF_EVENT = 7
    CGROUP_SKB = 8
    CGROUP_SOCK = 9
    LWT_IN = 10
    LWT_OUT = 11
    LWT_XMIT = 12
    SOCK_OPS = 13
    SK_SKB = 14
    CGROUP_DEVICE = 15
    SK_MSG = 16
    RAW_TRACEPOINT = 17
    CGROUP_SOCK_ADDR = 18
    LWT_SEG6LOCAL = 19
    LIRC_MODE2 = 20
    SK_REUSEPORT = 21
    FLOW_DISSECTOR = 22
    CGROUP_SYSCTL = 23
    RAW_TRACEPOINT_WRITABLE = 24
    CGROUP_SOCKOPT = 25
    TRACING = 26
    STRUCT_OPS = 27
    EXT = 28
    LSM = 29
    SK_LOOKUP = 30
    SYSCALL = 31
    NETFILTER = 32


class AttachType(IntEnum):
    """``enum bpf_attach_type``."""

    CGROUP_INET_INGRESS = 0
    CGROUP_INET_EGRESS = 1
    CGROUP_INET_SOCK_CREATE = 2
    CGROUP_SOCK_OPS = 3
    SK_SKB_STREAM_PARSER = 4
    SK_SKB_STREAM_VERDICT = 5
    CGROUP_DEVICE = 6
    SK_MSG_VERDICT = 7
    CGROUP_INET4_BIND = 8
    CGROUP_INET6_BIND = 9
    CGROUP_INET4_CONNECT = 10
    CGROUP_INET6_CONNECT = 11
    CGROUP_INET4_POST_BIND = 12
    CGROUP_INET6_POST_BIND = 13
    CGROUP_UDP4_SENDMSG = 14
    CGROUP_UDP6_SENDMSG = 15
    LIRC_MODE2 = 16
    FLOW_DISSECTOR = 17
    CGROUP_SYSCTL = 18
    CGROUP_UDP4_RECVMSG = 19
    CGROUP_UDP6_RECVMSG = 20
    CGROUP_GETSOCKOPT = 21
    CGROUP_SETSOCKOPT = 22
    TRACE_RAW_TP = 23
    TRACE_FENTRY = 24
    TRACE_FEXIT = 25
    MODIFY_RETURN = 26
    LSM_MAC = 27
    TRACE_ITER = 28
    CGROUP_INET4_GETPEERNAME = 29
    CGROUP_INET6_GETPEERNAME = 30
    CGROUP_INET4_GETSOCKNAME = 31
    CGROUP_INET6_GETSOCKNAME = 32
    XDP_DEVMAP = 33
    CGROUP_INET_SOCK_RELEASE = 34
    XDP_CPUMAP = 35
    SK_LOOKUP = 36
    XDP = 37
    SK_SKB_VERDICT = 38
    SK_REUSEPORT_SELECT = 39
    SK_REUSEPORT_SELECT_OR_MIGRATE = 40
    PERF_EVENT = 41
    TRACE_KPROBE_MULTI = 42
    LSM_CGROUP = 43
    STRUCT_OPS = 44
    NETFILTER = 45
    TCX_INGRESS = 46
    TCX_EGRESS = 47
    TRACE_UPROBE_MULTI = 48
    CGROUP_UNIX_CONNECT = 49
    CGROUP_UNIX_SENDMSG = 50
    CGROUP_UNIX_RECVMSG = 51
    CGROUP_UNIX_GETPEERNAME = 52
    CGROUP_UNIX_GETSOCKNAME = 53
    NETKIT_PRIMARY = 54
    NETKIT_PEER = 55
    TRACE_KPROBE_SESSION = 56
    TRACE_UPROBE_SESSION = 57


class LinkType(IntEnum):
    """``enum bpf_link_type``."""

    UNSPEC = 0
    RAW_TRACEPOINT = 1
    TRACING = 2
    CGROUP = 3
    ITER = 4
    NETNS = 5
    XDP = 6
    PERF_EVENT = 7
    KPROBE_MULTI = 8
    STRUCT_OPS = 9
    NETFILTER = 10
    TCX = 11
    UPROBE_MULTI = 12
    NETKIT = 13
    SOCKMAP = 14


class MapFlags(IntFlag):
    """``map_flags`` bits for ``BPF_MAP_CREATE``."""

    NONE = 0
    NO_PREALLOC = 1 << 0
    NO_COMMON_LRU = 1 << 1
    NUMA_NODE = 1 << 2
    RDONLY = 1 << 3
    WRONLY = 1 << 4
    STACK_BUILD_ID = 1 << 5
    ZERO_SEED = 1 << 6
    RDONLY_PROG = 1 << 7
    WRONLY_PROG = 1 << 8
    CLONE = 1 << 9
    MMAPABLE = 1 << 10


class UpdateFlag(IntEnum):
    """``flags`` of ``BPF_MAP_UPDATE_ELEM``."""

    ANY = 0
    NOEXIST = 1
    EXIST = 2
    F_LOCK = 4


class ProgFlags(IntFlag):
    """``prog_flags`` bits for ``BPF_PROG_LOAD``."""

    NONE = 0
    STRICT_ALIGNMENT = 1 << 0
    ANY_ALIGNMENT = 1 << 1
    TEST_RND_HI32 = 1 << 2
    TEST_STATE_FREQ = 1 << 3
    SLEEPABLE = 1 << 4
    XDP_HAS_FRAGS = 1 << 5


class StatsType(IntEnum):
    """``enum bpf_stats_type`` for ``BPF_ENABLE_STATS``."""

    RUN_TIME = 0


class PerfType(IntEnum):
    """``perf_event_attr.type`` (fixed PMUs; dynamic ones such as uprobe come from sysfs)."""

    HARDWARE = 0
    SOFTWARE = 1
    TRACEPOINT = 2
    HW_CACHE = 3
    RAW = 4
    BREAKPOINT = 5


class PerfSw(IntEnum):
    """``enum perf_sw_ids``: software event configs."""

    CPU_CLOCK = 0
    TASK_CLOCK = 1
    PAGE_FAULTS = 2
    CONTEXT_SWITCHES = 3
    CPU_MIGRATIONS = 4
    PAGE_FAULTS_MIN = 5
    PAGE_FAULTS_MAJ = 6
    ALIGNMENT_FAULTS = 7
    EMULATION_FAULTS = 8
    DUMMY = 9
    BPF_OUTPUT = 10
    CGROUP_SWITCHES = 11


class PerfHw(IntEnum):
    """``enum perf_hw_id``: hardware event configs."""

    CPU_CYCLES = 0
    INSTRUCTIONS = 1
    CACHE_REFERENCES = 2
    CACHE_MISSES = 3
    BRANCH_INSTRUCTIONS = 4
    BRANCH_MISSES = 5
    BUS_CYCLES = 6
    STALLED_CYCLES_FRONTEND = 7
    STALLED_CYCLES_BACKEND = 8
    REF_CPU_CYCLES = 9


class PerfSample(IntFlag):
    """``perf_event_attr.sample_type`` bits."""

    NONE = 0
    IP = 1 << 0
    TID = 1 << 1
    TIME = 1 << 2
    ADDR = 1 << 3
    READ = 1 << 4
    CALLCHAIN = 1 << 5
    ID = 1 << 6
    CPU = 1 << 7
    PERIOD = 1 << 8
    STREAM_ID = 1 << 9
    RAW = 1 << 10


class PerfFlag(IntFlag):
    """The bit-field word of ``perf_event_attr`` (offset 40)."""

    NONE = 0
    DISABLED = 1 << 0
    INHERIT = 1 << 1
    PINNED = 1 << 2
    EXCLUSIVE = 1 << 3
    EXCLUDE_USER = 1 << 4
    EXCLUDE_KERNEL = 1 << 5
    EXCLUDE_HV = 1 << 6
    EXCLUDE_IDLE = 1 << 7
    MMAP = 1 << 8
    COMM = 1 << 9
    FREQ = 1 << 10
    INHERIT_STAT = 1 << 11
    ENABLE_ON_EXEC = 1 << 12
    TASK = 1 << 13
    WATERMARK = 1 << 14


class PerfRecord(IntEnum):
    """``perf_event_header.type`` values the readers care about."""

    LOST = 2
    SAMPLE = 9


PERF_FLAG_FD_CLOEXEC = 1 << 3
PERF_ATTR_SIZE = 136
"""``PERF_ATTR_SIZE_VER8``; the kernel accepts any known size with zero tail."""

BPF_ATTR_SIZE = 160
"""Size of the zero-filled buffer every ``bpf(2)`` command is given (>= any layout used)."""

# ioctl requests on perf event fds: _IO('$', 0), _IO('$', 1), _IOW('$', 8, u32), _IOR('$', 7, u64)
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401
PERF_EVENT_IOC_SET_BPF = 0x40042408
PERF_EVENT_IOC_ID = 0x80082407


def attr_buffer(size: int = BPF_ATTR_SIZE) -> bytearray:
    """A zeroed attribute buffer (the kernel insists that unused tail bytes are zero)."""
    return bytearray(size)


def address_of(buf: bytearray | None) -> int:
    """User-space address of ``buf``'s storage, for pointer fields (0 for ``None``/empty).

    The caller must keep ``buf`` alive and must not resize it until the system call returns.
    """
    if not buf:
        return 0
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


def _raise_errno(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


def bpf(cmd: Cmd, attr: bytearray) -> int:
    """``bpf(cmd, &attr, len(attr))``; returns the result (an fd for creating commands)."""
    ret: int = _syscall(
        ctypes.c_long(_nr("bpf")),
        ctypes.c_long(int(cmd)),
        ctypes.c_void_p(address_of(attr)),
        ctypes.c_long(len(attr)),
    )
    if ret < 0:
        _raise_errno(f"bpf({Cmd(cmd).name})")
    return ret


def perf_event_open(
    attr: bytearray, pid: int, cpu: int, group_fd: int = -1, flags: int = PERF_FLAG_FD_CLOEXEC
) -> int:
    """``perf_event_open(&attr, pid, cpu, group_fd, flags)``; returns the new fd."""
    ret: int = _syscall(
        ctypes.c_long(_nr("perf_event_open")),
        ctypes.c_void_p(address_of(attr)),
        ctypes.c_long(pid),
        ctypes.c_long(cpu),
        ctypes.c_long(group_fd),
        ctypes.c_ulong(flags),
    )
    if ret < 0:
        _raise_errno("perf_event_open")
    return ret


def perf_ioctl(fd: int, request: int, arg: int = 0) -> int:
    """An integer-argument ioctl on a perf event fd (enable, disable, set BPF program)."""
    return fcntl.ioctl(fd, request, arg)


def perf_event_id(fd: int) -> int:
    """The kernel's id of a perf event (``PERF_EVENT_IOC_ID``)."""
    out = bytearray(8)
    fcntl.ioctl(fd, PERF_EVENT_IOC_ID, out, True)
    value: int = struct.unpack("<Q", out)[0]
    return value


__all__ = [
    "BPF_ATTR_SIZE",
    "PERF_ATTR_SIZE",
    "PERF_EVENT_IOC_DISABLE",
    "PERF_EVENT_IOC_ENABLE",
    "PERF_EVENT_IOC_ID",
    "PERF_EVENT_IOC_SET_BPF",
    "PERF_FLAG_FD_CLOEXEC",
    "AttachType",
    "Cmd",
    "LinkType",
    "MapFlags",
    "MapType",
    "PerfFlag",
    "PerfHw",
    "PerfRecord",
    "PerfSample",
    "PerfSw",
    "PerfType",
    "ProgFlags",
    "ProgType",
    "StatsType",
    "UpdateFlag",
    "address_of",
    "attr_buffer",
    "bpf",
    "perf_event_id",
    "perf_event_open",
    "perf_ioctl",
]
