"""BPF maps: the plain-data :class:`MapSpec` and the live :class:`Map`.

A ``MapSpec`` says what to create and can be built, validated and compared without a
kernel. ``Map.create(spec)`` makes the kernel object; the ``Map`` owns its fd. Keys and
values cross the API as ``bytes``; per-CPU maps give and take one value per possible CPU.
:meth:`Map.view` wraps a map in a ``dict``-like object with key/value codecs.
"""

from __future__ import annotations

import errno as E
import re
import struct
from collections.abc import Iterator, MutableMapping, Sequence
from types import TracebackType

from pybpf.bpf import syscall as sc
from pybpf.bpf.codec import Codec, CodecSpec, as_codec
from pybpf.bpf.cpus import num_possible_cpus
from pybpf.bpf.errs import kernel_error
from pybpf.bpf.fd import Fd
from pybpf.bpf.syscall import Cmd, MapType, UpdateFlag
from pybpf.errors import KernelError, UsageError
from pybpf.records import dataclass

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PER_CPU_TYPES = frozenset(
    {
        MapType.PERCPU_HASH,
        MapType.PERCPU_ARRAY,
        MapType.LRU_PERCPU_HASH,
        MapType.PERCPU_CGROUP_STORAGE,
    }
)
"""Map types whose values are one slot per possible CPU."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_.]{0,15}$")
_PAGE = 4096


@dataclass(frozen=True)
class MapSpec:
    """What to create: the arguments of ``BPF_MAP_CREATE`` as plain data."""

    type: MapType
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    name: str = ""
    inner_map_fd: int = 0
    numa_node: int = 0
    btf_fd: int = 0
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0
    map_extra: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", MapType(self.type))
        if not _NAME_RE.match(self.name):
            raise UsageError(
                f"map name {self.name!r}: at most 15 characters of letters, digits, '_' or '.'"
            )
        for field in ("key_size", "value_size", "max_entries"):
            if getattr(self, field) < 0:
                raise UsageError(f"map {self.name or self.type.name}: {field} must be >= 0")
        if self.type == MapType.RINGBUF:
            n = self.max_entries
            if self.key_size or self.value_size or n < _PAGE or n & (n - 1):
                raise UsageError(
                    "ringbuf map: key and value size must be 0 and max_entries a power-of-2 "
                    "multiple of the page size"
                )

    @property
    def per_cpu(self) -> bool:
        """True when values are per-CPU."""
        return self.type in PER_CPU_TYPES

    @property
    def label(self) -> str:
        """How messages name the map."""
        return self.name or self.type.name.lower()

    def attr(self) -> bytearray:
        """The packed ``BPF_MAP_CREATE`` attribute."""
        a = sc.attr_buffer()
        struct.pack_into(
            "<7I16s",
            a,
            0,
            self.type,
            self.key_size,
            self.value_size,
            self.max_entries,
            self.flags,
            self.inner_map_fd,
            self.numa_node,
            self.name.encode(),
        )
        struct.pack_into(
            "<5IQ", a, 44, 0, self.btf_fd, self.btf_key_type_id, self.btf_value_type_id, 0,
            self.map_extra,
        )  # fmt: skip
        return a


def elem_attr(map_fd: int, key: bytearray | None, value: bytearray | None, flags: int) -> bytearray:
    """The packed attribute shared by the element commands."""
    a = sc.attr_buffer()
    struct.pack_into("<I4xQQQ", a, 0, map_fd, sc.address_of(key), sc.address_of(value), flags)
    return a


class Map:
    """A live BPF map owning its fd."""

    def __init__(self, fd: Fd, spec: MapSpec, map_id: int = 0) -> None:
        self._fd = fd
        self.spec = spec
        self._id = map_id
        self._ncpu = num_possible_cpus() if spec.per_cpu else 1
        self._slot = (spec.value_size + 7) & ~7 if spec.per_cpu else spec.value_size

    # -- life cycle ----------------------------------------------------------------------
    @classmethod
    def create(cls, spec: MapSpec) -> Map:
        """Create the map in the kernel."""
        try:
            fd = sc.bpf(Cmd.MAP_CREATE, spec.attr())
        except OSError as e:
            raise kernel_error(
                f"create map {spec.label}", e, feature=f"map type {spec.type.name.lower()}"
            ) from None
        return cls(Fd(fd, "bpf-map"), spec)

    @classmethod
    def from_fd(cls, fd: Fd) -> Map:
        """Adopt an owned map fd (e.g. from :func:`pybpf.bpf.info.fd_by_id`)."""
        from pybpf.bpf.info import map_info

        info = map_info(fd.fd)
        spec = MapSpec(
            MapType(info.type), info.key_size, info.value_size, info.max_entries,
            info.flags, _safe_name(info.name),
        )  # fmt: skip
        return cls(fd, spec, info.id)

    @classmethod
    def from_id(cls, map_id: int) -> Map:
        """Adopt a map already in the kernel by id."""
        from pybpf.bpf.info import ObjKind, fd_by_id

        fd = fd_by_id(ObjKind.MAP, map_id)
        try:
            return cls.from_fd(fd)
        except BaseException:
            fd.close()
            raise

    @property
    def fd(self) -> int:
        """The raw map fd (for ``lddw`` map references and attribute packing)."""
        return self._fd.fd

    def fileno(self) -> int:
        """The map fd, for ``select``/``epoll``."""
        return self._fd.fd

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._fd.closed

    @property
    def id(self) -> int:
        """The kernel's id for this map."""
        if not self._id:
            from pybpf.bpf.info import map_info

            self._id = map_info(self.fd).id
        return self._id

    def close(self) -> None:
        """Close the map fd (the kernel frees the map when nothing else references it)."""
        self._fd.close()

    def __enter__(self) -> Map:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Map {self.spec.label} {self.spec.type.name} {'closed' if self.closed else self._fd.fd}>"

    # -- element operations --------------------------------------------------------------
    @property
    def value_buffer_size(self) -> int:
        """Bytes the kernel reads or writes for one value (all CPUs for per-CPU maps)."""
        return self._slot * self._ncpu

    def _key(self, key: bytes | None) -> bytearray | None:
        if key is None:
            return None
        if len(key) != self.spec.key_size:
            raise UsageError(
                f"map {self.spec.label}: key is {len(key)} bytes, expected {self.spec.key_size}"
            )
        return bytearray(key)

    def _value_in(self, value: bytes | Sequence[bytes]) -> bytearray:
        size = self.spec.value_size
        if self.spec.per_cpu:
            vals = [value] * self._ncpu if isinstance(value, bytes | bytearray) else list(value)
            if len(vals) != self._ncpu:
                raise UsageError(
                    f"map {self.spec.label}: {len(vals)} per-CPU values, expected {self._ncpu}"
                )
            buf = bytearray(self.value_buffer_size)
            for i, v in enumerate(vals):
                self._check_value(bytes(v), size)
                buf[i * self._slot : i * self._slot + size] = v
            return buf
        assert isinstance(value, bytes | bytearray)
        self._check_value(bytes(value), size)
        return bytearray(value)

    def _check_value(self, v: bytes, size: int) -> None:
        if len(v) != size:
            raise UsageError(f"map {self.spec.label}: value is {len(v)} bytes, expected {size}")

    def _value_out(self, buf: bytes | bytearray) -> bytes | list[bytes]:
        if self.spec.per_cpu:
            size = self.spec.value_size
            return [bytes(buf[i * self._slot : i * self._slot + size]) for i in range(self._ncpu)]
        return bytes(buf)

    def _call(self, cmd: Cmd, attr: bytearray, what: str) -> None:
        try:
            sc.bpf(cmd, attr)
        except OSError as e:
            raise kernel_error(f"map {self.spec.label}: {what}", e) from None

    def lookup(self, key: bytes | None, flags: int = 0) -> bytes | list[bytes] | None:
        """The value for ``key`` (a list per CPU for per-CPU maps), or ``None`` if absent.

        Queue/stack maps take ``key=None`` and peek.
        """
        k = self._key(key)
        v = bytearray(self.value_buffer_size)
        try:
            sc.bpf(Cmd.MAP_LOOKUP_ELEM, elem_attr(self.fd, k, v, flags))
        except OSError as e:
            if e.errno == E.ENOENT:
                return None
            raise kernel_error(f"map {self.spec.label}: lookup", e) from None
        return self._value_out(v)

    def update(
        self, key: bytes | None, value: bytes | Sequence[bytes], flags: int = UpdateFlag.ANY
    ) -> None:
        """Insert or replace (``flags``: ``UpdateFlag.NOEXIST`` / ``EXIST`` to restrict)."""
        k = self._key(key)
        v = self._value_in(value)
        self._call(Cmd.MAP_UPDATE_ELEM, elem_attr(self.fd, k, v, int(flags)), "update")

    def delete(self, key: bytes) -> bool:
        """Delete ``key``; False if it was not there."""
        k = self._key(key)
        try:
            sc.bpf(Cmd.MAP_DELETE_ELEM, elem_attr(self.fd, k, None, 0))
        except OSError as e:
            if e.errno == E.ENOENT:
                return False
            raise kernel_error(f"map {self.spec.label}: delete", e) from None
        return True

    def lookup_and_delete(self, key: bytes | None) -> bytes | list[bytes] | None:
        """Remove and return the value (queue/stack maps: pop with ``key=None``)."""
        k = self._key(key)
        v = bytearray(self.value_buffer_size)
        try:
            sc.bpf(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, elem_attr(self.fd, k, v, 0))
        except OSError as e:
            if e.errno == E.ENOENT:
                return None
            raise kernel_error(f"map {self.spec.label}: lookup and delete", e) from None
        return self._value_out(v)

    def next_key(self, key: bytes | None = None) -> bytes | None:
        """The key after ``key`` (the first key for ``None``), or ``None`` at the end."""
        k = self._key(key)
        nk = bytearray(self.spec.key_size)
        try:
            sc.bpf(Cmd.MAP_GET_NEXT_KEY, elem_attr(self.fd, k, nk, 0))
        except OSError as e:
            if e.errno == E.ENOENT:
                return None
            raise kernel_error(f"map {self.spec.label}: next key", e) from None
        return bytes(nk)

    def keys(self) -> Iterator[bytes]:
        """Every key, in the kernel's order."""
        key = self.next_key(None)
        while key is not None:
            yield key
            key = self.next_key(key)

    def items(self) -> Iterator[tuple[bytes, bytes | list[bytes]]]:
        """(key, value) pairs; keys deleted meanwhile are skipped."""
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:
                yield key, value

    def __iter__(self) -> Iterator[bytes]:
        return self.keys()

    def freeze(self) -> None:
        """Make the map read-only for user space (``BPF_MAP_FREEZE``)."""
        self._call(Cmd.MAP_FREEZE, elem_attr(self.fd, None, None, 0), "freeze")

    # -- batch operations ----------------------------------------------------------------
    def lookup_batch(
        self, delete: bool = False, chunk: int = 64
    ) -> list[tuple[bytes, bytes | list[bytes]]]:
        """All entries via ``BPF_MAP_LOOKUP(_AND_DELETE)_BATCH`` (hash and array maps)."""
        cmd = Cmd.MAP_LOOKUP_AND_DELETE_BATCH if delete else Cmd.MAP_LOOKUP_BATCH
        ksz, vsz = self.spec.key_size, self.value_buffer_size
        out: list[tuple[bytes, bytes | list[bytes]]] = []
        token_in: bytearray | None = None
        token_out = bytearray(max(8, ksz))
        while True:
            keys, vals = bytearray(ksz * chunk), bytearray(vsz * chunk)
            a = _batch_attr(self.fd, token_in, token_out, keys, vals, chunk)
            done = False
            try:
                sc.bpf(cmd, a)
            except OSError as e:
                if e.errno == E.ENOSPC and chunk < (1 << 20):
                    chunk *= 2  # a hash bucket holds more entries than fit: widen and retry
                    continue
                if e.errno != E.ENOENT:
                    raise kernel_error(f"map {self.spec.label}: batch lookup", e) from None
                done = True
            count = struct.unpack_from("<I", a, 32)[0]
            for i in range(count):
                out.append((bytes(keys[i * ksz : (i + 1) * ksz]),
                            self._value_out(vals[i * vsz : (i + 1) * vsz])))  # fmt: skip
            if done:
                return out
            token_in = bytearray(token_out)

    def update_batch(
        self, entries: Sequence[tuple[bytes, bytes | Sequence[bytes]]], flags: int = 0
    ) -> int:
        """Insert many entries with one ``BPF_MAP_UPDATE_BATCH``; returns how many."""
        keys = bytearray(b"".join(bytes(self._key(k) or b"") for k, _ in entries))
        vals = bytearray(b"".join(bytes(self._value_in(v)) for _, v in entries))
        a = _batch_attr(self.fd, None, None, keys, vals, len(entries), flags)
        self._call(Cmd.MAP_UPDATE_BATCH, a, "batch update")
        count: int = struct.unpack_from("<I", a, 32)[0]
        return count

    def delete_batch(self, keys: Sequence[bytes]) -> int:
        """Delete many keys with one ``BPF_MAP_DELETE_BATCH``; returns how many."""
        kbuf = bytearray(b"".join(bytes(self._key(k) or b"") for k in keys))
        a = _batch_attr(self.fd, None, None, kbuf, None, len(keys))
        self._call(Cmd.MAP_DELETE_BATCH, a, "batch delete")
        count: int = struct.unpack_from("<I", a, 32)[0]
        return count

    # -- views ---------------------------------------------------------------------------
    def view(self, key: CodecSpec = None, value: CodecSpec = None) -> MapView:
        """A ``dict``-like view decoding keys and values with the given codecs."""
        return MapView(self, as_codec(key), as_codec(value))


