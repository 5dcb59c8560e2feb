"""A corpus of safe and unsafe programs for comparing our verifier with the kernel's.

Entries are assembly (``%r`` dialect) with ``{hash}``-style placeholders for map fds, so
the same text is loaded into the kernel (with real maps) and given to our verifier (with
the same fds described as :class:`MapInfo`). ``intent`` records what the author meant the
program to be; the tests compare against the kernel's actual verdict, not the intent.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.vm.conformance import POSITIVE, parse

from pybpf.asm import Insn, assemble
from pybpf.verifier import MapInfo

MAP_SHAPES: dict[str, tuple[int, int, int, int]] = {
    "hash": (1, 4, 16, 16),
    "array": (2, 4, 16, 4),
    "percpu": (6, 4, 16, 4),
    "lru": (9, 4, 16, 8),
    "ringbuf": (27, 0, 0, 4096),
    "progs": (3, 4, 4, 4),
}
"""name -> (map type, key size, value size, max entries)."""


@dataclass
class Entry:
    """One corpus program."""

    name: str
    prog_type: str
    insns: list[Insn]
    intent: str  # "safe" or "unsafe" (the author's intent; the kernel decides)


def map_infos(fds: dict[str, int]) -> dict[int, MapInfo]:
    """Our verifier's view of the maps named in ``fds``."""
    return {fd: MapInfo(*MAP_SHAPES[name]) for name, fd in fds.items()}


_KEY = "mov %r1, 0\nstxw [%r10-4], %r1\nmov %r2, %r10\nadd %r2, -4\n"
_LOOKUP = _KEY + "lddw %r1, map_fd({m})\ncall 1\n"
_OUT = "out:\nmov %r0, 0\nexit\n"
_LD = {1: "ldxb", 2: "ldxh", 4: "ldxw", 8: "ldxdw"}
_ST = {1: "stxb", 2: "stxh", 4: "stxw", 8: "stxdw"}


