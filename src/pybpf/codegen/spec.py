"""What code generation produces: plain data describing maps, programs and events.

Nothing here touches the kernel; :mod:`pybpf.session` turns it into live objects.
"""

from __future__ import annotations

from pybpf.records import dataclass, field
from pybpf.runtime.events import EventTable

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pybpf.codegen.emit import Code
    from pybpf.passes.types import Type


@dataclass
class MapDef:
    """One BPF map the script needs.

    ``kind``: the kernel map type name (``percpu_hash``, ``hash``, ``array``,
    ``percpu_array``, ``ringbuf``, ``stack_trace``). ``script_name`` is ``@x`` for script
    maps and ``""`` for internal ones (scratch, ring buffer, counters). ``agg`` names the
    aggregation (``count``, ``hist`` ...) or ``""`` for plain values; ``key_type`` is None
    for scalar maps (stored under a u64 zero key). For ``hist``/``lhist`` the kernel key is
    the script key followed by a u64 bucket index, and ``params`` holds the hist bits or the
    lhist (min, max, step).
    """

    name: str
    kind: str
    key_size: int
    value_size: int
    max_entries: int
    script_name: str = ""
    agg: str = ""
    key_type: Type | None = None
    value_type: Type | None = None
    params: tuple[int, ...] = ()
    #: Key offset of the bucket index in hist/lhist keys.
    bucket_offset: int = 0
    #: Entries user space writes right after creating the map (key bytes -> value bytes).
    init: dict[bytes, bytes] = field(default_factory=dict)

    @property
    def per_cpu(self) -> bool:
        """True when user space must combine one value per CPU."""
        return self.kind.startswith("percpu")


@dataclass
class ProgDef:
    """One BPF program: its attach point(s), program type and instructions."""

    name: str
    prog_type: str  # tracepoint, raw_tracepoint, perf_event, kprobe, syscall, tracing
    provider: str  # begin, end, tracepoint, rawtracepoint, interval, profile, software, uprobe ...
    code: Code
    attach: list[dict[str, object]] = field(default_factory=list)
    label: str = ""
    span: object | None = None
    #: For a syscall wildcard compiled onto raw_syscalls: syscall number -> probe name.
    syscall_filter: dict[int, str] = field(default_factory=dict)
    #: func_info/line_info BTF (bytes, ProgSpec fields), built once the source is known
    #: (see pybpf.runtime.btfinfo.func_btf_data); None: built when the program is loaded.
    btf: tuple[bytes, dict[str, object]] | None = None


@dataclass
class CompiledScript:
    """The whole compiled script."""

    progs: list[ProgDef] = field(default_factory=list)
    maps: dict[str, MapDef] = field(default_factory=dict)
    events: EventTable = field(default_factory=EventTable)
    #: Probe names by probe id (``probe`` builtin values).
    probe_names: list[str] = field(default_factory=list)
    max_strlen: int = 1024
    #: 2 MiB.  The kernel maps a ring buffer's data pages twice into the reader, all at mmap
    #: time, so the ring counts twice in peak RSS, and creating and mapping it costs start-up
    #: time (8 MiB: 3.5 ms, 2 MiB: under 1).  It holds 50k small printf records, half a
    #: second at 100k events/s, against a reader that polls every 50 ms and is woken when a
    #: quarter fills; bpftrace's perf buffers hold 256 KiB per CPU (BENCHMARKS.md).
    ringbuf_size: int = 1 << 21
    #: Script map names in the order bpftrace prints them at exit.
    print_order: list[str] = field(default_factory=list)
    #: Strings referred to by id from events (strftime formats, ...).
    strings: list[str] = field(default_factory=list)
    #: The script's text (for the line table loaded with each program).
    source: str = ""


__all__ = ["CompiledScript", "MapDef", "ProgDef"]
