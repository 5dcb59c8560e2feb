"""Semantic passes over the bpftrace AST (run in order by ``pybpf.passes.pipeline``)."""
