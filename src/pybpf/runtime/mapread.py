"""Reading a script map from the kernel into the output layer's :class:`MapData`.

Entries come in batches (``BPF_MAP_LOOKUP_BATCH``: one system call per few thousand
entries instead of two per key, which dominated the exit of a run with a 10k-key map);
map types or kernels that refuse batches are walked key by key.

Per-CPU values are combined here (counts and sums added, min/max reduced over the CPUs that
have a value, avg/stats totals and counts added); hist/lhist keys carry the bucket index
after the script key, so entries are grouped by script key into bucket tables.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence

from pybpf.bpf.errs import ENOTSUPP
from pybpf.errors import KernelError
from pybpf.output.values import AvgStats, HistData, LhistData, MapData, MapKind
from pybpf.passes.types import INT64, IntType
from pybpf.runtime.present import StackResolver, present
from pybpf.runtime.values import decode_int, decode_value

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.bpf.maps import Map
    from pybpf.codegen.spec import MapDef

_KINDS = {k.value: k for k in MapKind}

BATCH = 4096
"""Entries asked for per ``BPF_MAP_LOOKUP_BATCH`` call."""

# Errors that mean "no batch lookup for this map": the map type has no batch operation
# (ENOTSUPP, EOPNOTSUPP) or the kernel predates it or rejects the attribute (EINVAL).
_NO_BATCH = (errno.EINVAL, ENOTSUPP, errno.EOPNOTSUPP, errno.ENOSYS)

# Map types seen refusing batches in this process: walked key by key from then on.
_unbatched: set[int] = set()


def entries(m: Map) -> Iterable[tuple[bytes, bytes | list[bytes]]]:
    """Every (key, value) of ``m``: batched where the kernel allows, else key by key."""
    spec = getattr(m, "spec", None)
    if spec is None or not hasattr(m, "lookup_batch"):
        return m.items()  # a wrapper (or test double) that reads its own way
    kind = int(spec.type)
    if kind not in _unbatched:
        try:
            return m.lookup_batch(chunk=max(1, min(BATCH, spec.max_entries)))
        except KernelError as e:
            if e.errno not in _NO_BATCH:
                raise
            _unbatched.add(kind)
    return m.items()


def _values(raw: bytes | list[bytes]) -> list[bytes]:
    return raw if isinstance(raw, list) else [raw]


def combine(d: MapDef, raw: bytes | list[bytes]) -> Any:
    """One entry's value, combined over CPUs."""
    vals = _values(raw)
    if d.agg in ("count", "sum", "hist", "lhist"):
        return sum(decode_int(v, 0, 8, d.agg == "sum") for v in vals)
    if d.agg in ("min", "max"):
        seen = [decode_int(v, 0, 8, True) for v in vals if decode_int(v, 8, 8, False)]
        if not seen:
            return 0
        return min(seen) if d.agg == "min" else max(seen)
    if d.agg in ("avg", "stats"):
        count = sum(decode_int(v, 0, 8, False) for v in vals)
        total = sum(decode_int(v, 8, 8, True) for v in vals)
        return AvgStats(total, count)
    return decode_value(d.value_type or INT64, vals[0], 0)


def _key(d: MapDef, raw: bytes, probe_names: Sequence[str], stacks: StackResolver | None) -> Any:
    if d.key_type is None:
        return None
    return present(d.key_type, decode_value(d.key_type, raw, 0), probe_names, stacks)


def read_map(
    d: MapDef, m: Map, probe_names: Sequence[str] = (), stacks: StackResolver | None = None
) -> MapData:
    """Every entry of script map ``d`` (live map ``m``) as :class:`MapData`."""
    kind = _KINDS.get(d.agg) if d.agg else None
    vt = d.value_type
    if kind is None:
        kind = MapKind.INT if isinstance(vt, IntType) else MapKind.VALUE
    scalar = d.key_type is None
    data = MapData(
        d.script_name, kind, scalar=scalar, signed=not isinstance(vt, IntType) or vt.signed
    )
    if d.agg in ("hist", "lhist"):
        tables: dict[Any, dict[int, int]] = {}
        keys: dict[Any, Any] = {}
        for kraw, vraw in entries(m):
            key = _key(d, kraw, probe_names, stacks)
            hk = repr(key)
            keys[hk] = key
            idx = decode_int(kraw, d.bucket_offset, 8, False)
            tables.setdefault(hk, {})
            tables[hk][idx] = tables[hk].get(idx, 0) + combine(d, vraw)
        for hk, buckets in tables.items():
            if d.agg == "hist":
                value: Any = HistData(buckets, d.params[0] if d.params else 0)
            else:
                lo, hi, step = d.params
                value = LhistData(buckets, lo, hi, step)
            data.entries.append((keys[hk], value))
        return data
    for kraw, vraw in entries(m):
        key = _key(d, kraw, probe_names, stacks)
        value = combine(d, vraw)
        if not d.agg:
            value = present(vt, value, probe_names, stacks)
        data.entries.append((key, value))
    return data


__all__ = ["BATCH", "combine", "entries", "read_map"]
