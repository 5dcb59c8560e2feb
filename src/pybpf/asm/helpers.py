"""The helper registry: every helper id and name, and argument/return kinds for the ones we use.

Names cover every id the running kernel knows (0..211 on 6.18). Specs (what each argument
must be, what the helper returns) exist for the helpers pybpf's code generator, VM and
verifier care about; they mirror the kernel's ``bpf_func_proto`` tables in meaning.
"""

from __future__ import annotations

from enum import Enum

from pybpf.asm._helper_names import HELPER_NAMES
from pybpf.records import dataclass


class ArgKind(Enum):
    """What a helper argument register must hold when the call is made."""

    ANYTHING = "anything"  # any initialised scalar or pointer
    CONST_MAP_PTR = "const_map_ptr"  # a map loaded with lddw (pseudo map fd)
    PTR_TO_MAP_KEY = "ptr_to_map_key"  # readable memory of the map's key size
    PTR_TO_MAP_VALUE = "ptr_to_map_value"  # readable memory of the map's value size
    PTR_TO_MEM = "ptr_to_mem"  # readable memory; size in the next argument
    PTR_TO_MEM_OR_NULL = "ptr_to_mem_or_null"
    PTR_TO_UNINIT_MEM = "ptr_to_uninit_mem"  # writable memory; size in the next argument
    CONST_SIZE = "const_size"  # a known, positive size for the previous pointer
    CONST_SIZE_OR_ZERO = "const_size_or_zero"
    CONST_ALLOC_SIZE_OR_ZERO = "const_alloc_size_or_zero"  # ringbuf_reserve's size
    PTR_TO_CTX = "ptr_to_ctx"  # the program's context (r1 at entry)
    PTR_TO_CONST_STR = "ptr_to_const_str"  # NUL-terminated string in a read-only map
    PTR_TO_FUNC = "ptr_to_func"  # a subprogram address (lddw src=4)
    PTR_TO_STACK_OR_NULL = "ptr_to_stack_or_null"
    PTR_TO_RINGBUF_MEM = "ptr_to_ringbuf_mem"  # a record from ringbuf_reserve
    PTR_TO_BTF_ID = "ptr_to_btf_id"  # a typed kernel pointer


class RetKind(Enum):
    """What r0 holds after the call."""

    INTEGER = "integer"
    VOID = "void"  # r0 is unreadable after the call
    PTR_TO_MAP_VALUE_OR_NULL = "ptr_to_map_value_or_null"
    PTR_TO_RINGBUF_MEM_OR_NULL = "ptr_to_ringbuf_mem_or_null"
    PTR_TO_BTF_ID = "ptr_to_btf_id"
    PTR_TO_BTF_ID_OR_NULL = "ptr_to_btf_id_or_null"


@dataclass(frozen=True, slots=True)
class HelperSpec:
    """One helper's signature: ``args`` lists r1.. in order (variadic tails are unchecked)."""

    id: int
    name: str
    args: tuple[ArgKind, ...]
    ret: RetKind = RetKind.INTEGER
    gpl_only: bool = False


A = ArgKind
_PROBE_READ = (A.PTR_TO_UNINIT_MEM, A.CONST_SIZE_OR_ZERO, A.ANYTHING)

