"""The bytes of string literals.

A string value is a Python ``str`` in the *surrogateescape* convention, the same one
:func:`pybpf.output.values.decode_cstr` uses for strings read from the kernel: bytes that
form valid UTF-8 are ordinary characters, and every other byte is the lone surrogate
``U+DC80..U+DCFF`` standing for that one byte.  So ``"\\xff\\x80"`` is two bytes, ``ff 80``
(not the UTF-8 encodings of U+00FF and U+0080), ``"\\xc3\\xa9"`` is the two bytes of
``é`` and equal to ``"é"`` written in the source, and one encoder,
:func:`literal_bytes`, gives every literal's bytes back.
"""

from __future__ import annotations


def byte_char(b: int) -> str:
    """The character standing for byte ``b`` (0..255) in a string value."""
    return chr(b) if b < 0x80 else chr(0xDC00 + b)


def literal_bytes(s: str) -> bytes:
    """The bytes of string value ``s`` (without the terminating NUL)."""
    return s.encode("utf-8", "surrogateescape")


def normalize(s: str) -> str:
    """``s`` in canonical form: escaped bytes that spell UTF-8 become those characters,
    as they would when the string comes back from the kernel."""
    return literal_bytes(s).decode("utf-8", "surrogateescape")


def byte_len(s: str) -> int:
    """Length of ``s`` in bytes (a string literal's type is ``string[byte_len + 1]``)."""
    return len(literal_bytes(s))


def escape_byte(c: str) -> str | None:
    """``\\xNN`` for a character standing for a raw byte, else None."""
    o = ord(c)
    return f"\\x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF else None


__all__ = ["byte_char", "byte_len", "escape_byte", "literal_bytes", "normalize"]
