"""What every pass gets: the diagnostics bag, options, the probe catalog, shared results.

The catalog (:class:`Catalog`) is how passes learn about the system: tracepoints and their
formats, kernel functions, BTF, ELF symbols and USDT notes.  :class:`SystemCatalog` asks the
running system (lazily: nothing is read until a pass needs it); tests pass their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from pybpf.diag import DiagnosticBag, SourceFile
from pybpf.records import dataclass, field

if TYPE_CHECKING:
    from pybpf.btf import Spec
    from pybpf.passes.resources import Resources
    from pybpf.passes.types import Type
    from pybpf.tracefs import TracepointFormat


class Catalog(Protocol):
    """The system facts passes need (inject a fake for tests)."""

    def tracepoints(self) -> list[tuple[str, str]]:
        """Every tracepoint as (category, name)."""
        ...

    def tracepoint_format(self, category: str, name: str) -> TracepointFormat | None:
        """The format of one tracepoint, or None if it does not exist."""
        ...

    def btf(self) -> Spec | None:
        """Kernel BTF, or None when unavailable."""
        ...

    def kernel_functions(self) -> list[str]:
        """Traceable kernel function names (kallsyms text symbols, else BTF funcs)."""
        ...

    def has_kprobes(self) -> bool:
        """True when the kernel has kprobes (CONFIG_KPROBES)."""
        ...

    def elf_functions(self, path: str) -> list[str]:
        """Function symbols of an ELF binary or library (empty if unreadable)."""
        ...

    def usdt_probes(self, path: str) -> list[tuple[str, str]]:
        """USDT probes of a binary as (provider, name)."""
        ...

    def resolve_binary(self, name: str) -> str:
        """A uprobe target as a path (``libc`` -> ``/lib/x86_64-linux-gnu/libc.so.6``)."""
        ...


class SystemCatalog:
    """The running system, read lazily and cached."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def tracepoints(self) -> list[tuple[str, str]]:
        """Every tracepoint from tracefs (empty when tracefs is unavailable)."""

        def load() -> list[tuple[str, str]]:
            from pybpf import tracefs

            try:
                return tracefs.list_tracepoints()
            except Exception:
                return []

        result: list[tuple[str, str]] = self._once("tp", load)
        return result

    def tracepoint_format(self, category: str, name: str) -> TracepointFormat | None:
        """Parsed format file, or None."""
        from pybpf import tracefs

        try:
            return tracefs.tracepoint_format(category, name)
        except Exception:
            return None

    def btf(self) -> Spec | None:
        """Kernel BTF or None."""

        def load() -> Spec | None:
            try:
                from pybpf.btf import vmlinux

                return vmlinux()
            except Exception:
                return None

        spec: Spec | None = self._once("btf", load)
        return spec

    def kernel_functions(self) -> list[str]:
        """Kernel functions: kallsyms if readable, else BTF FUNC names."""

        def load() -> list[str]:
            names: list[str] = []
            try:
                with open("/proc/kallsyms") as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) >= 3 and parts[1] in "tT" and len(parts) == 3:
                            names.append(parts[2])
            except OSError:
                pass
            if names:
                return sorted(set(names))
            spec = self.btf()
            if spec is None:
                return []
            from pybpf.btf import Kind

            return sorted({n for i, n in spec.names() if spec.kind(i) == Kind.FUNC})

        result: list[str] = self._once("kfuncs", load)
        return result

    def has_kprobes(self) -> bool:
        """Whether the kprobe PMU exists."""
        import os

        return bool(
            self._once("kp", lambda: os.path.exists("/sys/bus/event_source/devices/kprobe"))
        )

    def elf_functions(self, path: str) -> list[str]:
        """Function symbols of ``path``."""

        def load() -> list[str]:
            try:
                from pybpf import elf

                # The binary's and its debug file's functions, as bpftrace lists them.
                return elf.function_names(path)
            except Exception:
                return []

        result: list[str] = self._once("elf:" + path, load)
        return result

    def usdt_probes(self, path: str) -> list[tuple[str, str]]:
        """USDT (provider, name) pairs of ``path``."""

        def load() -> list[tuple[str, str]]:
            try:
                from pybpf import elf

                return sorted({(p.provider, p.name) for p in elf.usdt_probes(path)})
            except Exception:
                return []

        result: list[tuple[str, str]] = self._once("usdt:" + path, load)
        return result

    def uprobe_function(self, path: str, func: str) -> Any:
        """DWARF parameters of ``func`` in ``path`` (a ``pybpf.elf.dwarf.Function``) or None.

        Optional in other catalogs: passes look it up with ``getattr``.
        """
        from pybpf.elf import dwarf

        return dwarf.function_info(path, func)

    def uprobe_struct(self, path: str, name: str, kind: str, near: str, everywhere: bool) -> Any:
        """DWARF struct ``name`` of ``path`` (a ``pybpf.elf.dwarf.DwType``) or None: from
        function ``near``'s compile unit, or any unit when ``everywhere``.

        Optional in other catalogs, like :meth:`uprobe_function`.
        """
        from pybpf.elf import dwarf

        return dwarf.struct_info(path, name, kind, near, everywhere)

    def has_debug_info(self, path: str) -> bool:
        """Whether ``path`` has DWARF (in itself or a separate debug file)."""
        from pybpf.elf import dwarf

        return dwarf.debug_info(path) is not None

    def resolve_binary(self, name: str) -> str:
        """Resolve a library short name through the ld.so cache; paths are kept."""
        try:
            from pybpf import elf

            return elf.resolve_binary(name)
        except Exception:
            return name


@dataclass
class Options:
    """Compile options from the command line."""

    params: list[str] = field(default_factory=list)
    unsafe: bool = False
    #: ``-p PID`` / ``-c CMD`` given: needed by some usdt/uprobe forms.
    pid: int | None = None
    #: Expand wildcards against the system (off for pure syntax checks).
    expand: bool = True


@dataclass
class PassContext:
    """Shared state of one compile."""

    source: SourceFile
    diags: DiagnosticBag
    options: Options = field(default_factory=Options)
    catalog: Catalog = field(default_factory=SystemCatalog)
    #: ``config = { ... }`` values after the config pass (defaults filled in).
    config: dict[str, int | str | bool] = field(default_factory=dict)
    #: Per probe index: the type of ``args`` (a RecordType) when the probe has one.
    probe_args: dict[int, Type] = field(default_factory=dict)
    #: Per probe index: the type of ``retval`` when known (fexit/uretprobe with BTF).
    probe_retval: dict[int, Type] = field(default_factory=dict)
    #: Per attach-point match name: the type of ``args`` there (wildcard probes differ).
    args_by_match: dict[str, Type] = field(default_factory=dict)
    #: Map name -> ``pybpf.passes.typecheck.MapTypes`` after the type pass.
    map_types: dict[str, Any] = field(default_factory=dict)
    #: Filled by the resources pass.
    resources: Resources | None = None
