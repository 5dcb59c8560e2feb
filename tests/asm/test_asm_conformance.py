"""The conformance suite's programs as assembler input (../shared/conformance).

All 313 positive programs must assemble; where a file carries a ``-- raw`` section too,
the assembled bytes must equal it. Of the 60 negative files, the ones whose problem is the
*text* must be rejected with an AsmError at the right line; the rest are well-formed
assembly that a verifier or VM must reject (or raw bytecode), listed below with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pybpf.asm import assemble, encode
from pybpf.asm.hexio import parse_hex
from pybpf.errors import AsmError

SUITE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "bpf_conformance"
SECTIONS = {"asm", "raw", "mem", "result", "error", "c", "no register offset"}

# Negative files rejected by the assembler: the text itself is malformed.
ASM_NEGATIVE = {
    "invalid_imm32_dec_range.data": "immediate 2147483648 does not fit in 32 bits",
    "invalid_imm32_hex_range.data": "immediate 0x100000000 does not fit in 32 bits",
    "invalid_label.data": "unknown label 'NOT_A_LABEL'",
    "invalid_lock.data": "invalid number of operands for lock",
    "invalid_lock2.data": "invalid number of operands for lock",
    "invalid_mnemonic.data": "unknown mnemonic 'ldxq'",
    "invalid_offset.data": "expected '[', found '%r1'",
    "invalid_offset_range.data": "offset +0x10000 does not fit in 16 bits",
    "invalid_operand_count.data": "expected ',', found end of line",
    "invalid_register.data": "invalid register '%r50'",
}
# Negative files that are not the assembler's to reject, and why.
NOT_ASM = {
    "error.data": "valid text (or %r0, %r10); rejected at run time (r0 read uninitialised)",
    "incorrect_return_value_high_bits.data": "valid text; the runner compares the result",
    "empty.data": "no program at all (a loader/test-runner error)",
    "empty_instructions.data": "no asm or raw section (a test-runner error)",
    "invalid_unknown_directive.data": "its problem is the unknown section '-- Unknown "
    "directive' of the .data format, not assembly (see test_unknown_section_is_rejected)",
}
# The 45 unused-* files are raw bytecode with a reserved field set: verifier/VM territory
# (pybpf.asm.classify reports them; see test_unused_field_files_classify_invalid).


def sections(path: Path) -> dict[str, str]:
    """The ``-- NAME`` sections of a conformance file (comments removed)."""
    out: dict[str, str] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("-- "):
            current = line[3:].strip()
            if current not in SECTIONS:
                raise ValueError(f"{path.name}: unknown section '{current}'")
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


POSITIVE = sorted((SUITE / "tests").glob("*.data"))
NEGATIVE = sorted((SUITE / "negative").glob("*.data"))


def test_suite_is_present() -> None:
    assert len(POSITIVE) == 313
    assert len(NEGATIVE) == 60


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.name)
def test_positive_program_assembles(path: Path) -> None:
    sec = sections(path)
    prog = assemble(sec["asm"], source=path.name)
    assert prog, "a program with at least one instruction"
    if "raw" in sec:
        assert encode(prog) == parse_hex(sec["raw"])


def test_raw_sections_were_compared() -> None:
    # Guard against the comparison above silently never running.
    assert sum("raw" in sections(p) for p in POSITIVE) >= 1


@pytest.mark.parametrize("name", sorted(ASM_NEGATIVE))
def test_negative_text_is_rejected(name: str) -> None:
    sec = sections(SUITE / "negative" / name)
    with pytest.raises(AsmError) as info:
        assemble(sec["asm"], source=name)
    assert ASM_NEGATIVE[name] in str(info.value)
    assert info.value.line == 1  # every one of these breaks on its first line
    assert str(info.value).startswith(f"{name}:1:")


def test_every_negative_file_is_accounted_for() -> None:
    names = {p.name for p in NEGATIVE}
    unused = {n for n in names if n.startswith("unused-")}
    assert names == set(ASM_NEGATIVE) | set(NOT_ASM) | unused
    assert len(unused) == 45


@pytest.mark.parametrize("name", ["error.data", "incorrect_return_value_high_bits.data"])
def test_semantic_negatives_assemble(name: str) -> None:
    assert assemble(sections(SUITE / "negative" / name)["asm"])


def test_unknown_section_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown section 'Unknown directive'"):
        sections(SUITE / "negative" / "invalid_unknown_directive.data")


@pytest.mark.parametrize(
    "path", [p for p in NEGATIVE if p.name.startswith("unused-")], ids=lambda p: p.name
)
def test_unused_field_files_classify_invalid(path: Path) -> None:
    from pybpf.asm import decode, is_valid

    first, last = decode(parse_hex(sections(path)["raw"]))
    assert not is_valid(first)
    assert is_valid(last)  # the trailing exit is fine
