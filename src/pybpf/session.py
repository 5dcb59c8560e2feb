"""A tracing session: compiled script -> maps and programs loaded -> probes attached ->
BEGIN -> run loop -> END -> maps printed -> everything closed.

Every kernel object is registered with the session's :class:`contextlib.ExitStack` as it is
created, so it is closed (in reverse order: links first, then programs, then maps) on every
exit path: normal end, ``exit()``, an exception, SIGINT or SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import struct
import sys
import time
from collections.abc import Callable

from pybpf import procs
from pybpf.errors import NotSupportedError, PybpfError, VerifierError
from pybpf.records import dataclass
from pybpf.runtime.events import EventKind

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from typing import Any

    from pybpf.bpf.maps import Map, MapSpec
    from pybpf.bpf.prog import Program, ProgSpec
    from pybpf.bpf.ringbuf import RingBuffer
    from pybpf.codegen.spec import CompiledScript, ProgDef
    from pybpf.output.writer import Writer

_ID = struct.Struct("<Q")

POLL_TIMEOUT = 0.05
"""Seconds between ring-buffer polls when no wakeup comes (events are submitted quietly)."""

_MAP_TYPES = {
    "hash": "HASH",
    "percpu_hash": "PERCPU_HASH",
    "array": "ARRAY",
    "percpu_array": "PERCPU_ARRAY",
    "lru_hash": "LRU_HASH",
    "lru_percpu_hash": "LRU_PERCPU_HASH",
    "ringbuf": "RINGBUF",
    "stack_trace": "STACK_TRACE",
}
_PROG_TYPES = {
    "tracepoint": "TRACEPOINT",
    "raw_tracepoint": "RAW_TRACEPOINT",
    "perf_event": "PERF_EVENT",
    "kprobe": "KPROBE",
    "tracing": "TRACING",
}


@dataclass
class Options:
    """Run-time options of a session (from the command line)."""

    verbose: bool = False
    command: str | None = None
    pid: int | None = None
    notify: str | None = None
    quiet_attach: bool = False


class ProgramLoadError(PybpfError):
    """A program the verifier rejected, with the script location of the failing insn."""

    def __init__(self, message: str, span: object | None, log: str) -> None:
        super().__init__(message)
        self.span = span
        self.log = log


class Session:
    """Runs one compiled script (use as a context manager, or call :meth:`run`)."""

    #: Who checks the programs, for messages ("the kernel verifier rejected ...").
    verifier_name = "the kernel verifier"
    #: Load programs with BTF func_info/line_info (the script line of every instruction,
    #: readable later with ``pybpf prog dump xlated ID --source``).
    program_btf = True

    def __init__(
        self, script: CompiledScript, writer: Writer, options: Options | None = None
    ) -> None:
        self.script = script
        self.writer = writer
        self.opts = options or Options()
        self.stack = contextlib.ExitStack()
        self.maps: dict[str, Map] = {}
        self.progs: list[tuple[ProgDef, Program]] = []
        self.special: dict[str, list[Program]] = {"BEGIN": [], "END": []}
        self.ring: RingBuffer | None = None
        self.stop = False
        self.exit_code = 0
        self.child: subprocess.Popen[bytes] | None = None
        self.attached = 0
        self.links: list[Any] = []
        #: Iterator links, read to EOF once BEGIN has run (see pybpf.runtime.iters).
        self.iter_links: list[Any] = []
        self.watch = procs.ProcessWatch(
            self.opts.command, self.opts.pid, procs.needs_user_symbols(script), script.strings
        )
        # Snapshots of the traced process's maps (kept after it exits) serve the stacks.
        self._symbolizers: dict[int, Any] = self.watch.symbolizers
        self._handlers: dict[int, tuple[Any, Any]] = {}
        self._fast: dict[int, Callable[[memoryview], None]] = {}
        """Event id -> one-call printf writer, for plain printf events (built with the handler)."""

    # -- loading --------------------------------------------------------------------------------
    def load(self) -> None:
        """Create every map and load every program."""
        from pybpf.runtime import present as present_mod

        present_mod.STRINGS[:] = self.script.strings
        from pybpf.bpf.maps import MapSpec
        from pybpf.bpf.syscall import MapType

        for key, d in self.script.maps.items():
            spec = MapSpec(
                MapType[_MAP_TYPES[d.kind]], d.key_size, d.value_size, d.max_entries, name=d.name
            )
            try:
                m = self._create_map(spec)
            except PybpfError as e:
                label = d.script_name or d.name
                raise e.with_context(f"create map {label}") from None
            self.stack.callback(m.close)
            self.maps[key] = m
            for k, v in d.init.items():
                m.update(k, v)
        if "globals" in self.maps:
            self.maps["globals"].update(b"\0" * 4, struct.pack("<QQ", time.monotonic_ns(), 0))
        if "ringbuf" in self.maps:
            self.ring = self._ring_buffer(self.maps["ringbuf"])
            self.stack.callback(self.ring.close)
        for p in self.script.progs:
            prog = self._load_prog(p)
            if p.provider in ("begin", "end"):
                self.special[p.provider.upper()].append(prog)
            else:
                self.progs.append((p, prog))

    # Where kernel objects come from; a VM session (pybpf.runtime.vmsession) overrides these.
    def _create_map(self, spec: MapSpec) -> Map:
        from pybpf.bpf.maps import Map

        return Map.create(spec)

    def _ring_buffer(self, m: Map) -> RingBuffer:
        from pybpf.bpf.ringbuf import RingBuffer

        return RingBuffer(m)

    def _load_program(self, spec: ProgSpec) -> Program:
        from pybpf.bpf.prog import Program

        return Program.load(spec, stats=self.opts.verbose)

    def _load_prog(self, p: ProgDef) -> Program:
        from pybpf.asm.insn import Insn
        from pybpf.bpf.prog import ProgSpec
        from pybpf.bpf.syscall import ProgType

        insns = list(p.code.insns)
        for idx, mapname in p.code.map_relocs.items():
            i = insns[idx]
            fd = self.maps[_script_key(self.script, mapname)].fd
            insns[idx] = Insn(i.opcode, i.dst, i.src, i.off, (i.imm & ~0xFFFFFFFF) | fd, i.span)
        extra: dict[str, Any] = {}
        btf_fd = None
        if self.program_btf and (p.code.functions or self.script.source):
            from pybpf.runtime import btfinfo

            if p.btf is None:
                p.btf = btfinfo.func_btf_data(p.code.functions, p.code.insns, self.script.source)
            try:
                btf_fd, extra = btfinfo.load(p.btf)
            except PybpfError:
                if p.code.functions:
                    raise  # callbacks cannot load without func_info
                btf_fd, extra = None, {}  # line info is a convenience; load without it
        if p.provider == "iter":
            extra.update(_iter_load_attrs(str(p.attach[0]["func"])))
        elif p.prog_type == "tracing":
            # tp_btf: a TRACING program bound at load time to btf_trace_<name>.
            from pybpf.attach.tracepoint import tp_btf_id
            from pybpf.bpf.syscall import AttachType

            extra["expected_attach_type"] = AttachType.TRACE_RAW_TP
            extra["attach_btf_id"] = tp_btf_id(str(p.attach[0]["func"]))
        if procs.multi_attach_type(p) is not None:
            extra["expected_attach_type"] = procs.multi_attach_type(p)
        spec = ProgSpec(
            ProgType[_PROG_TYPES[p.prog_type]],
            tuple(insns),
            label=p.label,
            name=_prog_name(p),
            **extra,
        )
        try:
            prog = self._load_program(spec)
        except VerifierError as e:
            from pybpf.codegen.unsafe import missing_helper

            msg = f"{self.verifier_name} rejected {p.label}: {_verdict(e.log) or e.last_line}"
            msg = missing_helper(e.log) or msg  # signal/override/write_user: name the helper
            raise ProgramLoadError(msg, _failing_span(e.log, insns), e.log) from None
        finally:
            if btf_fd is not None:
                btf_fd.close()  # the loaded program holds its own reference
        self.stack.callback(prog.close)
        if self.opts.verbose and prog.verifier_log:
            print(f"{p.label}: {prog.verifier_log.strip().splitlines()[-1]}", file=sys.stderr)
        return prog

    # -- attaching ------------------------------------------------------------------------------
    def attach(self, timers: bool) -> None:
        """Attach the timer probes (``timers``) or every other probe program."""
        from pybpf import attach as at

        for p, prog in self.progs:
            if (p.provider in ("interval", "profile")) != timers:
                continue
            for a in p.attach:
                prov = p.provider
                if prov == "tracepoint" and p.prog_type == "raw_tracepoint":
                    link: Any = at.attach_raw_tracepoint(prog, str(a["name"]))
                elif prov == "tracepoint":
                    tp_id = a.get("id")
                    link = at.attach_tracepoint(
                        prog,
                        str(a["category"]),
                        str(a["name"]),
                        tp_id=tp_id if isinstance(tp_id, int) else None,
                    )
                elif prov == "rawtracepoint":
                    link = at.attach_raw_tracepoint(prog, str(a["func"]))
                elif prov == "tp_btf":
                    link = at.attach_tp_btf(prog)
                elif prov == "iter":
                    link = at.attach_iter(prog)
                    self.iter_links.append(link)
                elif prov in ("interval", "profile"):
                    from pybpf.attach.perf_event import attach_perf_event

                    freq = int(a["freq"])  # type: ignore[call-overload]
                    unit = str(a["unit"])
                    cpus = [0] if prov == "interval" else None
                    if unit == "hz":
                        link = attach_perf_event(prog, "cpu-clock", frequency=freq, cpus=cpus)
                    else:
                        period = int(a["period_ns"])  # type: ignore[call-overload]
                        link = attach_perf_event(prog, "cpu-clock", period=period, cpus=cpus)
                elif prov == "software":
                    from pybpf.attach.perf_event import attach_perf_event

                    count = int(a["freq"]) or 1000  # type: ignore[call-overload]
                    link = attach_perf_event(prog, str(a["target"]), period=count)
                elif prov in procs.PROVIDERS:
                    link = procs.attach(p, prog, a, self.watch.pid)
                else:
                    raise PybpfError(f"cannot attach {prov} probes")
                self.stack.callback(link.close)
                self.links.append(link)
                self.attached += 1

    def probe_count(self) -> int:
        """Attach points as bpftrace counts them (BEGIN and END included)."""
        n = sum(len(p.syscall_filter) or len(p.attach) for p, _ in self.progs)
        return n + len(self.special["BEGIN"]) + len(self.special["END"])

    # -- running --------------------------------------------------------------------------------
    def run(self) -> int:
        """The whole session; returns the exit status."""
        old = self._install_signals()
        try:
            with self.stack:
                self._run()
        finally:
            self._restore_signals(old)
        return self.exit_code

    def _run(self) -> None:
        self.watch.start()
        self.stack.callback(self.watch.close)
        if self.watch.cpid and "cpid" in self.script.maps:
            self.script.maps["cpid"].init = {b"\0" * 4: struct.pack("<Q", self.watch.cpid)}
        self.load()
        self.watch.track_stacks(self.script.maps, self.maps)
        # Event probes are live before BEGIN runs (bpftrace's guarantee); timers (interval,
        # profile) start right after it, so a fast timer cannot call exit() before BEGIN's
        # own output is out.
        self.attach(timers=False)
        if not self.opts.quiet_attach:
            self.writer.attached_probes(self.probe_count())
        if self.opts.notify:
            print(self.opts.notify, flush=True)
        self._run_special("BEGIN")
        self.attach(timers=True)
        if self.iter_links:
            from pybpf.runtime.iters import run_iterators

            run_iterators(self)
        self.watch.release()
        if self.watch.child is not None:
            self.child = self.watch.child.proc
        self._loop()
        self._detach()
        # Events still queued after exit() or a signal are dropped, like bpftrace; END's own
        # events are then handled normally.
        self._drain(discard=True)
        self.ring_open = False
        self._run_special("END")
        self._drain()
        self.writer.end()
        self._print_maps()
        self._report_lost()
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            self.child.wait()

    def _detach(self) -> None:
        """Stop the probes before END runs (links close here, programs later)."""
        # The ExitStack also holds these callbacks; closing twice is harmless.
        for link in reversed(self.links):
            link.close()

    def _run_special(self, which: str) -> None:
        for prog in self.special[which]:
            prog.test_run(ctx_in=b"\0" * 8, repeat=0)
            if which == "BEGIN":
                prog.close()  # it has run; like bpftrace, do not keep it loaded
                self._drain()

    def _install_signals(self) -> dict[int, Any]:
        def handler(signum: int, frame: object) -> None:
            self.stop = True

        old: dict[int, Any] = {}
        for s in (signal.SIGINT, signal.SIGTERM):
            old[s] = signal.signal(s, handler)
        return old

    def _restore_signals(self, old: dict[int, Any]) -> None:
        for s, h in old.items():
            signal.signal(s, h)

    def _loop(self) -> None:
        ring = self.ring
        # A traced process is watched closely: its memory map is snapshotted each round.
        close = self.watch.pid and self.watch.symbols
        timeout = procs.WATCH_INTERVAL if close else POLL_TIMEOUT
        while not self.stop:
            if ring is None:
                time.sleep(timeout)
            else:
                try:
                    ring.poll(self._on_record, timeout)
                except InterruptedError:
                    pass
                self.writer.out.flush()  # one write per batch of records, not per line
            if self.watch.tick():
                self.stop = True

    def _drain(self, discard: bool = False) -> None:
        if self.ring is not None:
            self.ring.consume((lambda rec: None) if discard else self._on_record)
            self.writer.out.flush()

    def _on_record(self, rec: memoryview) -> None:
        (eid,) = _ID.unpack_from(rec, 0)
        fast = self._fast.get(eid)
        if fast is not None:  # plain printf: decoded, formatted and written in one call
            if not (self._exited and self.ring_open):
                fast(rec)
            return
        handler = self._handlers.get(eid)
        if handler is None:
            handler = self._handler(eid)
        spec, decode = handler
        vals = decode(rec)
        kind = spec.kind
        w = self.writer
        if self._exited and kind is not EventKind.EXIT and self.ring_open:
            return  # after exit(), the rest of the queue is not processed
        if kind is EventKind.PRINTF:
            pyfmt = spec.info["pyfmt"]
            if pyfmt is not None:
                from pybpf.runtime.fastpath import wrap32

                w.printf_text(pyfmt % tuple(wrap32(vals, spec.info["pyfmt_wrap"])))
            else:
                w.printf(spec.info["parsed"], vals)
        elif kind is EventKind.EXIT:
            self.exit_code = int(vals[0]) if vals else 0
            self.stop = True
            self._exited = True
        elif kind is EventKind.PRINT_MAP:
            self._print_one(str(spec.info["map"]), int(spec.info["top"]), int(spec.info["div"]))
        elif kind is EventKind.PRINT_VALUE:
            w.print_value(vals[0])
        elif kind is EventKind.TIME:
            w.time(time.strftime(str(spec.info["fmt"])))
        elif kind in (EventKind.CLEAR, EventKind.ZERO):
            self._clear(str(spec.info["map"]), zero=kind is EventKind.ZERO)
        elif kind is EventKind.JOIN:
            from pybpf.runtime.events import decode_join

            w.join(decode_join(rec, str(spec.info["sep"])))
        elif kind is EventKind.SYSTEM:
            from pybpf.output import format_printf

            cmd = format_printf(str(spec.info["fmt"]), vals)
            import subprocess  # only system() needs it: not imported at start-up

            res = subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False)
            w.system(res.stdout)
        elif kind is EventKind.CAT:
            from pybpf.output import format_printf

            path = format_printf(str(spec.info["fmt"]), vals)
            try:
                with open(path, errors="replace") as f:
                    w.cat(f.read())
            except OSError as e:
                print(f"cat: {path}: {e.strerror}", file=sys.stderr)

    _exited = False
    #: Plain printf events go straight to ``writer.printf_text`` (one call per record);
    #: subclasses whose writers want the format and arguments turn this off.
    printf_as_text = True
    #: False once the run loop is over (END's events are processed even after exit()).
    ring_open = True

    def _print_one(self, name: str, top: int = 0, div: int = 0) -> None:
        from pybpf.runtime.mapread import read_map

        d = self.script.maps[name]
        data = read_map(d, self.maps[name], self.script.probe_names, self._stack)
        self.writer.print_map(data, top, div)

    def _clear(self, name: str, zero: bool) -> None:
        """``clear(@m)`` deletes every key; ``zero(@m)`` keeps the keys with zero values."""
        m = self.maps[name]
        d = self.script.maps[name]
        for k in list(m.keys()):
            if not zero:
                m.delete(k)
            elif d.per_cpu:
                from pybpf.bpf.cpus import num_possible_cpus

                m.update(k, [b"\0" * d.value_size] * num_possible_cpus())
            else:
                m.update(k, b"\0" * d.value_size)

    def _print_maps(self) -> None:
        from pybpf.runtime.mapread import read_map

        names = self.script.probe_names
        datas = [
            read_map(self.script.maps[n], self.maps[n], names, self._stack)
            for n in self.script.print_order
        ]
        self.writer.print_maps(datas)

    def _handler(self, eid: int) -> tuple[Any, Any]:
        """Build (once) the decoder of event ``eid``; printf formats are parsed here."""
        from pybpf.output import parse as parse_format
        from pybpf.runtime.fastpath import decoder, int32_slots, printf_writer, simple_printf

        spec = self.script.events.specs.get(eid)
        if spec is None:
            raise PybpfError(f"ring buffer: unknown event id {eid}")
        if spec.kind is EventKind.PRINTF and "parsed" not in spec.info:
            spec.info["parsed"] = parse_format(str(spec.info["fmt"]))
            pyfmt = simple_printf(str(spec.info["fmt"]), spec)
            spec.info["pyfmt"] = pyfmt
            spec.info["pyfmt_wrap"] = int32_slots(pyfmt, spec) if pyfmt is not None else ()
        h = (spec, decoder(spec, self.script.probe_names, self._stack))
        self._handlers[eid] = h
        pyfmt = spec.info.get("pyfmt") if spec.kind is EventKind.PRINTF else None
        if pyfmt is not None and self.printf_as_text:
            fast = printf_writer(spec, str(pyfmt), spec.info["pyfmt_wrap"], self.writer.printf_text)
            if fast is not None:
                self._fast[eid] = fast
        return h

    def _stack(self, t: Any, sid: int, pid: int) -> str:
        """Render stack ``sid`` from the stack-trace map (symbolised)."""
        from pybpf.codegen.stacks import stack_map_name
        from pybpf.runtime.stacks import render_stack

        m = self.maps.get(stack_map_name(t.user, t.limit))
        return render_stack(m, t, sid, pid, self._symbolizers)

    def _report_lost(self) -> None:
        g = self.maps.get("globals")
        if g is None:
            return
        raw = g.lookup(b"\0" * 4)
        lost = struct.unpack_from("<Q", raw, 8)[0] if isinstance(raw, bytes) else 0
        if lost:
            self.writer.lost_events(lost)


def _iter_load_attrs(target: str) -> dict[str, Any]:
    """Load attributes of an ``iter:<target>`` program: BPF_TRACE_ITER on bpf_iter_<target>."""
    from pybpf.attach.btfids import KIND_FUNC, vmlinux_type_id
    from pybpf.bpf.syscall import AttachType

    tid = vmlinux_type_id(f"bpf_iter_{target}", KIND_FUNC)
    if tid is None:
        raise NotSupportedError(f"iter:{target}", f"no bpf_iter_{target} in kernel BTF")
    return {"expected_attach_type": AttachType.TRACE_ITER, "attach_btf_id": tid}


def _script_key(script: CompiledScript, kernel_name: str) -> str:
    if kernel_name in script.maps:
        return kernel_name
    for k, d in script.maps.items():
        if d.name == kernel_name:
            return k
    raise KeyError(kernel_name)


def _prog_name(p: ProgDef) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_]", "_", p.name)[:15]


_STATE_LINE = re.compile(
    r"^(\d+: |\d+:|R\d|old state|cur state|from \d+|processed |verification |;|mark_precise|last_idx|frame\d|func#)"
)


def _verdict(log: str) -> str:
    """The verifier's reason for rejecting (the last line that is not a state dump)."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line and not _STATE_LINE.match(line):
            return line
    return ""


def _failing_span(log: str, insns: list[Any]) -> object | None:
    """The span of the instruction the verifier stopped at (last ``N: (..)`` line)."""
    import re

    from pybpf.asm.insn import slot_offsets

    last = None
    for m in re.finditer(r"^(\d+): \(", log, re.M):
        last = int(m.group(1))
    if last is None:
        return None
    offs = slot_offsets(insns)
    for i, o in enumerate(offs):
        if o == last:
            span: object | None = insns[i].span
            return span
    return None


_ = (os, Callable)
__all__ = ["Options", "ProgramLoadError", "Session"]
