"""A compiled bpftrace script's BEGIN probe runs in the VM through the hosted backend."""

from __future__ import annotations

from pybpf.asm import Insn
from pybpf.bpf.maps import MapSpec
from pybpf.bpf.prog import ProgSpec
from pybpf.bpf.syscall import MapType, ProgType
from pybpf.vm.hosted import HostedMap, VMBackend


def _load_script(text: str) -> tuple[object, VMBackend, dict[str, HostedMap], list[object]]:
    from pybpf.cli.pybpftrace import compile_script
    from pybpf.session import _MAP_TYPES, _PROG_TYPES, _script_key

    script = compile_script(text, "t.bt", [], False)
    be = VMBackend()
    maps = {}
    for key, d in script.maps.items():
        spec = MapSpec(MapType[_MAP_TYPES[d.kind]], d.key_size, d.value_size, d.max_entries)
        maps[key] = be.create_map(spec)
        for k, v in d.init.items():
            maps[key].update(k, v)
    begins = []
    for p in script.progs:
        insns = list(p.code.insns)
        for idx, name in p.code.map_relocs.items():
            i = insns[idx]
            fd = maps[_script_key(script, name)].fd
            insns[idx] = Insn(i.opcode, i.dst, i.src, i.off, (i.imm & ~0xFFFFFFFF) | fd, i.span)
        if p.provider == "begin":
            spec = ProgSpec(ProgType[_PROG_TYPES[p.prog_type]], tuple(insns))
            begins.append(be.load_program(spec))
    return script, be, maps, begins


def test_begin_probe_printf_and_map_in_the_vm() -> None:
    script, be, maps, begins = _load_script('BEGIN { @x = 42; printf("hi %d\\n", 7); }')
    assert len(begins) == 1
    begins[0].test_run(ctx_in=b"\0" * 8)  # type: ignore[attr-defined]
    records: list[bytes] = []
    be.ring_buffer(maps["ringbuf"]).consume(lambda r: records.append(bytes(r)))
    decoded = [script.events.decode(memoryview(r)) for r in records]  # type: ignore[attr-defined]
    assert [(spec.info.get("fmt"), vals) for spec, vals in decoded] == [("hi %d\n", [7])]
    x = [m for k, m in maps.items() if "x" in k]
    assert x and next(iter(x[0].items()))[1][:8] == (42).to_bytes(8, "little")


def test_hosted_map_interface() -> None:
    be = VMBackend()
    m = be.create_map(MapSpec(MapType.HASH, 4, 8, 4))
    m.update(b"\1\0\0\0", b"\2" * 8)
    assert m.lookup(b"\1\0\0\0") == b"\2" * 8
    assert list(m.keys()) == [b"\1\0\0\0"] and m.next_key(None) == b"\1\0\0\0"
    assert m.delete(b"\1\0\0\0") and m.lookup(b"\1\0\0\0") is None
    pc = be.create_map(MapSpec(MapType.PERCPU_ARRAY, 4, 8, 1))
    pc.update(b"\0\0\0\0", [bytes([i]) * 8 for i in range(be.machine.env.ncpus)])
    assert pc.lookup(b"\0\0\0\0") == [bytes([i]) * 8 for i in range(be.machine.env.ncpus)]
