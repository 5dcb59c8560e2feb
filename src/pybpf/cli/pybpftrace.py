"""``pybpftrace``: the bpftrace-compatible command line.

Imports are lazy so that ``--help``/``--version`` and the path to BEGIN stay fast.
Exit statuses follow bpftrace: 0 on success (or ``exit(code)``'s code), 1 on any error.
"""

from __future__ import annotations

import os
import sys

from pybpf.cli.options import USAGE_HINT, OptionError, Options, parse_args, print_help

# typing is not imported at run time (start-up cost); mypy reads this as True.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from pybpf.codegen.spec import CompiledScript

_SOURCE: Any = None
"""The script being run (for rendering verifier rejections at their script line)."""

VERSION = "pybpftrace v0.1.0 (bpftrace-compatible)"
NOTIFY_ENV = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"


def _source(args: Options) -> tuple[str, str]:
    """(script text, file name) from -e, a file, or stdin."""
    if args.expr is not None:
        if args.file is not None:
            args.params.insert(0, args.file)
        return args.expr, "stdin"
    if args.file is None:
        raise _Usage("no program given (use -e PROGRAM or a script file)")
    try:
        if args.file == "-":
            return sys.stdin.read(), "stdin"
        with open(args.file) as f:
            return f.read(), args.file
    except OSError as e:
        raise _Usage(f"cannot read {args.file}: {e.strerror}") from None
    except UnicodeDecodeError as e:  # a binary file given as the script: one line, no traceback
        raise _Usage(f"cannot read {args.file}: not UTF-8 text (byte {e.start})") from None


class _Usage(Exception):
    pass


def _frontend(
    text: str, filename: str, params: list[str], unsafe: bool = False
) -> tuple[Any, Any, Any, Any]:
    """Parse and analyse; returns (program, diags, source, resources or None)."""
    compile_frontend: Any = None
    try:
        from pybpf.passes.pipeline import compile_frontend
    except ImportError:
        pass
    if compile_frontend is not None:
        res = compile_frontend(text, filename, params, unsafe=unsafe)
        return res.program, res.diags, res.source, res.resources
    from pybpf.lang.parser import parse

    res = parse(text, filename)
    if not res.diags.has_errors():
        try:
            from pybpf.passes import params as params_pass
            from pybpf.passes.context import Options, PassContext

            ctx = PassContext(res.source, res.diags, Options(params=list(params)))
            params_pass.run(res.program, ctx)
        except Exception:
            pass
    return res.program, res.diags, res.source, None


def compile_script(
    text: str, filename: str, params: list[str], unsafe: bool, pid: int = 0, warn: bool = False
) -> CompiledScript:
    """Source text -> compiled script; language errors raise :class:`ScriptError`.

    With ``warn``, the front end's warnings go to stderr first, as bpftrace prints them
    (the command line does this unless ``--no-warnings``; the library does not write).
    """
    from pybpf.codegen import cache

    max_strlen = int(os.environ.get("BPFTRACE_MAX_STRLEN", "1024"))
    # Map sizes: the script's config block, else bpftrace's environment variables.
    env_keys = os.environ.get("BPFTRACE_MAX_MAP_KEYS") or os.environ.get("BPFTRACE_MAP_KEYS_MAX")
    where = cache.directory()
    key = ""
    if where is not None:
        key = cache.key(text, filename, tuple(params), unsafe, pid, max_strlen, env_keys)
        hit = cache.load(where, key)
        if hit is not None:
            script, warnings = hit
            if warn and warnings:
                sys.stderr.write(warnings)
            return script

    from pybpf.codegen.frame import CodegenError
    from pybpf.codegen.script import generate
    from pybpf.diag import Diagnostic, Severity, render_all

    program, diags, source, resources = _frontend(text, filename, params, unsafe)
    if diags.has_errors():
        raise ScriptError(render_all(diags.items, source))
    warnings = render_all(diags.warnings, source) if diags.warnings else ""
    if warn and warnings:
        sys.stderr.write(warnings)
    config = resources.config if resources is not None else {}
    max_keys = int(config.get("max_map_keys", 4096))
    if max_keys == 4096 and env_keys and env_keys.isdigit():  # 4096: the default
        max_keys = int(env_keys)
    try:
        script = generate(
            program,
            max_strlen=max_strlen,
            unsafe=unsafe,
            resources=resources,
            pid=pid,
            max_map_keys=max_keys,
        )
    except CodegenError as e:
        d = Diagnostic(Severity.ERROR, str(e), e.span)  # type: ignore[arg-type]
        raise ScriptError(render_all([d], source)) from None
    script.source = text
    from pybpf.runtime.btfinfo import func_btf_data

    for p in script.progs:  # part of the compiled script, so a cached run need not build it
        p.btf = func_btf_data(p.code.functions, p.code.insns, text)
    if where is not None and cache.cacheable(program, script):
        cache.store(where, key, script, warnings)
    return script


class ScriptError(Exception):
    """A rendered language diagnostic (already formatted, bpftrace-style)."""


def _open_output(args: Options) -> Any:
    # Strings hold bytes that are not UTF-8 as surrogate escapes (kernel strings, "\xff"
    # literals); they go out as those very bytes.
    if args.output:
        return open(args.output, "w", buffering=1, errors="surrogateescape")
    out: Any = sys.stdout
    if not hasattr(out, "reconfigure"):
        return out
    if args.buffering == "full":
        out.reconfigure(errors="surrogateescape")
        return out
    # The run loop flushes after every batch of events, which gives line-buffered
    # latency with one write() per batch instead of one per line.
    out.reconfigure(
        line_buffering=False, write_through=args.buffering == "none", errors="surrogateescape"
    )
    return out