def _families() -> list[tuple[str, str, str, str]]:
    """(name, prog type, template, intent)."""
    out: list[tuple[str, str, str, str]] = []

    def add(name: str, text: str, intent: str, pt: str = "socket_filter") -> None:
        out.append((name, pt, text, intent))

    for m in ("hash", "array", "percpu", "lru"):
        for size in (1, 2, 4, 8):
            for off in (0, 8, 16 - size):
                body = f"jeq %r0, 0, out\n{_LD[size]} %r1, [%r0+{off}]\n"
                add(f"lookup_checked_{m}_{size}_{off}", _LOOKUP.format(m=m) + body + _OUT, "safe")
            add(
                f"lookup_unchecked_{m}_{size}",
                _LOOKUP.format(m=m) + f"{_LD[size]} %r1, [%r0+0]\n" + _OUT,
                "unsafe",
            )
            for off in (16 - size + 1, 16, 24, -size):
                body = f"jeq %r0, 0, out\n{_LD[size]} %r1, [%r0{off:+d}]\n"
                add(f"map_oob_{m}_{size}_{off}", _LOOKUP.format(m=m) + body + _OUT, "unsafe")
        add(f"map_store_{m}", _LOOKUP.format(m=m) + "jne %r0, 0, ok\n" + _OUT
            + "ok:\nstdw [%r0+8], 5\nmov %r0, 0\nexit\n", "safe")  # fmt: skip
        add(f"update_{m}", _KEY + "stdw [%r10-24], 1\nstdw [%r10-16], 2\nmov %r3, %r10\n"
            f"add %r3, -24\nmov %r4, 0\nlddw %r1, map_fd({m})\ncall 2\n" + _OUT, "safe")  # fmt: skip
        add(f"update_uninit_value_{m}", _KEY + "mov %r3, %r10\nadd %r3, -24\nmov %r4, 0\n"
            f"lddw %r1, map_fd({m})\ncall 2\n" + _OUT, "unsafe")  # fmt: skip
        add(f"lookup_uninit_key_{m}", f"mov %r2, %r10\nadd %r2, -4\nlddw %r1, map_fd({m})\n"
            "call 1\n" + _OUT, "unsafe")  # fmt: skip
        add(f"delete_{m}", _KEY + f"lddw %r1, map_fd({m})\ncall 3\n" + _OUT, "safe")
        add(
            f"lookup_ctx_key_{m}", f"mov %r2, %r1\nlddw %r1, map_fd({m})\ncall 1\n" + _OUT, "unsafe"
        )
        add(f"var_index_{m}", _LOOKUP.format(m=m) + "jeq %r0, 0, out\nmov %r6, %r0\n"
            + _OUT, "safe")  # fmt: skip
    for mask, intent in ((7, "safe"), (15, "safe"), (16, "unsafe"), (31, "unsafe")):
        add(f"var_offset_mask_{mask}", "mov %r6, %r1\n" + _LOOKUP.format(m="array")
            + f"jeq %r0, 0, out\nldxw %r2, [%r6+0]\nand %r2, {mask}\nadd %r0, %r2\n"
            "ldxb %r1, [%r0+0]\n" + _OUT, intent)  # fmt: skip
    add("var_offset_unbounded", "mov %r6, %r1\n" + _LOOKUP.format(m="array")
        + "jeq %r0, 0, out\nldxw %r2, [%r6+0]\nadd %r0, %r2\nldxb %r1, [%r0+0]\n" + _OUT,
        "unsafe")  # fmt: skip
    for bound, intent in ((8, "safe"), (16, "unsafe"), (15, "unsafe"), (9, "safe")):
        add(f"var_offset_jlt_{bound}", "mov %r6, %r1\n" + _LOOKUP.format(m="hash")
            + f"jeq %r0, 0, out\nldxw %r2, [%r6+0]\njge %r2, {bound}, out\nadd %r0, %r2\n"
            "ldxdw %r1, [%r0+0]\n" + _OUT, intent)  # fmt: skip
    # stack
    for size in (1, 2, 4, 8):
        for off in (-8, -16, -256, -512):
            add(f"stack_rw_{size}_{-off}", f"mov %r1, 7\n{_ST[size]} [%r10{off}], %r1\n"
                f"{_LD[size]} %r0, [%r10{off}]\nexit\n", "safe")  # fmt: skip
            add(f"stack_uninit_{size}_{-off}", f"{_LD[size]} %r0, [%r10{off}]\nexit\n", "unsafe")
        for off in (-520, 0, 8, -513 - size):
            add(f"stack_oob_{size}_{off}", f"mov %r1, 7\n{_ST[size]} [%r10{off:+d}], %r1\n"
                "mov %r0, 0\nexit\n", "unsafe")  # fmt: skip
        if size > 1:
            add(f"stack_misaligned_{size}", f"mov %r1, 1\n{_ST[size]} [%r10-{size * 2 + 1}], %r1\n"
                "mov %r0, 0\nexit\n", "unsafe")  # fmt: skip
    add("stack_partial_init", "stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit\n", "unsafe")
    add("stack_two_halves", "stw [%r10-8], 1\nstw [%r10-4], 2\nldxdw %r0, [%r10-8]\nexit\n", "safe")
    add(
        "spill_fill_ctx",
        "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxw %r0, [%r2+0]\nexit\n",
        "safe",
    )
    add(
        "spill_partial_fill",
        "stxdw [%r10-8], %r1\nldxw %r2, [%r10-8]\nmov %r0, 0\nexit\n",
        "unsafe",
    )
    add("spill_map_value", _LOOKUP.format(m="hash") + "stxdw [%r10-16], %r0\n"
        "ldxdw %r3, [%r10-16]\njeq %r3, 0, out\nldxdw %r0, [%r3+0]\nexit\n" + _OUT, "safe")  # fmt: skip
    add("spill_map_value_unchecked", _LOOKUP.format(m="hash") + "stxdw [%r10-16], %r0\n"
        "ldxdw %r3, [%r10-16]\nldxdw %r0, [%r3+0]\nexit\n", "unsafe")  # fmt: skip
    add("null_check_copy", _LOOKUP.format(m="hash") + "mov %r6, %r0\njeq %r0, 0, out\n"
        "ldxdw %r0, [%r6+8]\nexit\n" + _OUT, "safe")  # fmt: skip
    add("null_check_wrong_reg", _LOOKUP.format(m="hash") + "mov %r6, %r0\nmov %r7, 1\n"
        "jeq %r7, 0, out\nldxdw %r0, [%r6+8]\nexit\n" + _OUT, "unsafe")  # fmt: skip
    # registers
    add("uninit_r0", "exit\n", "unsafe")
    add("uninit_r2", "mov %r0, %r2\nexit\n", "unsafe")
    add("uninit_r7_add", "mov %r0, 1\nadd %r0, %r7\nexit\n", "unsafe")
    add("write_r10", "mov %r10, 1\nmov %r0, 0\nexit\n", "unsafe")
    add("scalar_deref", "mov %r1, 4096\nldxdw %r0, [%r1+0]\nexit\n", "unsafe")
    add("map_ptr_arith", "lddw %r1, map_fd(hash)\nadd %r1, 8\nmov %r0, 0\nexit\n", "unsafe")
    add("map_ptr_deref", "lddw %r1, map_fd(hash)\nldxdw %r0, [%r1+0]\nexit\n", "unsafe")
    add("or_null_arith", _LOOKUP.format(m="hash") + "add %r0, 8\nmov %r0, 0\nexit\n", "unsafe")
    add("ptr_mul", "mov %r2, %r10\nmul %r2, 2\nmov %r0, 0\nexit\n", "unsafe")
    add("ptr32_add", "mov %r2, %r10\nadd32 %r2, 2\nmov %r0, 0\nexit\n", "unsafe")
    add("div_imm_zero", "mov %r0, 5\ndiv %r0, 0\nexit\n", "unsafe")
    add("div_reg_zero", "mov %r0, 5\nmov %r1, 0\ndiv %r0, %r1\nexit\n", "safe")
    add("shift_big", "mov %r0, 5\nlsh %r0, 64\nexit\n", "unsafe")
    add("shift32_big", "mov %r0, 5\nlsh32 %r0, 32\nexit\n", "unsafe")
    # context
    for off, size, intent in ((0, 4, "safe"), (0, 1, "safe"), (2, 2, "safe"), (8, 4, "safe"),
                              (48, 4, "safe"), (64, 4, "safe"), (0, 8, "unsafe"),
                              (76, 4, "unsafe"), (1, 2, "unsafe"), (4000, 4, "unsafe"),
                              (-4, 4, "unsafe")):  # fmt: skip
        add(f"ctx_read_{off}_{size}", f"{_LD[size]} %r0, [%r1{off:+d}]\nexit\n", intent)
    for off, intent in ((48, "safe"), (0, "unsafe"), (8, "unsafe"), (68, "unsafe")):
        add(f"ctx_write_{off}", f"mov %r2, 1\nstxw [%r1+{off}], %r2\nmov %r0, 0\nexit\n", intent)
    add("ctx_modified", "add %r1, 4\nldxw %r0, [%r1+0]\nexit\n", "unsafe")
    # loops
    for n in (1, 5, 30):
        add(f"loop_count_{n}", f"mov %r0, 0\nmov %r1, {n}\nl:\nadd %r0, %r1\nsub %r1, 1\n"
            "jne %r1, 0, l\nexit\n", "safe")  # fmt: skip
        add(f"loop_stack_{n}", f"mov %r1, 0\nl:\nmov %r2, %r10\nadd %r2, -8\nstxdw [%r2+0], %r1\n"
            f"add %r1, 1\njlt %r1, {n}, l\nldxdw %r0, [%r10-8]\nexit\n", "safe")  # fmt: skip
    add("loop_forever", "mov %r0, 0\nl:\nja l\n", "unsafe")
    add("loop_forever_add", "mov %r0, 0\nl:\nadd %r0, 0\nja l\n", "unsafe")
    add("loop_no_progress", "mov %r1, 0\nl:\njlt %r1, 10, l\nmov %r0, 0\nexit\n", "unsafe")
    # (loops the kernel can only refuse after 1M instructions are left out: too slow to load)
    # helpers
    add("ktime", "call 5\nexit\n", "safe")
    add("prandom", "call 7\nexit\n", "safe")
    add("smp_id", "call 8\nexit\n", "safe")
    add("pid_tgid_socket", "call 14\nexit\n", "unsafe")
    add(
        "probe_read_socket",
        "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nexit\n",
        "unsafe",
    )
    add("helper_unknown", "call 100000\nexit\n", "unsafe")
    add("printk", "stdw [%r10-8], 0x6968\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\n"
        "mov %r0, 0\nexit\n", "safe")  # fmt: skip
    add(
        "printk_uninit",
        "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nmov %r0, 0\nexit\n",
        "unsafe",
    )
    add("printk_zero_size", "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 6\n"
        "mov %r0, 0\nexit\n", "unsafe")  # fmt: skip
    add("printk_too_big", "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 16\ncall 6\n"
        "mov %r0, 0\nexit\n", "unsafe")  # fmt: skip
    add("lookup_scalar_map", _KEY + "mov %r1, 0\ncall 1\n" + _OUT, "unsafe")
    add("lookup_ringbuf", _LOOKUP.format(m="ringbuf") + _OUT, "unsafe")
    add("lookup_progs", _LOOKUP.format(m="progs") + _OUT, "unsafe")
    add("r1_clobbered", "call 5\nldxw %r0, [%r1+0]\nexit\n", "unsafe")
    add("r6_kept", "mov %r6, %r1\ncall 5\nldxw %r0, [%r6+0]\nexit\n", "safe")
    rb = "lddw %r1, map_fd(ringbuf)\nmov %r2, 16\nmov %r3, 0\ncall 131\n"
    add("ringbuf_submit", rb + "jeq %r0, 0, out\nstdw [%r0+8], 1\nmov %r1, %r0\nmov %r2, 0\n"
        "call 132\n" + _OUT, "safe")  # fmt: skip
    add(
        "ringbuf_discard",
        rb + "jeq %r0, 0, out\nmov %r1, %r0\nmov %r2, 0\ncall 133\n" + _OUT,
        "safe",
    )
    add("ringbuf_leak", rb + "jeq %r0, 0, out\nstdw [%r0+0], 1\n" + _OUT, "unsafe")
    add(
        "ringbuf_unchecked",
        rb + "stdw [%r0+0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\n" + _OUT,
        "unsafe",
    )
    add("ringbuf_oob", rb + "jeq %r0, 0, out\nstdw [%r0+16], 1\nmov %r1, %r0\nmov %r2, 0\n"
        "call 132\n" + _OUT, "unsafe")  # fmt: skip
    add("ringbuf_double_submit", rb + "jeq %r0, 0, out\nmov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\n"
        "call 132\nmov %r1, %r6\nmov %r2, 0\ncall 132\n" + _OUT, "unsafe")  # fmt: skip
    add("ringbuf_var_size", "ldxw %r2, [%r1+0]\nlddw %r1, map_fd(ringbuf)\nmov %r3, 0\n"
        "call 131\njeq %r0, 0, out\nmov %r1, %r0\nmov %r2, 0\ncall 133\n" + _OUT, "unsafe")  # fmt: skip
    add("ringbuf_output", "stdw [%r10-8], 3\nlddw %r1, map_fd(ringbuf)\nmov %r2, %r10\n"
        "add %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\n" + _OUT, "safe")  # fmt: skip
    add("ringbuf_output_hash", "stdw [%r10-8], 3\nlddw %r1, map_fd(hash)\nmov %r2, %r10\n"
        "add %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\n" + _OUT, "unsafe")  # fmt: skip
    add("tail_call", "lddw %r2, map_fd(progs)\nmov %r3, 0\ncall 12\n" + _OUT, "safe")
    add("tail_call_hash", "lddw %r2, map_fd(hash)\nmov %r3, 0\ncall 12\n" + _OUT, "unsafe")
    add(
        "tail_call_not_ctx",
        "mov %r1, 0\nlddw %r2, map_fd(progs)\nmov %r3, 0\ncall 12\n" + _OUT,
        "unsafe",
    )
    # subprograms
    add("subprog", "mov %r1, 3\ncall local f\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit\n", "safe")
    add("subprog_stack", "stdw [%r10-8], 4\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\n"
        "f:\nldxdw %r0, [%r1+0]\nexit\n", "safe")  # fmt: skip
    add("subprog_uninit_arg", "call local f\nexit\nf:\nmov %r0, %r1\nexit\n", "safe")
    add("subprog_uninit_r2", "mov %r1, 1\ncall local f\nexit\nf:\nmov %r0, %r2\nexit\n", "unsafe")
    add(
        "subprog_r1_after",
        "mov %r1, 1\ncall local f\nmov %r0, %r1\nexit\nf:\nmov %r0, 0\nexit\n",
        "unsafe",
    )
    add("subprog_ret_stack", "call local f\nldxdw %r0, [%r0+0]\nexit\nf:\nstdw [%r10-8], 1\n"
        "mov %r0, %r10\nadd %r0, -8\nexit\n", "unsafe")  # fmt: skip
    add("subprog_no_r0", "call local f\nexit\nf:\nexit\n", "unsafe")
    # structure
    add("unreachable", "mov %r0, 0\nexit\nmov %r0, 1\nexit\n", "unsafe")
    add("fall_off", "mov %r0, 0\njeq %r0, 0, l\nexit\nl:\nmov %r0, 1\n", "unsafe")
    # xdp packets
    for n, off, size, intent in ((14, 0, 8, "safe"), (14, 6, 8, "safe"), (14, 7, 8, "unsafe"),
                                 (14, 13, 1, "safe"), (14, 14, 1, "unsafe"), (1, 0, 1, "safe"),
                                 (4, 0, 4, "safe"), (4, 2, 4, "unsafe")):  # fmt: skip
        add(f"xdp_pkt_{n}_{off}_{size}", "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\n"
            f"add %r4, {n}\njgt %r4, %r3, drop\n{_LD[size]} %r0, [%r2+{off}]\nmov %r0, 2\nexit\n"
            "drop:\nmov %r0, 1\nexit\n", intent, "xdp")  # fmt: skip
    add("xdp_no_check", "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit\n", "unsafe", "xdp")
    add("xdp_end_deref", "ldxw %r3, [%r1+4]\nldxb %r0, [%r3+0]\nexit\n", "unsafe", "xdp")
    add("xdp_reversed", "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\n"
        "jle %r4, %r3, ok\nmov %r0, 1\nexit\nok:\nldxdw %r0, [%r2+0]\nmov %r0, 2\nexit\n",
        "safe", "xdp")  # fmt: skip
    add("xdp_write", "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\n"
        "jgt %r4, %r3, drop\nstdw [%r2+0], 0\ndrop:\nmov %r0, 2\nexit\n", "safe", "xdp")  # fmt: skip
    add("xdp_narrow_ctx", "ldxh %r2, [%r1+0]\nmov %r0, 2\nexit\n", "unsafe", "xdp")
    add("xdp_after_adjust", "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r6, %r2\nmov %r4, %r2\n"
        "add %r4, 8\njgt %r4, %r3, drop\nmov %r2, 0\ncall 44\nldxb %r0, [%r6+0]\ndrop:\n"
        "mov %r0, 2\nexit\n", "unsafe", "xdp")  # fmt: skip
    # tracing contexts
    add("tp_read", "ldxdw %r0, [%r1+8]\nexit\n", "safe", "tracepoint")
    add("tp_write", "stdw [%r1+8], 0\nmov %r0, 0\nexit\n", "unsafe", "tracepoint")
    add("tp_pid", "call 14\nexit\n", "safe", "tracepoint")
    add("tp_comm", "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 16\nldxdw %r0, [%r10-16]\n"
        "exit\n", "safe", "tracepoint")  # fmt: skip
    add(
        "tp_comm_oob",
        "mov %r1, %r10\nadd %r1, -16\nmov %r2, 32\ncall 16\nmov %r0, 0\nexit\n",
        "unsafe",
        "tracepoint",
    )
    add("tp_probe_read", "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 113\n"
        "ldxdw %r0, [%r10-8]\nexit\n", "safe", "tracepoint")  # fmt: skip
    add("rawtp_read", "ldxdw %r0, [%r1+0]\nexit\n", "safe", "raw_tracepoint")
    add("rawtp_narrow", "ldxw %r0, [%r1+0]\nexit\n", "unsafe", "raw_tracepoint")
    # atomics
    add("atomic_stack", "stdw [%r10-8], 1\nmov %r1, 2\nlock add [%r10-8], %r1\n"
        "ldxdw %r0, [%r10-8]\nexit\n", "safe")  # fmt: skip
    add("atomic_uninit", "mov %r1, 2\nlock add [%r10-8], %r1\nmov %r0, 0\nexit\n", "unsafe")
    add("atomic_map", _LOOKUP.format(m="array") + "jeq %r0, 0, out\nmov %r1, 1\n"
        "lock fetch_add [%r0+0], %r1\nmov %r0, %r1\nexit\n" + _OUT, "safe")  # fmt: skip
    add("atomic_ctx", "mov %r2, 1\nlock add [%r1+48], %r2\nmov %r0, 0\nexit\n", "unsafe")
    return out


def corpus(fds: dict[str, int]) -> list[Entry]:
    """Every corpus entry, with map placeholders resolved to ``fds``."""
    out = []
    for name, pt, text, intent in _families():
        for m, fd in fds.items():
            text = text.replace(f"map_fd({m})", f"map_fd({fd})")
        out.append(Entry(name, pt, assemble(text, "rfmt", source=name), intent))
    for path in POSITIVE:
        case = parse(path)
        out.append(Entry(f"conformance/{path.stem}", "socket_filter", case.program(), "safe"))
    return out


__all__ = ["MAP_SHAPES", "Entry", "corpus", "map_infos"]
