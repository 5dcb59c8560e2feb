"""The inspector: what is loaded in the kernel, shaped like bpftool's output.

Data first: :mod:`pybpf.inspect.records` turns kernel object info into plain records;
:mod:`pybpf.inspect.text` renders them the way ``bpftool`` prints them (plain text), and
each record's ``as_json()`` gives bpftool's ``-j`` objects.
"""

from pybpf.inspect.records import (
    LinkRecord,
    MapRecord,
    ProgRecord,
    link_records,
    map_records,
    prog_records,
)

__all__ = [
    "LinkRecord",
    "MapRecord",
    "ProgRecord",
    "link_records",
    "map_records",
    "prog_records",
]
