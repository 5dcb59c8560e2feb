"""Processes in a tracing session: the ``-c`` child (held until every probe is attached),
the ``-p`` target (the run ends when it exits), and attaching the process-level probes
(uprobe, usdt, watchpoint) plus the kernel-function probes this kernel may lack.

The child is gated without ptrace: ``sh`` waits on a pipe, then ``exec``s the command, so
its pid -- ``cpid`` -- is known before the programs load and never changes.
"""

from __future__ import annotations

import os

from pybpf.errors import NotSupportedError, PybpfError, UsageError

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.bpf.prog import Program
    from pybpf.codegen.spec import ProgDef


WATCH_INTERVAL = 0.005
"""Seconds between checks of a traced process (exit, memory-map snapshot)."""


SCAN_INTERVAL = 0.1
"""Seconds between scans of user-stack map keys for new pids (system-wide runs)."""


class HeldChild:
    """``sh -c CMD`` started stopped at a gate; :meth:`release` lets it ``exec`` CMD."""

    def __init__(self, command: str) -> None:
        import subprocess  # only -c needs it: not imported at start-up

        r, w = os.pipe()
        # fd 3 is the gate: `read` returns when we write a line (or at EOF if we die).
        script = f"read -r _ <&3; exec 3<&-; exec {command}"
        try:
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                ["/bin/sh", "-c", script], pass_fds=(3,), preexec_fn=_dup_to_3(r)
            )
        except OSError as e:
            os.close(r)
            os.close(w)
            raise UsageError(f"cannot start '{command}': {e.strerror}") from None
        os.close(r)
        self._gate: int | None = w
        self.pid = self.proc.pid

    def release(self) -> None:
        """Let the child run its command."""
        if self._gate is not None:
            try:
                os.write(self._gate, b"go\n")
            except OSError:
                pass  # the child already died: poll() reports it
            os.close(self._gate)
            self._gate = None

    def exited(self) -> bool:
        """True once the child has exited (it is reaped here)."""
        return self.proc.poll() is not None

    def close(self) -> None:
        """Release the gate; terminate the child if it still runs."""
        if self._gate is not None:
            os.close(self._gate)
            self._gate = None
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def needs_user_symbols(script: Any) -> bool:
    """True when the script can print user symbols (user stacks, uprobe/usdt values)."""
    return any(m.startswith("ustacks") for m in script.maps) or any(
        p.provider in ("uprobe", "uretprobe", "usdt") for p in script.progs
    )


