"""Scopes of ``for ($kv : @map)`` bodies: the probe's variables are visible (read and
written); a variable first assigned in the body, or in a block inside it, is that block's
own (bpftrace's rules)."""

from __future__ import annotations

from pybpf.passes.pipeline import compile_frontend

from .fakes import FakeCatalog

CAT = FakeCatalog(with_btf=False)


def _errors(src: str) -> list[str]:
    r = compile_frontend(src, "t.bt", catalog=CAT)
    return [line for line in r.render().splitlines() if "ERROR" in line]


def test_outer_variables_are_read_and_written_in_the_body() -> None:
    assert (
        _errors(
            'BEGIN { @m[1] = 1; $n = 0; $s = "x"; for ($kv : @m) { $n++; $s = "y"; } print($n); }'
        )
        == []
    )


def test_body_variable_is_undefined_after_the_loop() -> None:
    errs = _errors("BEGIN { @m[0] = 1; for ($kv : @m) { $x = 2; } print($x); }")
    assert errs == ["t.bt:1:53-55: ERROR: Undefined or undeclared variable: $x"]


def test_body_variable_is_visible_later_in_the_body() -> None:
    assert _errors("BEGIN { @m[0] = 1; for ($kv : @m) { $x = 2; if (1) { print($x); } } }") == []


def test_if_variable_in_the_body_ends_with_the_if() -> None:
    errs = _errors("BEGIN { @m[0] = 1; for ($kv : @m) { if (1) { $x = 2; } print($x); } }")
    assert errs == ["t.bt:1:62-64: ERROR: Undefined or undeclared variable: $x"]


def test_range_loop_variable_is_scoped_to_the_loop() -> None:
    errs = _errors("BEGIN { for ($x : 0..5) { print($x); } print($x); }")
    assert errs == ["t.bt:1:46-48: ERROR: Undefined or undeclared variable: $x"]


def test_while_body_assignment_is_the_body_s_own() -> None:
    # Current bpftrace scopes every block (0.17 had one scope per probe).
    errs = _errors("BEGIN { $i = 1; while ($i) { $i--; $y = 1; } print($y); }")
    assert errs == ["t.bt:1:52-54: ERROR: Undefined or undeclared variable: $y"]
