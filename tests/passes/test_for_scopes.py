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


def _warnings(src: str) -> list[str]:
    r = compile_frontend(src, "t.bt", catalog=CAT)
    return [line for line in r.render().splitlines() if "WARNING" in line]


def _late(loc: str, name: str) -> str:
    """The warning for a 0.17-style read after the block that assigned the variable."""
    return (
        f"t.bt:{loc}: WARNING: Variable {name} is used after the block that assigned it "
        f"(line 1) has ended: accepted as bpftrace 0.17 did, but current bpftrace rejects "
        f"it; declare it first with 'let {name};'"
    )


def test_outer_variables_are_read_and_written_in_the_body() -> None:
    assert (
        _errors(
            'BEGIN { @m[1] = 1; $n = 0; $s = "x"; for ($kv : @m) { $n++; $s = "y"; } print($n); }'
        )
        == []
    )


def test_body_variable_read_after_the_loop_is_0_17_style() -> None:
    src = "BEGIN { @m[0] = 1; for ($kv : @m) { $x = 2; } print($x); }"
    assert _errors(src) == []
    assert _warnings(src) == [_late("1:53-55", "$x")]


def test_body_variable_is_visible_later_in_the_body() -> None:
    assert _errors("BEGIN { @m[0] = 1; for ($kv : @m) { $x = 2; if (1) { print($x); } } }") == []


def test_if_variable_in_the_body_read_after_the_if_is_0_17_style() -> None:
    src = "BEGIN { @m[0] = 1; for ($kv : @m) { if (1) { $x = 2; } print($x); } }"
    assert _errors(src) == []
    assert _warnings(src) == [_late("1:62-64", "$x")]


def test_range_loop_variable_is_scoped_to_the_loop() -> None:
    errs = _errors("BEGIN { for ($x : 0..5) { print($x); } print($x); }")
    assert errs == ["t.bt:1:46-48: ERROR: Undefined or undeclared variable: $x"]


def test_while_body_assignment_read_after_the_loop_is_0_17_style() -> None:
    # Current bpftrace scopes every block; 0.17 had one scope per probe.
    src = "BEGIN { $i = 1; while ($i) { $i--; $y = 1; } print($y); }"
    assert _errors(src) == []
    assert _warnings(src) == [_late("1:52-54", "$y")]


def test_let_in_a_block_stays_in_it() -> None:
    """``let`` is current bpftrace's: a read after its block is an error, not 0.17 style."""
    errs = _errors("BEGIN { if (1) { let $v = 1; } print($v); }")
    assert errs == ["t.bt:1:38-40: ERROR: Undefined or undeclared variable: $v"]
