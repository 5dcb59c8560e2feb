"""``python -m pybpf.export HOST:PORT SCRIPT [PARAMS...]``: the Prometheus exporter alone.

The same as ``pybpftrace --export prometheus=HOST:PORT SCRIPT``; SCRIPT is a file name, or
``-e 'PROGRAM'`` gives the program text.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the exporter, return the exit status."""
    p = argparse.ArgumentParser(prog="python -m pybpf.export", description=__doc__)
    p.add_argument("address", help="HOST:PORT to serve /metrics on (port 0: any free port)")
    p.add_argument("-e", dest="expr", metavar="PROGRAM", help="the script text")
    p.add_argument("file", nargs="?", help="script file")
    p.add_argument("params", nargs="*", help="positional parameters $1..$N")
    p.add_argument("--unsafe", action="store_true", help="allow system() and cat()")
    p.add_argument("--no-bpf-stats", action="store_true", help="leave bpf_stats off")
    args = p.parse_args(argv)

    from pybpf.cli.pybpftrace import ScriptError
    from pybpf.errors import PybpfError
    from pybpf.export.serve import parse_address, run_exporter

    try:
        host, port = parse_address(args.address)
        if args.expr is not None:
            if args.file is not None:
                args.params.insert(0, args.file)
            text, filename = args.expr, "stdin"
        elif args.file is None:
            raise PybpfError("no program given (use -e PROGRAM or a script file)")
        else:
            try:
                with open(args.file) as f:
                    text, filename = f.read(), args.file
            except OSError as e:
                raise PybpfError(f"cannot read {args.file}: {e.strerror}") from None
        return run_exporter(
            text,
            filename,
            args.params,
            host,
            port,
            unsafe=args.unsafe,
            bpf_stats=not args.no_bpf_stats,
        )
    except ScriptError as e:
        sys.stderr.write(str(e))
        return 1
    except PybpfError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