def _batch_attr(
    map_fd: int,
    token_in: bytearray | None,
    token_out: bytearray | None,
    keys: bytearray | None,
    values: bytearray | None,
    count: int,
    elem_flags: int = 0,
) -> bytearray:
    a = sc.attr_buffer()
    struct.pack_into(
        "<QQQQIIQQ", a, 0, sc.address_of(token_in), sc.address_of(token_out),
        sc.address_of(keys), sc.address_of(values), count, map_fd, elem_flags, 0,
    )  # fmt: skip
    return a


def _safe_name(name: str) -> str:
    return name if _NAME_RE.match(name) else ""


if TYPE_CHECKING:
    _MapBase = MutableMapping[Any, Any]
else:  # Any is not imported at run time
    _MapBase = MutableMapping


class MapView(_MapBase):
    """``dict``-like access to a :class:`Map` through key and value codecs.

    Per-CPU maps give a list of decoded values (one per CPU); assigning a single value
    writes it to every CPU.
    """

    def __init__(self, m: Map, key: Codec, value: Codec) -> None:
        self.map = m
        self._k = key
        self._v = value

    def _dec(self, raw: bytes | list[bytes]) -> Any:
        if isinstance(raw, list):
            return [self._v.decode(r) for r in raw]
        return self._v.decode(raw)

    def __getitem__(self, key: Any) -> Any:
        raw = self.map.lookup(self._k.encode(key))
        if raw is None:
            raise KeyError(key)
        return self._dec(raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.map.spec.per_cpu and isinstance(value, list):
            self.map.update(self._k.encode(key), [self._v.encode(v) for v in value])
        else:
            self.map.update(self._k.encode(key), self._v.encode(value))

    def __delitem__(self, key: Any) -> None:
        try:
            found = self.map.delete(self._k.encode(key))
        except KernelError as e:
            if e.errno == E.EINVAL and self.map.spec.type in (
                MapType.ARRAY, MapType.PERCPU_ARRAY,
            ):  # fmt: skip
                raise UsageError(
                    f"map {self.map.spec.label}: array entries cannot be deleted"
                ) from None
            raise
        if not found:
            raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return (self._k.decode(k) for k in self.map.keys())

    def __len__(self) -> int:
        return sum(1 for _ in self.map.keys())

    def items_decoded(self) -> list[tuple[Any, Any]]:
        """All (key, value) pairs decoded, read with one pass of lookups."""
        return [(self._k.decode(k), self._dec(v)) for k, v in self.map.items()]


__all__ = ["PER_CPU_TYPES", "Map", "MapSpec", "MapView", "elem_attr"]
