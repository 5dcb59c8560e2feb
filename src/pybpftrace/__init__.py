"""``python -m pybpftrace``: the tracer, for harnesses that run a module rather than a script.

The tracer itself lives in :mod:`pybpf.cli.pybpftrace`; this package only names it the way
the command is spelled (``../shared/bench`` runs ``python3 -m pybpftrace``).
"""
