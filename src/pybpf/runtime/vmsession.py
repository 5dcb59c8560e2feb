"""``pybpftrace --vm``: a session whose maps and programs live in pybpf's userspace VM.

No kernel and no root: maps are VM maps, programs pass pybpf's own verifier and run in the
VM, the ring buffer is the VM's. Only probes that need no kernel event can run here: begin
and end (run once, as on the kernel) and interval (run by a timer in the run loop). Any
other probe is refused in one line before anything is loaded.
"""

from __future__ import annotations

import time
from typing import Any

from pybpf.bpf.maps import MapSpec
from pybpf.bpf.prog import ProgSpec
from pybpf.errors import PybpfError
from pybpf.session import POLL_TIMEOUT, Session

_VM_PROVIDERS = ("begin", "end", "interval")

# struct bpf_perf_event_data: pt_regs (168 bytes), sample_period, addr.
_PERF_CTX = b"\0" * 184


class VMSession(Session):
    """A :class:`~pybpf.session.Session` backed by :class:`pybpf.vm.hosted.VMBackend`."""

    verifier_name = "pybpf's verifier"
    # The VM finds callbacks from their ``lddw func`` targets; BTF is only for the kernel,
    # and loading it (BPF_BTF_LOAD) would need privilege --vm must not need.
    program_btf = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from pybpf.vm.hosted import VMBackend

        self.backend = VMBackend()
        self._timers: list[list[Any]] = []  # [due, period_s, program]

    def load(self) -> None:
        """Refuse kernel-only probes, then load everything into the VM."""
        for p in self.script.progs:
            if p.provider not in _VM_PROVIDERS:
                raise PybpfError(
                    f"{p.label}: --vm runs only begin, end and interval probes; "
                    "this probe needs the kernel"
                )
        super().load()

    def _create_map(self, spec: MapSpec) -> Any:
        return self.backend.create_map(spec)

    def _ring_buffer(self, m: Any) -> Any:
        return self.backend.ring_buffer(m)

    def _load_program(self, spec: ProgSpec) -> Any:
        return self.backend.load_program(spec)

    def attach(self, timers: bool) -> None:
        """Nothing attaches in the VM: interval programs are put on the run loop's timer."""
        if not timers:
            return
        now = time.monotonic()
        for p, prog in self.progs:
            for a in p.attach:
                unit, freq = str(a["unit"]), int(a["freq"])  # type: ignore[call-overload]
                if unit == "hz":
                    period = 1.0 / max(freq, 1)
                else:
                    period = int(a["period_ns"]) / 1e9  # type: ignore[call-overload]
                self._timers.append([now + period, period, prog])
                self.attached += 1

    def _loop(self) -> None:
        while not self.stop:
            now = time.monotonic()
            due = min((t[0] for t in self._timers), default=now + POLL_TIMEOUT)
            time.sleep(max(0.0, min(due - now, POLL_TIMEOUT)))
            for t in self._timers:
                if self.stop:
                    break
                if time.monotonic() >= t[0]:
                    t[2].test_run(ctx_in=_PERF_CTX, repeat=0)
                    t[0] += t[1]
                    self._drain()
            self._drain()


__all__ = ["VMSession"]