def _exe(pid: int) -> str | None:
    """The executable of process ``pid`` (None once it is gone)."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _dup_to_3(fd: int) -> Any:
    def dup() -> None:
        if fd != 3:
            os.dup2(fd, 3)

    return dup


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def check_pid(pid: int) -> None:
    """``-p PID`` must name a live process."""
    if pid <= 0 or not pid_alive(pid):
        raise UsageError(f"pid {pid} does not exist")


class ProcessWatch:
    """The processes of one session: the held ``-c`` child and the ``-p`` target.

    ``tick`` runs every poll of the run loop: it keeps a snapshot of the traced process's
    memory map (so its user stacks and symbols still resolve after it exits) and reports
    when the run must end.
    """

    def __init__(
        self, command: str | None, pid: int | None, symbols: bool, names: list[str] | None = None
    ) -> None:
        self.command = command
        self.target = pid or 0
        self.child: HeldChild | None = None
        self.symbols = symbols
        self._stack_maps = []
        from pybpf.runtime import usyms
        from pybpf.runtime.usyms import SYMBOLIZERS

        if names is not None:
            usyms.NAMES = names  # the probed functions' names ``func`` values point into

        self.symbolizers: dict[int, Any] = SYMBOLIZERS

    def start(self) -> None:
        """Check ``-p``; start the ``-c`` child held at its gate."""
        if self.target:
            check_pid(self.target)
        if self.command:
            self.child = HeldChild(self.command)

    @property
    def cpid(self) -> int:
        """The child's pid (0 without ``-c``)."""
        return self.child.pid if self.child is not None else 0

    @property
    def pid(self) -> int:
        """The pid probes are limited to (``-p``, else the ``-c`` child, else 0 = any)."""
        return self.target or self.cpid

    def release(self) -> None:
        """Let the child run (every probe is attached)."""
        if self.child is not None:
            before = _exe(self.child.pid)
            self.child.release()
            if self.symbols:
                self._await_exec(self.child.pid, before)

    def _await_exec(self, pid: int, before: str | None, limit: float = 0.05) -> None:
        """Snapshot the child's memory map from its exec until the dynamic loader has
        mapped its libraries (the map stops changing): a child that runs for less than one
        watch interval would otherwise leave only the shell's map behind, and its user
        stacks could not be symbolised after it exits."""
        import time

        end = time.monotonic() + limit
        seen, stable = -1, 0
        while time.monotonic() < end and stable < 4:
            exe = _exe(pid)
            if exe is None:
                return  # gone: the last snapshot stays
            if exe != before:
                self._snapshot(pid)
                sym = self.symbolizers.get(pid)
                n = len(sym._maps) if sym is not None else -1
                stable = stable + 1 if n == seen else 0
                seen = n
            time.sleep(0.0005)

    def track_stacks(self, defs: dict[str, Any], maps: dict[str, Any]) -> None:
        """Watch the maps whose keys hold user stacks: the pids found there get their
        memory map snapshotted while they live (system-wide runs, without -p/-c)."""
        from pybpf.passes.types import StackType, TupleType

        for name, d in defs.items():
            kt = d.key_type
            offs: list[int] = []
            if isinstance(kt, StackType) and kt.user:
                offs = [8]
            elif isinstance(kt, TupleType):
                offs = [o + 8 for o, e in zip(kt.offsets(), kt.elems, strict=False)
                        if isinstance(e, StackType) and e.user]  # fmt: skip
            if offs and name in maps:
                self._stack_maps.append((maps[name], offs))

    _stack_maps: list[tuple[Any, list[int]]]
    _next_scan = 0.0

    def _scan_stacks(self) -> None:
        import struct
        import time

        now = time.monotonic()
        if now < self._next_scan:
            return
        self._next_scan = now + SCAN_INTERVAL
        for m, offs in self._stack_maps:
            for key in m.keys():
                for off in offs:
                    (pid,) = struct.unpack_from("<Q", key, off)
                    if pid and pid not in self.symbolizers:
                        self._snapshot(pid)

    def tick(self) -> bool:
        """True when the traced process is gone (the run ends)."""
        if self.child is not None:
            done = self.child.exited()
        elif self.target:
            done = not pid_alive(self.target)
        else:
            if self._stack_maps:
                self._scan_stacks()
            return False
        if not done and self.symbols:
            self._snapshot(self.pid)
        return done

    def _snapshot(self, pid: int) -> None:
        from pybpf.elf.reader import ElfError
        from pybpf.elf.symbolize import Symbolizer

        try:
            sym = self.symbolizers.get(pid)
            if sym is None:
                self.symbolizers[pid] = Symbolizer(pid)
                return
            old = (sym._maps, sym._starts)
            sym.refresh()
            if not sym._maps:
                # An exiting process shows an empty map (its mm is gone): keep the last one.
                sym._maps, sym._starts = old
        except ElfError:
            pass  # exited between the check and the read: the last snapshot stays

    def close(self) -> None:
        """Terminate the child if it still runs."""
        if self.child is not None:
            self.child.close()


# -- attaching ---------------------------------------------------------------------------------
KERNEL_PROVIDERS = ("kprobe", "kretprobe", "fentry", "fexit")
PROVIDERS = frozenset(
    {"uprobe", "uretprobe", "usdt", "watchpoint", "asyncwatchpoint", *KERNEL_PROVIDERS}
)
"""Attach-point providers whose programs :func:`attach` attaches (and
:mod:`pybpf.codegen.userprobes` generates)."""


def attach(p: ProgDef, prog: Program, a: dict[str, object], pid: int) -> Any:
    """One link (or link group) for attach point ``a`` of program ``p``; ``pid`` 0 = all."""
    from pybpf import attach as at

    prov = p.provider
    if "multi" in a:
        return _attach_multi(prog, a, pid)
    if prov in ("uprobe", "uretprobe"):
        path, off = _uprobe_location(a)
        return at.attach_uprobe(prog, path, offset=off, retprobe=prov == "uretprobe",
                                pid=pid or -1)  # fmt: skip
    if prov == "usdt":
        return at.attach_uprobe(prog, str(a["target"]), offset=_int(a["offset"]),
                                pid=pid or -1, ref_ctr_offset=_int(a.get("semaphore", 0)))  # fmt: skip
    if prov in ("watchpoint", "asyncwatchpoint"):
        if not pid:
            raise UsageError(f"{p.label}: watchpoints need -p PID or -c CMD")
        if a.get("address") is None:
            raise NotSupportedError("watchpoint on a function argument", "give an address")
        return at.attach_watchpoint(prog, _int(a["address"]), _int(a["length"]) or 8,
                                    str(a["mode"]) or "w", pid=pid)  # fmt: skip
    if prov in KERNEL_PROVIDERS:
        return _attach_kernel(p, prog, a)
    raise PybpfError(f"cannot attach {prov} probes")


