"""VM behaviour beyond the conformance suite: faults, limits, calls, maps, helpers."""

from __future__ import annotations

import errno

import pytest

from pybpf.asm import Insn, assemble
from pybpf.vm import Env, Machine, MapType, VMError
from pybpf.vm.maps import ArrayMap, HashMap, RingBuf

ENGINES = ["interp", "compiled"]


def run(text: str, engine: str, mem: bytes | None = None, m: Machine | None = None) -> int:
    return (m or Machine()).load(assemble(text, "rfmt"), engine).run(mem)


def fault(text: str, engine: str, mem: bytes | None = None, **kw: object) -> VMError:
    with pytest.raises(VMError) as e:
        (Machine(**kw) if kw else Machine()).load(assemble(text, "rfmt"), engine).run(mem)  # type: ignore[arg-type]
    return e.value


@pytest.mark.parametrize("engine", ENGINES)
class TestFaults:
    def test_load_from_scalar_names_the_instruction(self, engine: str) -> None:
        e = fault("mov %r0, 0\nmov %r1, 4096\nldxdw %r0, [%r1+0]\nexit", engine)
        assert e.pc == 2
        assert str(e) == "insn 2: invalid memory access at 0x1000 size 8"

    def test_store_past_input(self, engine: str) -> None:
        e = fault("mov %r0, 0\nstw [%r1+2], 1\nexit", engine, mem=b"abcd")
        assert e.pc == 1 and "size 4" in str(e)

    def test_stack_below_frame(self, engine: str) -> None:
        assert fault("mov %r0, 0\nstdw [%r10-520], 1\nexit", engine).pc == 1

    def test_stack_above_frame(self, engine: str) -> None:
        assert fault("mov %r0, 0\nldxb %r0, [%r10+0]\nexit", engine).pc == 1

    def test_input_is_writable_in_place(self, engine: str) -> None:
        buf = bytearray(b"\0\0\0\0")
        m = Machine()
        m.load(assemble("stw [%r1+0], 0x11223344\nmov %r0, 0\nexit"), engine).run(buf)
        assert buf == bytes.fromhex("44332211")

    def test_instruction_limit_stops_runaway_loop(self, engine: str) -> None:
        e = fault("mov %r0, 0\nl:\nadd %r0, 1\nja l", engine, insn_limit=1000)
        assert "instruction limit 1000 exceeded" in str(e)
        assert e.pc in (1, 2)

    def test_fall_off_the_end(self, engine: str) -> None:
        assert "fell off the end" in str(fault("mov %r0, 0", engine))

    def test_atomic_fault(self, engine: str) -> None:
        e = fault("mov %r0, 0\nmov %r2, 8\nmov %r1, 1\nlock add [%r2+0], %r1\nexit", engine)
        assert e.pc == 3

    def test_fault_inside_subprogram(self, engine: str) -> None:
        e = fault("call local f\nexit\nf:\nmov %r1, 0\nldxb %r0, [%r1+0]\nexit", engine)
        assert e.pc == 3


def test_bad_programs_are_refused_at_load() -> None:
    m = Machine()
    with pytest.raises(VMError, match="jump out of range"):
        m.load([Insn(0x05, off=5), Insn(0x95)])
    with pytest.raises(VMError, match="middle of ldimm64"):
        m.load([Insn(0x05, off=1), Insn(0x18, 0, 0, 0, 1), Insn(0x95)])
    with pytest.raises(VMError, match="unknown opcode"):
        m.load([Insn(0xFF), Insn(0x95)])
    with pytest.raises(VMError, match="empty"):
        m.load([])
    with pytest.raises(VMError, match="unknown engine"):
        m.load([Insn(0x95)], "jit")
    with pytest.raises(VMError, match="not pointing to valid bpf_map"):
        m.load(assemble("lddw %r1, map_fd(9)\nmov %r0, 0\nexit"))


