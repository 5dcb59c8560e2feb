"""Reading the bpf_conformance ``.data`` files (format in shared/conformance/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.conftest import SHARED

from pybpf.asm import Insn, assemble, decode

ROOT = SHARED / "conformance" / "bpf_conformance"
POSITIVE = sorted((ROOT / "tests").glob("*.data"))
NEGATIVE = sorted((ROOT / "negative").glob("*.data"))


@dataclass
class Case:
    """One conformance file's sections."""

    path: Path
    sections: dict[str, str]

    @property
    def mem(self) -> bytes | None:
        """The input buffer, or None when the file has none."""
        text = self.sections.get("mem")
        return None if text is None else bytes.fromhex("".join(text.split()))

    @property
    def result(self) -> int | None:
        """Expected r0, or None."""
        text = self.sections.get("result", "").strip()
        return int(text, 0) if text else None

    @property
    def expects_error(self) -> bool:
        """The file says the program must be rejected."""
        return "error" in self.sections

    def program(self) -> list[Insn]:
        """Instructions: ``raw`` wins over ``asm`` (raises AsmError/DecodeError on bad input)."""
        if "raw" in self.sections:
            return decode(raw_bytes(self.sections["raw"]))
        return assemble(self.sections.get("asm", ""), "rfmt", source=self.path.name)


def raw_bytes(text: str) -> bytes:
    """``-- raw``: 64-bit words (hex or decimal), or 8 hex bytes per line."""
    out = bytearray()
    for line in text.splitlines():
        toks = line.split()
        if not toks:
            continue
        if len(toks) == 8 and all(len(t) == 2 for t in toks):
            out += bytes(int(t, 16) for t in toks)
        else:
            for t in toks:
                out += (int(t, 0) & (2**64 - 1)).to_bytes(8, "little")
    return bytes(out)


def parse(path: Path) -> Case:
    """Split a file into its ``-- name`` sections, dropping ``#`` comments."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        stripped = line.split("#", 1)[0] if not line.startswith("-- ") else line
        if line.startswith("-- "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += stripped + "\n"
    return Case(path, sections)
