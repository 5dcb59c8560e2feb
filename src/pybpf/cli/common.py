"""What every CLI entry point shares: one way to turn failures into one line and a status."""

from __future__ import annotations

import sys
from collections.abc import Callable

from pybpf.errors import PybpfError


def guarded(prog: str, body: Callable[[], int]) -> int:
    """Run ``body``; print a ``PybpfError`` as one ``prog: ERROR: ...`` line (status 1).

    Ctrl-C gives status 130 without a traceback; a broken stdout pipe (``| head``) is quiet.
    """
    try:
        return body()
    except PybpfError as e:
        print(f"{prog}: ERROR: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Quietly stop writing: point stdout at devnull so the interpreter's final flush
        # does not raise again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
