"""Key/value codecs for map views: a struct format, a pair of callables, or raw bytes."""

from __future__ import annotations

import struct
from collections.abc import Callable

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias


CodecSpec: TypeAlias = "str | tuple[Callable[[Any], bytes], Callable[[bytes], Any]] | Codec | None"
"""What map views accept as a key or value codec."""


class Codec:
    """Encodes Python values to fixed-size bytes and back.

    ``Codec("<I")`` packs one unsigned int (decoding gives a scalar); a format with several
    fields takes and gives tuples. ``Codec((enc, dec))`` uses callables. ``Codec(None)``
    passes bytes through.
    """

    def __init__(
        self, spec: str | tuple[Callable[[Any], bytes], Callable[[bytes], Any]] | None
    ) -> None:
        self._struct: struct.Struct | None = None
        self._enc: Callable[[Any], bytes] | None = None
        self._dec: Callable[[bytes], Any] | None = None
        if isinstance(spec, str):
            self._struct = struct.Struct(spec)
            self._single = len(self._struct.unpack(bytes(self._struct.size))) == 1
        elif spec is not None:
            self._enc, self._dec = spec

    @property
    def size(self) -> int | None:
        """Encoded size for struct formats, else ``None`` (unknown)."""
        return self._struct.size if self._struct else None

    def encode(self, value: Any) -> bytes:
        """Value -> bytes."""
        if self._struct is not None:
            if self._single and not isinstance(value, tuple):
                return self._struct.pack(value)
            return self._struct.pack(*value)
        if self._enc is not None:
            return self._enc(value)
        return bytes(value)

    def decode(self, raw: bytes) -> Any:
        """Bytes -> value."""
        if self._struct is not None:
            out = self._struct.unpack_from(raw)
            return out[0] if self._single else out
        if self._dec is not None:
            return self._dec(raw)
        return bytes(raw)


def as_codec(spec: CodecSpec) -> Codec:
    """Accept a codec or anything :class:`Codec` accepts."""
    return spec if isinstance(spec, Codec) else Codec(spec)


__all__ = ["Codec", "CodecSpec", "as_codec"]