@pytest.mark.parametrize("engine", ENGINES)
class TestCalls:
    def test_frames_keep_callee_saved_registers_and_own_stack(self, engine: str) -> None:
        text = """
            mov %r6, 6
            stdw [%r10-8], 100
            mov %r1, 5
            call local f
            ldxdw %r2, [%r10-8]
            add %r0, %r2
            add %r0, %r6
            exit
        f:
            stdw [%r10-8], 1
            mov %r6, 0
            ldxdw %r0, [%r10-8]
            add %r0, %r1
            exit
        """
        assert run(text, engine) == 6 + 100 + 6

    def test_recursion_depth_limit(self, engine: str) -> None:
        e = fault("call local f\nexit\nf:\ncall local f\nexit", engine)
        assert "call stack too deep" in str(e)

    def test_callx_through_function_address(self, engine: str) -> None:
        # lddw r2, func: imm counts from the slot after lddw's first slot (kernel rule)
        prog = [
            Insn(0x18, 2, 4, 0, 4),  # slots 0-1, target 0 + 1 + 4 = 5
            Insn(0xB7, 1, 0, 0, 20),
            Insn(0x8D, 2),
            Insn(0x95),
            Insn(0xBF, 0, 1),  # slot 5
            Insn(0x07, 0, 0, 0, 2),
            Insn(0x95),
        ]
        assert Machine().load(prog, engine).run() == 22

    def test_unknown_helper(self, engine: str) -> None:
        assert "invalid func unknown#999" in str(fault("call 999\nexit", engine))


@pytest.mark.parametrize("engine", ENGINES)
class TestMaps:
    def test_hash_update_lookup_delete(self, engine: str) -> None:
        m = Machine()
        fd = m.create_map(MapType.HASH, 4, 8, 2)
        text = f"""
            stw [%r10-4], 7
            stdw [%r10-16], 42
            lddw %r1, map_fd({fd})
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -16
            mov %r4, 0
            call 2
            lddw %r1, map_fd({fd})
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, miss
            ldxdw %r6, [%r0+0]
            add %r6, 1
            stxdw [%r0+0], %r6
            mov %r0, %r6
            exit
        miss:
            mov %r0, 0
            exit
        """
        assert run(text, engine, m=m) == 43
        mp = m.maps[fd]
        assert isinstance(mp, HashMap)
        assert mp.get((7).to_bytes(4, "little")) == (43).to_bytes(8, "little")

    def test_value_pointer_is_bounds_checked(self, engine: str) -> None:
        m = Machine()
        fd = m.create_map(MapType.ARRAY, 4, 8, 1)
        text = f"stw [%r10-4], 0\nlddw %r1, map_fd({fd})\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0+8]\nexit"
        assert fault_in(m, text, engine).pc == 6  # lddw takes two slots

    def test_array_direct_value_and_percpu(self, engine: str) -> None:
        m = Machine(Env(cpu=1, ncpus=2))
        arr = m.create_map(MapType.ARRAY, 4, 16, 2)
        pc = m.create_map(MapType.PERCPU_ARRAY, 4, 8, 1)
        text = f"""
            lddw %r1, map_value({arr}, 8)
            stdw [%r1+0], 9
            stw [%r10-4], 0
            lddw %r1, map_fd({pc})
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, out
            stdw [%r0+0], 5
        out:
            mov %r0, 0
            exit
        """
        run(text, engine, m=m)
        a = m.maps[arr]
        assert isinstance(a, ArrayMap)
        assert a.get(b"\0\0\0\0") == bytes(8) + (9).to_bytes(8, "little")
        assert m.maps[pc].get(b"\0\0\0\0") == [bytes(8), (5).to_bytes(8, "little")]  # type: ignore[attr-defined]

    def test_ringbuf_output_reserve_submit_discard(self, engine: str) -> None:
        m = Machine()
        fd = m.create_map(MapType.RINGBUF, 0, 0, 4096)
        text = f"""
            stdw [%r10-8], 0x61
            lddw %r1, map_fd({fd})
            mov %r2, %r10
            add %r2, -8
            mov %r3, 8
            mov %r4, 0
            call 130
            lddw %r1, map_fd({fd})
            mov %r2, 4
            mov %r3, 0
            call 131
            jeq %r0, 0, out
            stw [%r0+0], 0x62
            mov %r1, %r0
            mov %r2, 0
            call 132
            lddw %r1, map_fd({fd})
            mov %r2, 4
            mov %r3, 0
            call 131
            jeq %r0, 0, out
            mov %r1, %r0
            mov %r2, 0
            call 133
        out:
            mov %r0, 0
            exit
        """
        run(text, engine, m=m)
        rb = m.maps[fd]
        assert isinstance(rb, RingBuf)
        assert rb.drain() == [(0x61).to_bytes(8, "little"), (0x62).to_bytes(4, "little")]

    def test_tail_call_and_its_limit(self, engine: str) -> None:
        m = Machine()
        fd = m.create_map(MapType.PROG_ARRAY, 4, 4, 4)
        target = m.load(assemble("mov %r0, 77\nexit", "rfmt"), engine)
        loop_text = f"lddw %r2, map_fd({fd})\nmov %r3, 1\ncall 12\nmov %r0, 5\nexit"
        looping = m.load(assemble(loop_text, "rfmt"), engine)
        main = m.load(
            assemble(f"lddw %r2, map_fd({fd})\nmov %r3, 0\ncall 12\nmov %r0, 1\nexit", "rfmt"),
            engine,
        )
        pa = m.maps[fd]
        pa.progs[0] = target  # type: ignore[attr-defined]
        assert main.run() == 77
        pa.progs[1] = looping  # type: ignore[attr-defined]
        assert looping.run() == 5  # the 34th tail call fails and the program goes on
        assert m.tail_calls == 33
        del pa.progs[0]  # type: ignore[attr-defined]
        assert main.run() == 1  # empty slot: the call returns and execution continues


