"""Instructions per second of the VM's two engines (and our verifier's speed).

    python bench/bench_vm.py [--quick]

Workloads: a prime sieve over a 64 KiB buffer (loops, byte loads/stores) and 2000
instructions of straight-line ALU code run repeatedly. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pybpf.asm import Insn, assemble
from pybpf.vm import Machine

SIEVE = """
    mov %r0, 0
    mov %r3, 2
outer:
    jge %r3, %r2, done
    mov %r4, %r1
    add %r4, %r3
    ldxb %r5, [%r4+0]
    jne %r5, 0, next
    add %r0, 1
    mov %r6, %r3
    mul %r6, %r3
inner:
    jge %r6, %r2, next
    mov %r4, %r1
    add %r4, %r6
    stb [%r4+0], 1
    add %r6, %r3
    ja inner
next:
    add %r3, 1
    ja outer
done:
    exit
"""


def straight_line(n: int, seed: int = 1) -> list[Insn]:
    """``n`` random 64/32-bit ALU instructions over r0-r9, then exit."""
    rnd = random.Random(seed)
    out = [Insn(0xB7, r, 0, 0, rnd.randrange(1, 1000)) for r in range(10)]
    codes = [0x00, 0x10, 0x20, 0x40, 0x50, 0xA0, 0x60, 0x70, 0xB0]
    for _ in range(n):
        cls = rnd.choice([0x07, 0x04])
        code = rnd.choice(codes)
        if rnd.random() < 0.5:
            out.append(Insn(cls | code | 0x08, rnd.randrange(10), rnd.randrange(10)))
        else:
            imm = rnd.randrange(0, 31) if code in (0x60, 0x70) else rnd.randrange(-1000, 1000)
            out.append(Insn(cls | code, rnd.randrange(10), 0, 0, imm))
    return [*out, Insn(0x95)]


def measure(prog: list[Insn], engine: str, mem_size: int, min_time: float) -> tuple[float, float]:
    """(instructions per second, one-time preparation seconds)."""
    m = Machine(insn_limit=10**9)
    t0 = time.perf_counter()
    loaded = m.load(prog, engine)
    loaded.entry()  # translate now, so it is not counted as run time
    prep = time.perf_counter() - t0
    total_insns, total_time = 0, 0.0
    while total_time < min_time:
        mem = bytearray(mem_size) if mem_size else None
        t = time.perf_counter()
        loaded.run(mem)
        total_time += time.perf_counter() - t
        total_insns += m.count
    return total_insns / total_time, prep


def verifier_report() -> None:
    """Our verifier against the kernel's on the test corpus (needs root), and its speed."""
    from tests.verifier.kernel_compare import compare_all

    t = time.perf_counter()
    outs = compare_all()
    took = time.perf_counter() - t
    acc = [o for o in outs if o.kernel_ok]
    rej = [o for o in outs if not o.kernel_ok]
    false_acc = [o for o in rej if o.ours_ok]
    false_rej = [o for o in acc if not o.ours_ok]
    print(f"| corpus programs | {len(outs)} |")
    print(f"| kernel accepts / rejects | {len(acc)} / {len(rej)} |")
    print(f"| false accepts (kernel rejects, ours accepts) | {len(false_acc)} |")
    print(f"| false rejects (kernel accepts, ours rejects) | {len(false_rej)} "
          f"({100 * len(false_rej) / len(acc):.1f}% of accepted) |")  # fmt: skip
    print(f"| time for both verifiers over the corpus | {took:.1f} s |")
    for o in false_rej:
        print(f"|   false reject: {o.entry.name} | {o.ours_msg} |")
    from pybpf.asm import assemble as asm
    from pybpf.verifier.check import Verifier

    loop = asm("mov %r0, 0\nmov %r1, 2000\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit")
    t = time.perf_counter()
    v = Verifier(loop).run()
    print(
        f"| verifier speed (2000-iteration loop) | {v.processed / (time.perf_counter() - t):,.0f} insns/s |"
    )


