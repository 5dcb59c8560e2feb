"""The ``xlated`` style against real bpftool output, and the C style against the kernel's
own instruction printer (its verifier log), from goldens and live.

Goldens (tests/testdata/asm/xlated/, made by tests/testdata/asm/capture.py) hold the
translated program bytes, bpftool's dump of them verbatim, and how bpftool named each
translated helper call via /proc/kallsyms (addresses differ per boot, names do not).

bpftool here is v7.1 (Linux 6.1 era); it predates the cpu v4 forms (sdiv/smod, movsx,
sign-extending loads, bswap, gotol), printing them as plain ops or ``BUG_...``. For those
the reference is the running kernel's printer (6.18), which the verifier log shows.
"""

from __future__ import annotations

import itertools
import json

import pytest
from asm_kernel_oracle import PROGRAMS, XLATED_DIR, observe, parse_verifier_log, source

from pybpf.asm import Form, Record, assemble, decode, disassemble
from pybpf.asm.fmt import format_c_line, format_xlated, format_xlated_line, kallsyms_resolver
from pybpf.asm.hexio import parse_hex

CLASSIC = ("alu_jmp", "mem_atomic", "maps_helpers", "bpftrace_count")
# Forms bpftool v7.1 cannot print the modern way (see module docstring).
V4_FORMS = {Form.MOVSX, Form.LDXSX, Form.BSWAP, Form.GOTOL}


def _golden(name: str) -> tuple[bytes, str, dict[int, str]]:
    raw = parse_hex((XLATED_DIR / f"{name}.xlated.hex").read_text())
    text = (XLATED_DIR / f"{name}.xlated.txt").read_text()
    calls = {
        int(k): v for k, v in json.loads((XLATED_DIR / f"{name}.calls.json").read_text()).items()
    }
    return raw, text, calls


@pytest.mark.parametrize("name", CLASSIC)
def test_xlated_matches_bpftool_line_for_line(name: str) -> None:
    raw, text, calls = _golden(name)
    mine = format_xlated(decode(raw), lambda insn: calls.get(insn.imm))
    assert mine.splitlines() == text.splitlines()
    assert len(text.splitlines()) > 15


def test_bpftrace_golden_has_translated_calls_and_maps() -> None:
    # The interesting parts: kallsyms-named calls, map[id:N], lddw numbering skips a slot.
    _, text, _ = _golden("bpftrace_count")
    assert "call __htab_map_lookup_elem#" in text
    assert ": (18) r1 = map[id:" in text
    numbers = [int(line.split(":")[0]) for line in text.splitlines()]
    assert any(b - a == 2 for a, b in itertools.pairwise(numbers))


def test_v4_golden_differs_from_bpftool_only_on_forms_it_predates() -> None:
    raw, text, calls = _golden("v4_forms")
    recs = disassemble(decode(raw))
    theirs = text.splitlines()
    assert len(recs) == len(theirs)
    differing = []
    for rec, line in zip(recs, theirs, strict=True):
        ours = format_xlated_line(rec, lambda insn: calls.get(insn.imm))
        if _local_call(rec):
            # bpftool appends the JITed subprogram's symbol, known only from prog info.
            assert line.startswith(ours + "#bpf_prog_"), line
        elif ours != line:
            sdiv_smod = rec.form in (Form.ALU_IMM, Form.ALU_REG) and rec.insn.off == 1
            assert rec.form in V4_FORMS or sdiv_smod, line
            differing.append(rec.index)
    assert len(differing) >= 10


@pytest.mark.parametrize("name", PROGRAMS)
def test_c_style_matches_the_kernel_printer(name: str) -> None:
    # The verifier log prints each original instruction with the kernel's print_bpf_insn.
    insns = assemble(source(name), "c")
    kernel = parse_verifier_log_file(name)
    compared = 0
    for rec in disassemble(insns):
        if rec.index not in kernel or rec.form == Form.LDDW:
            continue  # the verifier prints lddw map pointers as kernel addresses
        assert f"({rec.insn.opcode:02x}) {format_c_line(rec)}" == kernel[rec.index]
        compared += 1
    assert compared >= len(insns) - 2


def _local_call(rec: Record) -> bool:
    return rec.insn.is_call and rec.insn.src == 1 and not rec.insn.opcode & 0x08


