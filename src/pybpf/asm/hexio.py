"""Bytecode as hex text: the conformance suite's ``-- raw`` words, bpftool's byte lists."""

from __future__ import annotations


def parse_hex(text: str) -> bytes:
    """Hex text to bytes: ``0x`` tokens are 64-bit little-endian words, others plain bytes.

    ``#`` starts a comment; commas and whitespace separate tokens. So both
    ``0x0000000100000007`` and ``07 00 00 00 01 00 00 00`` give the same 8 bytes. Raises
    ``ValueError`` naming the line of a bad token.
    """
    out = bytearray()
    for lineno, line in enumerate(text.splitlines(), 1):
        for tok in line.split("#", 1)[0].replace(",", " ").split():
            try:
                if tok.lower().startswith("0x"):
                    out += int(tok, 16).to_bytes(8, "little")
                else:
                    out += bytes.fromhex(tok)
            except (ValueError, OverflowError):
                raise ValueError(f"line {lineno}: not a hex byte or 64-bit word: '{tok}'") from None
    return bytes(out)


def format_hex_words(raw: bytes) -> str:
    """One ``0x%016x`` little-endian word per 8-byte slot, one a line (``parse_hex`` reads it)."""
    words = (int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8))
    return "".join(f"0x{w:016x}\n" for w in words)


__all__ = ["format_hex_words", "parse_hex"]
