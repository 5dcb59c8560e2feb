"""bpftool's plain-text shapes for ``prog show``, ``map show``, ``map dump`` and ``link list``."""

from __future__ import annotations

import time

from pybpf.inspect.records import LinkRecord, MapRecord, ProgRecord


def _stamp(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(wall))


def prog_show(rec: ProgRecord) -> str:
    """Three or four lines per program, as ``bpftool prog show`` prints them.

    bpftool's own lines come first, unchanged; pybpf adds one more, ``verified_insns``
    (and the mean run time per event when statistics are on), because those are the
    figures that matter when comparing programs.
    """
    i = rec.info
    head = f"{i.id}: {rec.type_name}  "
    if i.name:
        head += f"name {i.name}  "
    head += f"tag {i.tag}"
    if i.gpl_compatible:
        head += "  gpl"
    if i.run_time_ns:
        head += f" run_time_ns {i.run_time_ns} run_cnt {i.run_cnt}"
    if i.recursion_misses:
        head += f" recursion_misses {i.recursion_misses}"
    lines = [head, f"\tloaded_at {_stamp(rec.loaded_at)}  uid {i.created_by_uid}"]
    third = f"\txlated {i.xlated_prog_len}B  "
    third += f"jited {i.jited_prog_len}B" if i.jited_prog_len else "not jited"
    third += f"  memlock {rec.memlock}B"
    if i.map_ids:
        third += "  map_ids " + ",".join(str(m) for m in i.map_ids)
    lines.append(third)
    if i.btf_id:
        lines.append(f"\tbtf_id {i.btf_id}")
    extra = f"\tverified_insns {i.verified_insns}"
    if rec.avg_ns is not None:
        extra += f"  avg_ns_per_run {rec.avg_ns}"
    lines.append(extra)
    return "\n".join(lines) + "\n"


def map_show(rec: MapRecord) -> str:
    """Two lines per map, as ``bpftool map show`` prints them."""
    i = rec.info
    head = f"{i.id}: {rec.type_name}  "
    if i.name:
        head += f"name {i.name}  "
    head += f"flags 0x{i.flags:x}"
    second = (
        f"\tkey {i.key_size}B  value {i.value_size}B  max_entries {i.max_entries}"
        f"  memlock {rec.memlock}B"
    )
    if i.btf_id:
        second += f"\n\tbtf_id {i.btf_id}"
    if rec.frozen:
        second += "\n\tfrozen"
    return f"{head}\n{second}\n"


def hex_bytes(data: bytes) -> str:
    """bpftool's hex dump of a key or value: 8-byte groups, 16 bytes a line."""
    out = []
    for n, b in enumerate(data):
        if n and n % 16 == 0:
            out.append("\n")
        elif n and n % 8 == 0:
            out.append("  ")
        elif n:
            out.append(" ")
        out.append(f"{b:02x}")
    return "".join(out)


def map_entry(rec: MapRecord, key: bytes, value: bytes | list[bytes]) -> str:
    """One entry of ``bpftool map dump`` for a map without BTF."""
    ks, vs = rec.info.key_size, rec.info.value_size
    if isinstance(value, list):
        lines = ["key:", hex_bytes(key)]
        for cpu, v in enumerate(value):
            sep = "\n" if vs > 16 else " "
            lines.append(f"value (CPU {cpu:02d}):{sep}{hex_bytes(v)}")
        return "\n".join(lines) + "\n"
    break_names = ks > 16 or vs > 16
    single_line = ks + vs <= 24 and not break_names
    sep = "\n" if break_names else " "
    return (
        f"key:{sep}{hex_bytes(key)}{'  ' if single_line else chr(10)}"
        f"value:{sep}{hex_bytes(value)}\n"
    )


def found(n: int) -> str:
    """bpftool's closing line of a map dump."""
    return f"Found {n} element{'' if n == 1 else 's'}\n"


def link_show(rec: LinkRecord) -> str:
    """``bpftool link list`` shape: ``ID: TYPE  prog PROG`` and the type's details."""
    head = f"{rec.info.id}: {rec.type_name}  prog {rec.info.prog_id}  "
    detail = "  ".join(f"{k} {v}" for k, v in rec.details.items())
    return head + (f"\n\t{detail}" if detail else "") + "\n"