def run(args: Options) -> int:
    """The command, after argument parsing."""
    if args.help:
        print_help()
        return 0
    if args.version:
        print(VERSION)
        return 0
    if args.info:
        print(
            f"System\n  OS: {os.uname().sysname} {os.uname().release}\n  Arch: {os.uname().machine}"
        )
        return 0
    if args.list is not None and args.expr is None:
        return _list(args.list if args.file is None else args.file, args.v)
    text, filename = _source(args)
    if args.export:
        from pybpf.export.serve import cli_export

        return cli_export(args.export, text, filename, args.params, args.unsafe)
    if args.list is not None:  # -l -e PROG: the probes the script would attach
        from pybpf.lang.listing import script_probes

        names, res = script_probes(text, filename, args.params)
        if res.diags.has_errors():
            raise ScriptError(res.render())
        print("\n".join(names))
        return 0
    if args.fmt:
        from pybpf.lang.parser import parse
        from pybpf.lang.printer import format_program

        parsed = parse(text, filename)
        if parsed.diags.has_errors():
            from pybpf.diag import render_all

            raise ScriptError(render_all(parsed.diags.items, parsed.source))
        sys.stdout.write(format_program(parsed.program))
        return 0
    if args.debug and "ast" in args.debug:
        program, _diags, _src, _res = _frontend(text, filename, args.params)
        from pybpf.lang.dump import dump_ast

        print(dump_ast(program))
        return 0
    script = compile_script(
        text, filename, args.params, args.unsafe, args.pid or 0, warn=not args.no_warnings
    )
    global _SOURCE
    from pybpf.diag import SourceFile

    _SOURCE = SourceFile(filename, text)
    if args.debug and ("codegen" in args.debug or "dis" in args.debug):
        _dump_code(script)
        return 0
    from pybpf.output import make_writer
    from pybpf.session import Options, Session

    out = _open_output(args)
    writer = make_writer(args.format, out, sys.stderr)
    opts = Options(
        verbose=args.v,
        command=args.command,
        pid=args.pid,
        notify=NOTIFY_ENV if os.environ.get(NOTIFY_ENV) else None,
        quiet_attach=args.q or args.format == "json",
    )
    if args.vm:
        from pybpf.runtime.vmsession import VMSession

        session: Session = VMSession(script, writer, opts)
    else:
        session = Session(script, writer, opts)
    if args.dry_run:
        with session.stack:
            session.load()
        return 0
    try:
        return session.run()
    finally:
        out.flush()


def _list(pattern: str, verbose: bool = False) -> int:
    """``-l [PATTERN]`` (``-lv``: with argument types): the front end's probe listing."""
    list_probes: Any = None
    try:
        from pybpf.lang.listing import list_probes
    except ImportError:
        pass
    if list_probes is not None:
        for name in list_probes(pattern, verbose):
            print(name)
        return 0
    import fnmatch

    from pybpf import tracefs

    for c, n in tracefs.list_tracepoints():
        name = f"tracepoint:{c}:{n}"
        if fnmatch.fnmatchcase(name, pattern) or pattern == "*":
            print(name)
    return 0


def _dump_code(script: CompiledScript) -> None:
    from pybpf.asm.disasm import disassemble
    from pybpf.asm.fmt import format_rfmt_line
    from pybpf.asm.insn import slot_offsets

    for p in script.progs:
        print(f"; {p.label} ({p.prog_type}, {p.code.slots()} insns)")
        insns = p.code.insns
        rows = zip(slot_offsets(insns), insns, disassemble(insns), strict=True)
        for n, (slot, i, rec) in enumerate(rows):
            text = format_rfmt_line(rec)
            if n in p.code.map_relocs:
                text += f"  ; map {p.code.map_relocs[n]}"
            where = f"  ; {i.span}" if i.span is not None else ""
            print(f"  {slot:4}: {text:<40}{where}")


def main(argv: list[str] | None = None) -> int:
    """The ``pybpftrace`` command line: returns its exit status (see :func:`console_main`)."""
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except OptionError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        if e.usage:
            print(USAGE_HINT, file=sys.stderr)
        return 1
    from pybpf.errors import PybpfError

    try:
        return run(args)
    except ScriptError as e:
        sys.stderr.write(str(e))
        return 1
    except _Usage as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    except PybpfError as e:
        from pybpf.session import ProgramLoadError

        if isinstance(e, ProgramLoadError) and e.span is not None and _SOURCE is not None:
            from pybpf.diag import Diagnostic, Severity, render

            d = Diagnostic(Severity.ERROR, str(e), e.span)  # type: ignore[arg-type]
            print(render(d, _SOURCE), file=sys.stderr)
        else:
            print(f"ERROR: {e}", file=sys.stderr)
        if getattr(e, "hint", ""):
            print(f"HINT: {e.hint}", file=sys.stderr)  # type: ignore[attr-defined]
        if args.v and isinstance(e, ProgramLoadError):
            print(e.log, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # `pybpftrace ... | head`: stop quietly (point stdout at /dev/null for the final flush)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def console_main() -> None:
    """The ``pybpftrace`` command (console script, ``python -m``): :func:`main`, then exit.

    By the time main() returns the session has closed every kernel object it opened (its
    ExitStack), so the interpreter's own teardown, freeing every module one by one, buys
    nothing and costs about 8 ms of a 60 ms BEGIN-only run: the process ends with
    ``os._exit`` once the output is flushed. If anything registered an exit handler, the
    normal exit runs it instead. (Tests call main() in-process; this is for processes.)
    """
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader went away, or a stream is closed
        pass
    import atexit

    pending = getattr(atexit, "_ncallbacks", lambda: 1)()
    if pending == 0:
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    console_main()
