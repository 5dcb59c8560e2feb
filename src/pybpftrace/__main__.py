"""``python -m pybpftrace`` runs the bpftrace-compatible tracer."""

import sys

from pybpf.cli.pybpftrace import main

sys.argv[0] = "pybpftrace"
raise SystemExit(main())
