"""A pcap-filter expression as an XDP program: compile, translate, load, attach by BPF link.

:class:`XdpFilter` owns the counter map, the program and the link; ``close()`` (or leaving
the ``with`` block) detaches first, then closes the program and the map. The kernel also
detaches a link when the process dies, so even a SIGKILL leaves nothing attached.
"""

from __future__ import annotations

import socket
import struct
from types import TracebackType

from pybpf.bpf.link import Link, link_create
from pybpf.bpf.maps import Map, MapSpec
from pybpf.bpf.prog import Program, ProgSpec
from pybpf.bpf.syscall import AttachType, MapType, ProgType
from pybpf.cbpf.compiler import compile_filter
from pybpf.cbpf.to_ebpf import XDP_DROP, XDP_PASS, translate
from pybpf.errors import KernelError, UsageError

XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2


class XdpFilter:
    """``expr`` attached to ``iface``: matching packets get ``action``, the others the other."""

    def __init__(self, iface: str, expr: str, action: str = "drop") -> None:
        if action not in ("drop", "pass"):
            raise UsageError(f"--action must be drop or pass, not '{action}'")
        try:
            self.ifindex = socket.if_nametoindex(iface)
        except OSError:
            raise UsageError(f"no such interface '{iface}'") from None
        self.iface = iface
        self.action = action
        prog = compile_filter(expr)
        match, miss = (XDP_DROP, XDP_PASS) if action == "drop" else (XDP_PASS, XDP_DROP)
        self.map = Map.create(MapSpec(MapType.ARRAY, 4, 8, 2, name="cbpf_xdp_cnt"))
        self.prog: Program | None = None
        self.link: Link | None = None
        self.mode = ""
        try:
            insns = translate(prog, "xdp", match, miss, self.map.fd)
            self.prog = Program.load(ProgSpec(ProgType.XDP, tuple(insns), name="cbpf_xdp"))
            self.link = self._attach()
        except BaseException:
            self.close()
            raise

    def _attach(self) -> Link:
        assert self.prog is not None
        errors = []
        for mode, flags in (("native", XDP_FLAGS_DRV_MODE), ("generic", XDP_FLAGS_SKB_MODE)):
            try:
                fd = link_create(self.prog.fd, self.ifindex, AttachType.XDP, flags=flags,
                                 context=f"attach xdp ({mode}) to {self.iface}")  # fmt: skip
            except KernelError as e:
                errors.append(str(e))
                continue
            self.mode = mode
            return Link(fd, f"xdp:{self.iface}")
        raise KernelError("; ".join(errors))

    def counts(self) -> tuple[int, int]:
        """(matched, not matched) packets so far."""
        vals = []
        for key in (1, 0):
            raw = self.map.lookup(struct.pack("<I", key))
            vals.append(struct.unpack("<Q", raw)[0] if isinstance(raw, bytes) else 0)
        return vals[0], vals[1]

    def close(self) -> None:
        """Detach, then close the program and the map (safe to call twice)."""
        for obj in (self.link, self.prog, self.map):
            if obj is not None:
                obj.close()

    def __enter__(self) -> XdpFilter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
