"""The small BTF every tracer program is loaded with: func_info and line_info.

The kernel insists on ``func_info`` once a program has more than one function (here: the
bodies of ``for ($kv : @map)`` loops, called by ``bpf_for_each_map_elem``). Each function
gets a ``long f(void *, ...)`` prototype; the main one is global, callbacks are static.

``line_info`` maps instructions back to the script: one record wherever the source position
changes, with the file name and the line's text in the BTF string section. The kernel keeps
it with the program, so ``pybpf prog dump xlated ID --source`` (and bpftool) can show the
script line above the code generated from it, for as long as the program is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.asm.insn import Insn, slot_offsets
from pybpf.bpf.fd import Fd

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def func_btf(
    callbacks: list[int], insns: Sequence[Insn] = (), source: str = ""
) -> tuple[Fd, dict[str, Any]]:
    """Load the BTF and return (its fd, the ProgSpec fields that refer to it)."""
    return load(func_btf_data(callbacks, insns, source))


def load(data: tuple[bytes, dict[str, Any]]) -> tuple[Fd, dict[str, Any]]:
    """Load BTF built by :func:`func_btf_data`: (its fd, the ProgSpec fields)."""
    from pybpf.bpf.btfload import load_btf

    blob, fields = data
    fd = load_btf(blob)
    return fd, {**fields, "prog_btf_fd": fd.fd}


def func_btf_data(
    callbacks: list[int], insns: Sequence[Insn] = (), source: str = ""
) -> tuple[bytes, dict[str, Any]]:
    """The BTF bytes and the ProgSpec fields (func_info, line_info) that index into them.

    Plain data, so a compiled script carries it (pybpf.codegen.cache): a cached run loads
    it without importing the BTF builder."""
    from pybpf.btf.builder import (
        BtfBuilder,
        FuncInfo,
        LineInfo,
        encode_func_info,
        encode_line_info,
    )
    from pybpf.btf.kinds import Linkage

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
    fields: dict[str, Any] = {"func_info": encode_func_info(infos)}
    lines = _line_records(b, LineInfo, insns, source, {0, *callbacks})
    if lines:
        fields["line_info"] = encode_line_info(lines)
    return b.encode(), fields


def _line_records(
    b: Any, line_info: Any, insns: Sequence[Insn], source: str, starts: set[int]
) -> list[Any]:
    """One record per change of source position, and one at every function start."""
    text_lines = source.splitlines()
    out: list[Any] = []
    last: tuple[str, int, int] | None = None
    for slot, insn in zip(slot_offsets(list(insns)), insns, strict=True):
        span = insn.span
        pos = last
        if span is not None and getattr(span, "line", 0) > 0:
            pos = (str(getattr(span, "file", "")), int(span.line), int(getattr(span, "col", 1)))  # type: ignore[attr-defined]
        if pos is None or (pos == last and slot not in starts):
            continue
        file, line, col = pos
        text = text_lines[line - 1] if 0 < line <= len(text_lines) else ""
        if line < 1 << 22 and col < 1 << 10:
            out.append(line_info.make(b, slot, file, text, line, col))
        last = pos
    return out


__all__ = ["func_btf", "func_btf_data", "load"]
