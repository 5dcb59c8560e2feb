"""Reading a program from a file: assembly text, raw bytecode, or an ELF section.

Shared by ``pybpf run`` and ``pybpf verify``. ``FILE:SECTION`` names a section of a BPF ELF
object (its bytes taken as they are: map relocations are not applied).
"""

from __future__ import annotations

import os

from pybpf.asm import DecodeError, Insn, assemble, decode
from pybpf.errors import UsageError

_ELF_MAGIC = b"\x7fELF"


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError(f"cannot read '{path}': {e.strerror}") from None


def _elf_section(path: str, section: str) -> bytes:
    from pybpf.elf.reader import ElfFile

    with ElfFile(path) as elf:
        sec = elf.section(section)
        if sec is None:
            raise UsageError(f"{path}: no section '{section}'")
        return elf.section_data(sec)


def load_program(spec: str) -> list[Insn]:
    """Instructions from ``spec`` (``FILE`` or ``FILE:SECTION``); UsageError/AsmError if bad."""
    path, section = spec, None
    if not os.path.exists(spec) and ":" in spec:
        path, section = spec.split(":", 1)
    data = _read(path)
    if data.startswith(_ELF_MAGIC):
        if not section:
            raise UsageError(f"{path} is an ELF object: name a section as {path}:SECTION")
        data = _elf_section(path, section)
        return _decode(data, f"{path}:{section}")
    if section:
        raise UsageError(f"{path} is not an ELF object, so ':{section}' names nothing")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode(data, path)
    if "\0" in text:
        return _decode(data, path)
    return assemble(text, source=path)


def _decode(data: bytes, name: str) -> list[Insn]:
    try:
        return decode(data)
    except DecodeError as e:
        raise UsageError(f"{name}: {e}") from None


def parse_hex(text: str) -> bytes:
    """Hex bytes with optional spaces (``--mem``, the plugin's argument)."""
    try:
        return bytes.fromhex("".join(text.split()))
    except ValueError:
        raise UsageError(f"invalid hex memory '{text}'") from None


__all__ = ["load_program", "parse_hex"]
