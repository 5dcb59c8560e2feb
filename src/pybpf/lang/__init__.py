"""The bpftrace language: lexer, parser, AST, printers and probe listing."""