def tracer_report() -> None:
    """Our verifier against the kernel's on every program the tracer compiles from
    tests/testdata/tracer/*.bt (root)."""
    from contextlib import ExitStack

    from pybpf.bpf.maps import Map, MapSpec
    from pybpf.bpf.prog import Program, ProgSpec
    from pybpf.bpf.syscall import MapType, ProgType
    from pybpf.cli.pybpftrace import compile_script
    from pybpf.errors import VerifierError
    from pybpf.session import _MAP_TYPES, _PROG_TYPES, _script_key
    from pybpf.verifier import MapInfo, verify

    ours = {"KPROBE": "kprobe", "TRACEPOINT": "tracepoint", "PERF_EVENT": "perf_event",
            "RAW_TRACEPOINT": "raw_tracepoint", "SOCKET_FILTER": "socket_filter"}  # fmt: skip
    n = k_ok = 0
    false_acc: list[str] = []
    false_rej: list[str] = []
    slowest: list[Any] = [0.0, 0, ""]
    largest: list[Any] = [0.0, 0, ""]
    root = Path(__file__).resolve().parents[1] / "tests" / "testdata" / "tracer"
    for path in sorted(root.glob("*.bt")):
        script = compile_script(path.read_text(), path.name, [], False)
        with ExitStack() as stack:
            maps, infos = {}, {}
            for key, d in script.maps.items():
                spec = MapSpec(MapType[_MAP_TYPES[d.kind]], d.key_size, d.value_size, d.max_entries)
                m = stack.enter_context(Map.create(spec))
                maps[key] = m
                infos[m.fd] = MapInfo(int(spec.type), d.key_size, d.value_size, d.max_entries)
            for p in script.progs:
                insns = list(p.code.insns)
                for idx, name in p.code.map_relocs.items():
                    i = insns[idx]
                    fd = maps[_script_key(script, name)].fd
                    insns[idx] = Insn(i.opcode, i.dst, i.src, i.off, (i.imm & ~0xFFFFFFFF) | fd)
                pt = ProgType[_PROG_TYPES[p.prog_type]]
                extra: dict[str, object] = {}
                if p.code.functions:  # callbacks need BTF func_info in the kernel
                    from pybpf.runtime.btfinfo import func_btf

                    btf_fd, extra = func_btf(p.code.functions)
                    stack.enter_context(btf_fd)
                try:
                    with Program.load(ProgSpec(pt, tuple(insns), **extra)):  # type: ignore[arg-type]
                        kernel = True
                except VerifierError:
                    kernel = False
                t0 = time.perf_counter()
                mine = verify(insns, ours[pt.name], infos)
                took = time.perf_counter() - t0
                if took > slowest[0]:
                    slowest[:] = [took, len(insns), f"{path.name} {p.label}"]
                if len(insns) > largest[1]:
                    largest[:] = [took, len(insns), f"{path.name} {p.label}"]
                n += 1
                k_ok += kernel
                if kernel and not mine.ok:
                    false_rej.append(f"{path.name} {p.label}: {mine.error}")
                if mine.ok and not kernel:
                    false_acc.append(f"{path.name} {p.label}")
    print(f"| tracer programs | {n} (kernel accepts {k_ok}) |")
    print(f"| false accepts | {len(false_acc)} {false_acc} |")
    print(
        f"| slowest verification | {slowest[0] * 1000:.1f} ms ({slowest[1]} insns, {slowest[2]}) |"
    )
    print(f"| largest program | {largest[0] * 1000:.1f} ms ({largest[1]} insns, {largest[2]}) |")
    print(f"| false rejects | {len(false_rej)} {false_rej} |")


def main() -> int:
    """Run the benchmarks and print the table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    ap.add_argument("--verifier", action="store_true", help="verifier vs kernel (root)")
    ap.add_argument("--tracer", action="store_true", help="verifier vs kernel on tracer output")
    args = ap.parse_args()
    if args.verifier:
        verifier_report()
        return 0
    if args.tracer:
        tracer_report()
        return 0
    min_time = 0.5 if args.quick else 2.0
    sieve = assemble(SIEVE)
    line = straight_line(2000)
    rows = []
    for name, prog, mem in (("prime sieve (64 KiB)", sieve, 65536), ("straight line", line, 0)):
        ips = {}
        for engine in ("interp", "compiled"):
            ips[engine], prep = measure(prog, engine, mem, min_time)
            rows.append(f"| {name} | {engine} | {ips[engine] / 1e6:.2f} M | {prep * 1e3:.1f} ms |")
        rows.append(f"| {name} | speed-up | {ips['compiled'] / ips['interp']:.1f}x | |")
    print("| workload | engine | insns/s | prepare |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
