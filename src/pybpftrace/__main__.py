"""``python -m pybpftrace`` runs the bpftrace-compatible tracer."""

import sys

from pybpf.cli.pybpftrace import console_main

sys.argv[0] = "pybpftrace"
console_main()
