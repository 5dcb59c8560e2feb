"""The minimal BTF a program with callback subprograms needs (func_info for each function).

The kernel insists on ``func_info`` once a program has more than one function (here: the
bodies of ``for ($kv : @map)`` loops, called by ``bpf_for_each_map_elem``). Each function
gets a ``long f(void *, ...)`` prototype; the main one is global, callbacks are static.
"""

from __future__ import annotations

from typing import Any

from pybpf.bpf.fd import Fd


def func_btf(callbacks: list[int]) -> tuple[Fd, dict[str, Any]]:
    """Load the BTF and return (its fd, the ProgSpec fields that refer to it)."""
    from pybpf.bpf.btfload import load_btf
    from pybpf.btf.builder import BtfBuilder, FuncInfo, encode_func_info
    from pybpf.btf.types import Linkage

    b = BtfBuilder()
    long_t = b.add_int("long", 8, signed=True)
    void_p = b.add_ptr(0)
    main_proto = b.add_func_proto(long_t, [("ctx", void_p)])
    main = b.add_func("probe", main_proto, Linkage.GLOBAL)
    cb_proto = b.add_func_proto(
        long_t, [("map", void_p), ("key", void_p), ("value", void_p), ("ctx", void_p)]
    )
    infos = [FuncInfo(0, main)]
    for i, off in enumerate(callbacks):
        infos.append(FuncInfo(off, b.add_func(f"callback{i}", cb_proto, Linkage.STATIC)))
    fd = load_btf(b.encode())
    return fd, {"prog_btf_fd": fd.fd, "func_info": encode_func_info(infos)}


__all__ = ["func_btf"]