def fault_in(m: Machine, text: str, engine: str) -> VMError:
    with pytest.raises(VMError) as e:
        m.load(assemble(text, "rfmt"), engine).run()
    return e.value


def test_lru_evicts_least_recently_used() -> None:
    m = Machine()
    fd = m.create_map(MapType.LRU_HASH, 1, 1, 2)
    mp = m.maps[fd]
    assert isinstance(mp, HashMap)
    mp.set(b"a", b"1")
    mp.set(b"b", b"2")
    assert mp.lookup(b"a", 0)  # touch a
    mp.set(b"c", b"3")
    assert mp.keys() == [b"a", b"c"]
    plain = m.maps[m.create_map(MapType.HASH, 1, 1, 1)]
    assert plain.update(b"x", b"1", 0, 0) == 0
    assert plain.update(b"y", b"1", 0, 0) == -errno.E2BIG
    assert plain.update(b"x", b"1", 1, 0) == -errno.EEXIST
    assert plain.update(b"z", b"1", 2, 0) == -errno.ENOENT
    assert plain.delete(b"z") == -errno.ENOENT


@pytest.mark.parametrize("engine", ENGINES)
def test_context_helpers(engine: str) -> None:
    env = Env(pid=10, tgid=20, uid=3, gid=4, comm="worker", cpu=1, ncpus=2, clock=lambda: 123)
    m = Machine(env)

    def call(n: int) -> int:
        return m.load(assemble(f"call {n}\nexit", "rfmt"), engine).run()

    assert call(5) == 123
    assert call(8) == 1
    assert call(14) == 20 << 32 | 10
    assert call(15) == 4 << 32 | 3
    a, b = call(7), call(7)
    m2 = Machine(Env(seed=0))
    assert (
        m2.load(assemble("call 7\nexit", "rfmt"), engine).run(),
        m2.load(assemble("call 7\nexit", "rfmt"), engine).run(),
    ) == (
        Machine(Env(seed=0)).rng.getrandbits(32),
        _second(),
    )
    assert 0 <= a < 2**32 and 0 <= b < 2**32
    text = "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 16\nldxdw %r0, [%r10-16]\nexit"
    assert m.load(assemble(text, "rfmt"), engine).run().to_bytes(8, "little") == b"worker\0\0"


def _second() -> int:
    import random

    r = random.Random(0)
    r.getrandbits(32)
    return r.getrandbits(32)


@pytest.mark.parametrize("engine", ENGINES)
def test_trace_printk_and_probe_read(engine: str) -> None:
    m = Machine()
    text = """
        stdw [%r10-8], 0
        stw [%r10-16], 0x64253d78
        stw [%r10-12], 0
        mov %r1, %r10
        add %r1, -16
        mov %r2, 8
        mov %r3, 42
        call 6
        mov %r1, %r10
        add %r1, -8
        mov %r2, 8
        mov %r3, 16
        call 113
        exit
    """
    # "x=%d" with 42, then probe_read_kernel from an unmapped address
    r0 = m.load(assemble(text, "rfmt"), engine).run()
    assert m.trace == ["x=42"]
    assert r0 == -errno.EFAULT & (2**64 - 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_probe_read_str_from_input(engine: str) -> None:
    m = Machine()
    text = """
        mov %r3, %r1
        mov %r1, %r10
        add %r1, -8
        mov %r2, 8
        call 115
        ldxdw %r1, [%r10-8]
        lsh %r0, 56
        or %r0, %r1
        exit
    """
    r0 = m.load(assemble(text, "rfmt"), engine).run(b"hi\0zzzz")
    assert r0 >> 56 == 3
    assert (r0 & 0xFFFFFF).to_bytes(3, "little") == b"hi\0"
