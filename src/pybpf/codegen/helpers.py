"""The kernel helper functions code generation calls (numbers from ``enum bpf_func_id``)."""

from __future__ import annotations

from enum import IntEnum


class Helper(IntEnum):
    """Helper ids (stable kernel ABI)."""

    MAP_LOOKUP_ELEM = 1
    MAP_UPDATE_ELEM = 2
    MAP_DELETE_ELEM = 3
    PROBE_READ = 4
    KTIME_GET_NS = 5
    GET_PRANDOM_U32 = 7
    GET_SMP_PROCESSOR_ID = 8
    GET_CURRENT_PID_TGID = 14
    GET_CURRENT_UID_GID = 15
    GET_CURRENT_COMM = 16
    PERF_EVENT_OUTPUT = 25
    GET_STACKID = 27
    GET_CURRENT_TASK = 35
    PROBE_READ_STR = 45
    GET_CURRENT_CGROUP_ID = 80
    PROBE_READ_USER = 112
    PROBE_READ_KERNEL = 113
    PROBE_READ_USER_STR = 114
    PROBE_READ_KERNEL_STR = 115
    JIFFIES64 = 118
    KTIME_GET_BOOT_NS = 125
    RINGBUF_OUTPUT = 130
    RINGBUF_RESERVE = 131
    RINGBUF_SUBMIT = 132
    RINGBUF_DISCARD = 133
    RINGBUF_QUERY = 134
    GET_CURRENT_TASK_BTF = 158
    FOR_EACH_MAP_ELEM = 164
    GET_FUNC_IP = 173
    LOOP = 181
    STRNCMP = 182
    KTIME_GET_TAI_NS = 208


RB_NO_WAKEUP = 1
"""``BPF_RB_NO_WAKEUP``: submit without waking the consumer."""
RB_FORCE_WAKEUP = 2
"""``BPF_RB_FORCE_WAKEUP``: submit and wake the consumer."""
RB_AVAIL_DATA = 0
"""``bpf_ringbuf_query`` flag: bytes not yet consumed."""

__all__ = ["RB_AVAIL_DATA", "RB_FORCE_WAKEUP", "RB_NO_WAKEUP", "Helper"]