def parse_verifier_log_file(name: str) -> dict[int, str]:
    out = {}
    for line in (XLATED_DIR / f"{name}.verifier.txt").read_text().splitlines():
        slot, text = line.split(": ", 1)
        out[int(slot)] = text
    return out


def test_kallsyms_resolver_uses_call_base() -> None:
    text = "ffffffff81000000 T __bpf_call_base\nffffffff81000100 T bpf_map_lookup_elem\n"
    resolve = kallsyms_resolver(text)
    (insn,) = assemble("call 256", "c")
    assert resolve(insn) == "bpf_map_lookup_elem"
    assert kallsyms_resolver("0000000000000000 T __bpf_call_base\n")(insn) is None


def test_parse_verifier_log() -> None:
    log = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0_w=0\n1: (95) exit\n"
    assert parse_verifier_log(log) == {0: "(b7) r0 = 0", 1: "(95) exit"}


@pytest.mark.kernel
@pytest.mark.parametrize("name", PROGRAMS)
def test_live_kernel_and_bpftool(name: str, no_leaks: None) -> None:
    obs = observe(name)
    recs = disassemble(decode(obs.xlated))
    with open("/proc/kallsyms", encoding="utf-8") as f:
        resolve = kallsyms_resolver(f.read())
    mine = [format_xlated_line(r, resolve) for r in recs]
    for rec, ours, theirs in zip(recs, mine, obs.bpftool.splitlines(), strict=True):
        if rec.form in V4_FORMS or (rec.form in (Form.ALU_IMM, Form.ALU_REG) and rec.insn.off == 1):
            continue
        if _local_call(rec):
            assert theirs.startswith(ours + "#bpf_prog_")
            continue
        assert ours == theirs
    for rec in disassemble(obs.insns):
        if rec.index in obs.verifier and rec.form != Form.LDDW:
            assert f"({rec.insn.opcode:02x}) {format_c_line(rec)}" == obs.verifier[rec.index]


def _bpftool_json(*args: str) -> object:
    import subprocess

    p = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True, timeout=30)
    return json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None


@pytest.mark.kernel
def test_live_every_loaded_program_matches_bpftool(no_leaks: None) -> None:
    # Whatever is loaded on this machine (bpftrace below, other tests, the system): dump it
    # with bpftool, once as text and once as JSON with opcodes, and print the bytes ourselves.
    import subprocess
    import time

    tracer = subprocess.Popen(
        ["bpftrace", "-e", "tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with open("/proc/kallsyms", encoding="utf-8") as f:
            resolve = kallsyms_resolver(f.read())
        compared: set[str] = set()  # names of the programs dumped and matched
        deadline = time.monotonic() + 60
        while "sys_enter_getpp" not in compared and time.monotonic() < deadline:
            time.sleep(0.5)
            progs = _bpftool_json("prog", "show") or []
            assert isinstance(progs, list)
            for prog in progs:
                if _compare_live(str(prog["id"]), resolve):
                    compared.add(str(prog.get("name", "")))
    finally:
        tracer.terminate()
        tracer.wait(timeout=30)
    assert "sys_enter_getpp" in compared  # bpftrace's program, at least


def _compare_live(pid: str, resolve: object) -> bool:
    """True if program ``pid`` was dumped and matched, False if it vanished meanwhile."""
    import subprocess

    entries = _bpftool_json("prog", "dump", "xlated", "id", pid, "opcodes")
    text = subprocess.run(
        ["bpftool", "prog", "dump", "xlated", "id", pid], capture_output=True, text=True
    )
    if not isinstance(entries, list) or text.returncode != 0:
        return False  # unloaded between the listing and the dump
    from asm_kernel_oracle import xlated_from_json

    recs = disassemble(decode(xlated_from_json(entries)))
    # bpftool adds function signatures and source lines for programs with BTF.
    theirs = [ln for ln in text.stdout.splitlines() if ln[:5].strip().rstrip(":").isdigit()]
    assert len(recs) == len(theirs), pid
    for rec, line in zip(recs, theirs, strict=True):
        ours = format_xlated_line(rec, resolve)  # type: ignore[arg-type]
        if _local_call(rec):
            assert line.startswith(ours), (pid, line)
        elif not (
            rec.form in V4_FORMS or (rec.form in (Form.ALU_IMM, Form.ALU_REG) and rec.insn.off == 1)
        ):
            assert ours == line, pid
    return True