class _SharedLink:
    """Stands for a match attached through another entry's multi link (nothing to close)."""

    def close(self) -> None:
        """Nothing: the multi link owns the attachment."""


def _attach_multi(prog: Program, a: dict[str, object], pid: int) -> Any:
    from pybpf import attach as at

    funcs = a["multi"]
    if not isinstance(funcs, list) or not funcs:
        return _SharedLink()
    cookies = a.get("cookies")
    return at.attach_uprobe_multi(
        prog, str(a["target"]), symbols=[str(f) for f in funcs],
        retprobe=a["provider"] == "uretprobe", pid=pid,
        cookies=[int(c) for c in cookies] if isinstance(cookies, list) else (),
    )  # fmt: skip


def multi_attach_type(p: ProgDef) -> Any:
    """The ``expected_attach_type`` a program on a uprobe_multi link loads with, or None."""
    if p.attach and "multi" in p.attach[0]:
        from pybpf.bpf.syscall import AttachType

        return AttachType.TRACE_UPROBE_MULTI
    return None


def _int(v: object) -> int:
    return int(v) if isinstance(v, int | str) else 0


def _uprobe_location(a: dict[str, object]) -> tuple[str, int]:
    """(binary, file offset) of ``BIN:func``, ``BIN:func+off`` or ``BIN:0xADDR``."""
    from pybpf import elf
    from pybpf.attach.uprobe import function_offset
    from pybpf.elf.reader import ElfError, ElfFile

    path = elf.resolve_binary(str(a["target"]))
    off = _int(a.get("offset", 0))
    func = str(a.get("func") or "")
    try:
        if func:
            return path, function_offset(path, func, off)
        with ElfFile(path) as f:
            return path, f.vaddr_to_offset(_int(a.get("address"))) + off
    except ElfError as e:
        raise UsageError(f"uprobe {path}:{func or hex(_int(a.get('address')))}: {e}") from None


def _attach_kernel(p: ProgDef, prog: Program, a: dict[str, object]) -> Any:
    """kprobes/fentry: attach where the kernel can, else say what is missing (and a hint)."""
    from pybpf.attach.kprobe import attach_kprobe, kprobe_support

    func = str(a.get("func") or "")
    ret = p.provider in ("kretprobe", "fexit")
    if p.provider in ("fentry", "fexit"):
        raise ProbeUnavailable(
            p.provider, "BPF trampolines are not available here", tracepoint_for(func, ret)
        )
    ok, reason = kprobe_support()
    if not ok:
        raise ProbeUnavailable(p.provider, reason, tracepoint_for(func, ret))
    return attach_kprobe(prog, func, _int(a.get("offset", 0)),
                         retprobe=p.provider == "kretprobe")  # fmt: skip


class ProbeUnavailable(NotSupportedError):
    """A probe type this kernel lacks; ``hint`` names a tracepoint that does the job."""

    def __init__(self, feature: str, reason: str, tracepoint: str | None) -> None:
        super().__init__(feature, reason)
        self.hint = f"use {tracepoint} instead" if tracepoint else ""


def tracepoint_for(func: str, ret: bool = False) -> str | None:
    """The tracepoint that fires where kernel function ``func`` runs, when one exists.

    Syscall entry points (``__x64_sys_NAME``, ``__se_sys_NAME``, ``ksys_NAME``, ``sys_NAME``)
    map to ``syscalls:sys_enter_NAME`` (``sys_exit_NAME`` for ``ret``urn probes); a function
    named like a tracepoint maps to it.
    """
    from pybpf import tracefs

    try:
        tps = set(tracefs.list_tracepoints())
    except Exception:
        return None
    for prefix in ("__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_", "ksys_", "sys_"):
        if func.startswith(prefix):
            name = func[len(prefix) :]
            tp = f"sys_{'exit' if ret else 'enter'}_{name}"
            if ("syscalls", tp) in tps:
                return f"tracepoint:syscalls:{tp}"
    for cat, name in sorted(tps):
        if name == func:
            return f"tracepoint:{cat}:{name}"
    return None


__all__ = [
    "KERNEL_PROVIDERS",
    "PROVIDERS",
    "WATCH_INTERVAL",
    "HeldChild",
    "ProbeUnavailable",
    "ProcessWatch",
    "attach",
    "check_pid",
    "multi_attach_type",
    "needs_user_symbols",
    "pid_alive",
    "tracepoint_for",
]