# name (without bpf_) -> (args, ret, gpl_only)
_SPECS: dict[str, tuple[tuple[ArgKind, ...], RetKind, bool]] = {
    "map_lookup_elem": (
        (A.CONST_MAP_PTR, A.PTR_TO_MAP_KEY),
        RetKind.PTR_TO_MAP_VALUE_OR_NULL,
        False,
    ),
    "map_update_elem": (
        (A.CONST_MAP_PTR, A.PTR_TO_MAP_KEY, A.PTR_TO_MAP_VALUE, A.ANYTHING),
        RetKind.INTEGER,
        False,
    ),
    "map_delete_elem": ((A.CONST_MAP_PTR, A.PTR_TO_MAP_KEY), RetKind.INTEGER, False),
    "probe_read": (_PROBE_READ, RetKind.INTEGER, True),
    "probe_read_str": (_PROBE_READ, RetKind.INTEGER, True),
    "probe_read_user": (_PROBE_READ, RetKind.INTEGER, True),
    "probe_read_kernel": (_PROBE_READ, RetKind.INTEGER, True),
    "probe_read_user_str": (_PROBE_READ, RetKind.INTEGER, True),
    "probe_read_kernel_str": (_PROBE_READ, RetKind.INTEGER, True),
    "ktime_get_ns": ((), RetKind.INTEGER, False),
    "ktime_get_boot_ns": ((), RetKind.INTEGER, False),
    "ktime_get_tai_ns": ((), RetKind.INTEGER, False),
    "ktime_get_coarse_ns": ((), RetKind.INTEGER, False),
    "jiffies64": ((), RetKind.INTEGER, False),
    "trace_printk": ((A.PTR_TO_MEM, A.CONST_SIZE), RetKind.INTEGER, True),
    "get_prandom_u32": ((), RetKind.INTEGER, False),
    "get_smp_processor_id": ((), RetKind.INTEGER, False),
    "get_numa_node_id": ((), RetKind.INTEGER, False),
    "tail_call": ((A.PTR_TO_CTX, A.CONST_MAP_PTR, A.ANYTHING), RetKind.VOID, False),
    "get_current_pid_tgid": ((), RetKind.INTEGER, False),
    "get_current_uid_gid": ((), RetKind.INTEGER, False),
    "get_current_comm": ((A.PTR_TO_UNINIT_MEM, A.CONST_SIZE), RetKind.INTEGER, False),
    "get_current_task": ((), RetKind.INTEGER, True),
    "get_current_task_btf": ((), RetKind.PTR_TO_BTF_ID, True),
    "get_current_cgroup_id": ((), RetKind.INTEGER, False),
    "perf_event_output": (
        (A.PTR_TO_CTX, A.CONST_MAP_PTR, A.ANYTHING, A.PTR_TO_MEM, A.CONST_SIZE_OR_ZERO),
        RetKind.INTEGER,
        True,
    ),
    "get_stackid": ((A.PTR_TO_CTX, A.CONST_MAP_PTR, A.ANYTHING), RetKind.INTEGER, True),
    "get_stack": (
        (A.PTR_TO_CTX, A.PTR_TO_UNINIT_MEM, A.CONST_SIZE_OR_ZERO, A.ANYTHING),
        RetKind.INTEGER,
        True,
    ),
    "ringbuf_output": (
        (A.CONST_MAP_PTR, A.PTR_TO_MEM, A.CONST_SIZE_OR_ZERO, A.ANYTHING),
        RetKind.INTEGER,
        False,
    ),
    "ringbuf_reserve": (
        (A.CONST_MAP_PTR, A.CONST_ALLOC_SIZE_OR_ZERO, A.ANYTHING),
        RetKind.PTR_TO_RINGBUF_MEM_OR_NULL,
        False,
    ),
    "ringbuf_submit": ((A.PTR_TO_RINGBUF_MEM, A.ANYTHING), RetKind.VOID, False),
    "ringbuf_discard": ((A.PTR_TO_RINGBUF_MEM, A.ANYTHING), RetKind.VOID, False),
    "ringbuf_query": ((A.CONST_MAP_PTR, A.ANYTHING), RetKind.INTEGER, False),
    "snprintf": (
        (
            A.PTR_TO_MEM_OR_NULL,
            A.CONST_SIZE_OR_ZERO,
            A.PTR_TO_CONST_STR,
            A.PTR_TO_MEM_OR_NULL,
            A.CONST_SIZE_OR_ZERO,
        ),
        RetKind.INTEGER,
        False,
    ),
    "send_signal": ((A.ANYTHING,), RetKind.INTEGER, False),
    "send_signal_thread": ((A.ANYTHING,), RetKind.INTEGER, False),
    "override_return": ((A.PTR_TO_CTX, A.ANYTHING), RetKind.INTEGER, True),
    "probe_write_user": ((A.ANYTHING, A.PTR_TO_MEM, A.CONST_SIZE), RetKind.INTEGER, True),
    "get_ns_current_pid_tgid": (
        (A.ANYTHING, A.ANYTHING, A.PTR_TO_UNINIT_MEM, A.CONST_SIZE),
        RetKind.INTEGER,
        False,
    ),
    "get_func_ip": ((A.PTR_TO_CTX,), RetKind.INTEGER, False),
    "loop": (
        (A.ANYTHING, A.PTR_TO_FUNC, A.PTR_TO_STACK_OR_NULL, A.ANYTHING),
        RetKind.INTEGER,
        False,
    ),
    "for_each_map_elem": (
        (A.CONST_MAP_PTR, A.PTR_TO_FUNC, A.PTR_TO_STACK_OR_NULL, A.ANYTHING),
        RetKind.INTEGER,
        False,
    ),
    "strncmp": ((A.PTR_TO_MEM, A.CONST_SIZE, A.PTR_TO_CONST_STR), RetKind.INTEGER, False),
    "skb_load_bytes": (
        (A.PTR_TO_CTX, A.ANYTHING, A.PTR_TO_UNINIT_MEM, A.CONST_SIZE),
        RetKind.INTEGER,
        False,
    ),
    "skb_store_bytes": (
        (A.PTR_TO_CTX, A.ANYTHING, A.PTR_TO_MEM, A.CONST_SIZE, A.ANYTHING),
        RetKind.INTEGER,
        False,
    ),
    "xdp_adjust_head": ((A.PTR_TO_CTX, A.ANYTHING), RetKind.INTEGER, False),
    "xdp_adjust_tail": ((A.PTR_TO_CTX, A.ANYTHING), RetKind.INTEGER, False),
    "redirect": ((A.ANYTHING, A.ANYTHING), RetKind.INTEGER, False),
    "redirect_map": ((A.CONST_MAP_PTR, A.ANYTHING, A.ANYTHING), RetKind.INTEGER, False),
    "map_push_elem": ((A.CONST_MAP_PTR, A.PTR_TO_MAP_VALUE, A.ANYTHING), RetKind.INTEGER, False),
    "get_current_ancestor_cgroup_id": ((A.ANYTHING,), RetKind.INTEGER, False),
    "get_attach_cookie": ((A.PTR_TO_CTX,), RetKind.INTEGER, False),
    "trace_vprintk": (
        (A.PTR_TO_MEM, A.CONST_SIZE, A.PTR_TO_MEM_OR_NULL, A.CONST_SIZE_OR_ZERO),
        RetKind.INTEGER,
        True,
    ),
}

