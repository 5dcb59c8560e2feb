"""Running iterator probes: after BEGIN, each iterator link is read to EOF once.

Reading an iterator instance runs the probe program over every object (every task, every
open file ...); its ``printf`` events arrive on the ring buffer and are printed as they are
drained. Anything the program wrote to the seq_file itself is copied to the output as is.
A script whose only event probes are iterators then ends, like bpftrace's: END runs and
the maps are printed.
"""

from __future__ import annotations

from typing import Any


def run_iterators(session: Any) -> None:
    """Read every iterator of ``session`` to EOF, then stop the run if nothing else can
    fire (``session`` is a :class:`pybpf.session.Session`)."""
    for link in session.iter_links:
        if session.stop:
            break  # exit() in an earlier iterator
        data = link.read()
        if data:
            session.writer.out.write(data.decode(errors="replace"))
        session._drain()
    if all(p.provider == "iter" for p, _ in session.progs):
        session.stop = True


__all__ = ["run_iterators"]
