"""The bpftrace language: preprocessor, lexer, parser, AST, printers and probe listing.

Entry points:

- :func:`pybpf.lang.parser.parse` (text, filename) -> ``ParseResult(program, diags, source)``
- :mod:`pybpf.lang.ast`: node classes (every node has ``span``; expressions a ``type``)
- :func:`pybpf.lang.dump.dump_ast` (node, types=False): ``-d ast`` text in bpftrace's shape
- :func:`pybpf.lang.printer.format_program`: ``--fmt`` canonical source (re-parses to the
  same tree)
- :func:`pybpf.lang.listing.list_probes` (pattern, verbose, catalog): ``-l``/``-lv`` lines

Semantic analysis lives in :mod:`pybpf.passes` (``compile_frontend``).
"""