MAX_HELPER_ID = len(HELPER_NAMES) - 1
"""The highest helper id known (211 on Linux 6.18)."""

_BY_NAME = {n: i for i, n in enumerate(HELPER_NAMES) if i}

HELPERS: dict[int, HelperSpec] = {
    _BY_NAME["bpf_" + short]: HelperSpec(_BY_NAME["bpf_" + short], "bpf_" + short, args, ret, gpl)
    for short, (args, ret, gpl) in _SPECS.items()
}
"""Signatures by helper id, for the helpers pybpf generates or checks."""


def helper_name(helper_id: int) -> str | None:
    """``bpf_map_lookup_elem`` for 1; None for 0 (unspec) and unknown ids."""
    if 0 < helper_id < len(HELPER_NAMES):
        return HELPER_NAMES[helper_id]
    return None


def helper_id(name: str) -> int | None:
    """The id of ``name`` (with or without the ``bpf_`` prefix), or None."""
    return _BY_NAME.get(name if name.startswith("bpf_") else "bpf_" + name)


def helper_spec(helper: int | str) -> HelperSpec | None:
    """The signature of a helper given by id or name, or None if we have none for it."""
    hid = helper_id(helper) if isinstance(helper, str) else helper
    return HELPERS.get(hid) if hid is not None else None


__all__ = [
    "HELPERS",
    "HELPER_NAMES",
    "MAX_HELPER_ID",
    "ArgKind",
    "HelperSpec",
    "RetKind",
    "helper_id",
    "helper_name",
    "helper_spec",
]
